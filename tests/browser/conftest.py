"""Browser tests: the page in Debian's Chromium, headless, driven by Playwright.

Playwright never downloads a browser here: it launches the `chromium` on PATH, which
scripts/test.sh installs with apt-get when it is missing. Without one the tests are skipped
with the reason, except under CI=true, where they fail. The service is the real one (API over
HTTP, worker, Temporal dev server) on a SQLite database of its own; the worker's parser is the
instrumented heuristic of the job-control tests, so a test can keep a job running.

Every test leaves a screenshot of its last page in tests/browser/artifacts/ (more at the steps
it names), and fails if the page logged a JavaScript error or a blocked resource.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    async_playwright,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.db.migrate import upgrade
from tests.api.test_job_control import Instrumented, provider, worker  # noqa: F401  (fixtures)
from tests.conftest import IN_CI, Api

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 20_000

Shot = Callable[[str], Coroutine[Any, Any, None]]
_skipped: list[str] = []


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        reason = (
            "no `chromium` on PATH: scripts/test.sh installs Debian's package when run as "
            "root (apt-get install chromium); Playwright's own browser download is not used"
        )
        if IN_CI:
            pytest.fail(f"{reason} (CI=true requires the browser tests)")
        _skipped.append(reason)
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        await browser.close()


# The service: one SQLite database for the browser tests, the instrumented parser.


@pytest_asyncio.fixture(scope="session")
async def browser_engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    path = tmp_path_factory.mktemp("browser") / "playparse.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(browser_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(browser_engine)


@pytest.fixture
def settings(browser_engine: AsyncEngine, task_queue: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=str(browser_engine.url),
        task_queue=task_queue,
        data_dir=tmp_path,
        extraction_timeout_s=30,
    )


# Pages.


def _artifact_name(request: pytest.FixtureRequest, step: str) -> Path:
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    return ARTIFACTS / f"{test}--{step}.png"


def _console(message: ConsoleMessage, problems: list[str]) -> None:
    # Failed loads are judged from the responses: a page answered 4xx on purpose (a form
    # sent back with its problems) is no fault.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(f"console: {message.text} ({message.location.get('url')})")


def _response(response: Response, problems: list[str]) -> None:
    if response.status >= 400 and response.request.resource_type != "document":
        problems.append(f"{response.request.resource_type} {response.url}: {response.status}")


async def _open_page(
    browser: Browser, api: Api, request: pytest.FixtureRequest, **options: Any
) -> AsyncIterator[Page]:
    context: BrowserContext = await browser.new_context(
        base_url=api.url, accept_downloads=True, viewport={"width": 1200, "height": 900}, **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: _console(message, problems))
    page.on("response", lambda response: _response(response, problems))
    try:
        yield page
        assert not problems, problems
    finally:
        if not page.is_closed():
            await page.screenshot(path=_artifact_name(request, "last"), full_page=False)
        await context.close()


@pytest_asyncio.fixture
async def page(browser: Browser, api: Api, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh browser tab on the service, JavaScript on."""
    async for opened in _open_page(browser, api, request):
        yield opened


@pytest_asyncio.fixture
async def page_without_js(
    browser: Browser, api: Api, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh browser tab on the service with JavaScript turned off."""
    async for opened in _open_page(browser, api, request, java_script_enabled=False):
        yield opened


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Shot:
    """Save a screenshot of the page at a named step of the test."""

    async def take(step: str) -> None:
        # The whole page unless it is a whole play, whose picture would take seconds.
        height = await page.evaluate("() => document.documentElement.scrollHeight")
        await page.screenshot(path=_artifact_name(request, step), full_page=height < 4000)

    return take


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped:
        terminalreporter.write_sep("!", "browser tests were SKIPPED", yellow=True)
        terminalreporter.write_line(_skipped[0])
