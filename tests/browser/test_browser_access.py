"""Accessibility of the main pages: axe-core (bundled in axe-playwright-python) finds nothing
serious or critical on the jobs page, a job, the play and one character's part."""

from __future__ import annotations

import json
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect
from temporalio.worker import Worker

from tests.api.test_job_control import Instrumented
from tests.api.test_jobs_api import submit, wait_until_final
from tests.browser.conftest import ARTIFACTS, Shot
from tests.conftest import Api
from tests.helpers import EXAMPLE

SERIOUS = {"serious", "critical"}
# WCAG 2.2 A and AA, and axe's best practices.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"],
    },
}


def described(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
    ]


async def check(page: Page, shot: Shot, path: str, step: str) -> list[str]:
    """Open `path`, check it with axe; the serious and critical violations, described.

    Every violation found, whatever its impact, is kept in artifacts/axe--STEP.json.
    """
    await page.goto(path)
    await expect(page.locator("main h1")).to_be_visible()
    await shot(step)
    results = await Axe().run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    report = ARTIFACTS / f"axe--{step}.json"
    report.write_text(json.dumps(violations, indent=1, ensure_ascii=False), encoding="utf-8")
    return described([v for v in violations if v["impact"] in SERIOUS])


async def test_the_main_pages_have_no_serious_accessibility_violations(
    page: Page, shot: Shot, api: Api, worker: Worker, provider: Instrumented
) -> None:
    done = (await submit(api, EXAMPLE.read_bytes(), EXAMPLE.name)).json()
    assert (await wait_until_final(api, done["id"]))["status"] == "completed"
    failed = (await submit(api, b"", "empty.txt")).json()
    assert (await wait_until_final(api, failed["id"]))["status"] == "failed"
    provider.delay = 0.5
    running = (await submit(api, EXAMPLE.read_bytes(), "running.txt", concurrency=1)).json()

    found = {
        "jobs": await check(page, shot, "/", "jobs"),
        "running job": await check(page, shot, f"/jobs/{running['id']}", "running"),
        "failed job": await check(page, shot, f"/jobs/{failed['id']}", "failed"),
        "play": await check(page, shot, f"/jobs/{done['id']}/play", "play"),
        "part": await check(
            page, shot, f"/jobs/{done['id']}/play?character=odoardo&cues=true", "part"
        ),
        "not found": await check(page, shot, "/jobs/job_nothing", "not-found"),
    }
    assert found == {name: [] for name in found}
    await api.http.post(f"/api/jobs/{running['id']}/cancel")
