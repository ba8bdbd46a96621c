"""Submitting plays and steering jobs in the browser: upload, progress, pause, resume, cancel."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect
from temporalio.worker import Worker

from tests.api.test_job_control import Instrumented
from tests.api.test_jobs_api import submit
from tests.browser.conftest import Shot
from tests.conftest import Api
from tests.helpers import EXAMPLE

JOB_URL = re.compile(r"/jobs/job_[0-9a-f]+$")
# A function, not an expression: the page's Content-Security-Policy forbids eval.
PROGRESS_ABOVE = "(least) => document.querySelector('#job-progress').value > least"


async def progress_of(page: Page) -> int:
    return int(await page.locator("#job-progress").evaluate("element => element.value"))


async def test_upload_watch_pause_and_resume_a_play(
    page: Page, shot: Shot, worker: Worker, provider: Instrumented
) -> None:
    provider.delay = 0.15  # about 55 chunks one at a time: the job runs for seconds
    intercept_file_choosers(page)
    await page.goto("/")
    async with page.expect_file_chooser() as chooser:
        await page.get_by_label("Play file").click()
    await (await chooser.value).set_files(EXAMPLE)
    await expect(page.get_by_text(f"Chosen: {EXAMPLE.name}")).to_be_visible()
    await page.get_by_label("Chunks at once").fill("1")
    await page.get_by_label("Priority").select_option("5")
    await shot("form-filled")
    await page.get_by_role("button", name="Parse the play").click()

    await expect(page).to_have_url(JOB_URL)
    await expect(page.get_by_role("heading", level=1)).to_have_text(EXAMPLE.name)
    state = page.locator("[data-state]")
    await expect(state).to_have_text("running")
    # The page follows the job live: the bar moves without a reload.
    await page.wait_for_function(PROGRESS_ABOVE, arg=4)
    await page.wait_for_function(PROGRESS_ABOVE, arg=await progress_of(page))
    await expect(page.get_by_text(re.compile(r"^\d+ of \d+ parsed"))).to_be_visible()
    await shot("running")

    pause = page.get_by_role("button", name="Pause")
    resume = page.get_by_role("button", name="Resume")
    await expect(resume).to_be_hidden()
    await pause.click()
    await expect(state).to_have_text("paused")
    await expect(resume).to_be_visible()
    await expect(pause).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text("The job is now paused.")
    paused_at = await progress_of(page)
    assert 0 < paused_at < 100
    await shot("paused")

    provider.delay = 0.0
    await resume.click()
    await expect(state).to_have_text("completed", timeout=30_000)
    assert await progress_of(page) == 100
    await expect(page.get_by_text("Nothing to do: the job has completed.")).to_be_visible()
    timeline = page.locator("[data-events] .kind")
    kinds = await timeline.all_inner_texts()
    assert kinds[0] == "submitted" and kinds[-1] == "completed"
    assert kinds.index("paused") < kinds.index("resumed")
    await shot("completed")
    await page.get_by_role("link", name="Read the play").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Emilia Galotti")


async def test_cancel_a_job_and_see_the_table_follow_along(
    page: Page, shot: Shot, api: Api, worker: Worker, provider: Instrumented
) -> None:
    provider.delay = 0.3
    await page.goto("/")
    job = (await submit(api, EXAMPLE.read_bytes(), "cancel-me.txt", concurrency=1)).json()
    # The new job appears in the table without a reload, and its state follows along.
    row = page.locator(f"tr[data-job-id='{job['id']}']")
    await expect(row).to_be_visible()
    await expect(row.locator("[data-field=status]")).to_have_text("running")
    await shot("table")

    await row.get_by_role("link", name="cancel-me.txt").click()
    await expect(page).to_have_url(JOB_URL)
    await page.get_by_role("button", name="Cancel").click()
    await expect(page.locator("[data-state]")).to_have_text("cancelled")
    await expect(page.get_by_role("button", name="Retry")).to_be_visible()
    for hidden in ("Pause", "Resume", "Cancel"):
        await expect(page.get_by_role("button", name=hidden)).to_be_hidden()
    await expect(page.locator("[data-events] .kind").last).to_have_text("cancelled")
    await shot("cancelled")

    await page.goto("/?status=cancelled")
    await expect(page.get_by_label("State")).to_have_value("cancelled")
    await expect(page.locator(f"tr[data-job-id='{job['id']}'] [data-field=status]")).to_have_text(
        "cancelled"
    )
    await page.get_by_label("File name contains").fill("no-such-play")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("No job matches.")).to_be_visible()


async def test_the_form_and_the_buttons_work_without_javascript(
    page_without_js: Page, worker: Worker, provider: Instrumented
) -> None:
    page = page_without_js
    provider.delay = 0.3
    await page.goto("/")
    await expect(page.get_by_text("You can also drop the file here.")).to_be_hidden()
    await page.get_by_label("Play file").set_input_files(EXAMPLE)
    await page.get_by_label("Chunks at once").fill("1")
    await page.get_by_role("button", name="Parse the play").click()
    await expect(page).to_have_url(JOB_URL)
    await expect(page.get_by_role("heading", level=1)).to_have_text(EXAMPLE.name)

    await page.get_by_role("button", name="Pause").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Pause requested: the chunks already running finish first."
    )
    await page.get_by_role("button", name="Cancel").click()
    # Without JavaScript the page shows the state when it was sent; reloading shows the news.
    state = page.locator("[data-state]")
    for _ in range(50):
        if await state.inner_text() == "cancelled":
            break
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(state).to_have_text("cancelled")
    await expect(page.get_by_role("button", name="Retry")).to_be_visible()

    # A problem comes back as the form with the reason in words.
    await page.goto("/")
    await page.get_by_label("Play file").set_input_files(
        files=[{"name": "picture.txt", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n"}]
    )
    await page.get_by_role("button", name="Parse the play").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "The file is not a PDF, DOCX or text file."
    )


def intercept_file_choosers(page: Page) -> None:
    """Have Playwright take over file choosers before any opens.

    Playwright turns interception on when the first listener is added, without waiting for
    the browser to confirm; a chooser opened at once (a key press is quick) can slip past.
    """
    page.on("filechooser", lambda chooser: None)


async def test_the_upload_form_works_from_the_keyboard(page: Page, shot: Shot) -> None:
    intercept_file_choosers(page)
    await page.goto("/")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    file_input = page.get_by_label("Play file")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await file_input.evaluate("element => element === document.activeElement"):
            break
    await expect(file_input).to_be_focused()
    async with page.expect_file_chooser() as chooser:
        await page.keyboard.press("Space")
    await (await chooser.value).set_files(EXAMPLE)
    await expect(page.get_by_text(f"Chosen: {EXAMPLE.name}")).to_be_visible()
    # On through the options to the button, and Enter sends the play.
    submit_button = page.get_by_role("button", name="Parse the play")
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await submit_button.evaluate("element => element === document.activeElement"):
            break
    await expect(submit_button).to_be_focused()
    await shot("focused-submit")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(JOB_URL)


async def test_a_play_dropped_on_the_form_is_chosen_and_sent(page: Page, worker: Worker) -> None:
    await page.goto("/")
    zone = page.locator("[data-dropzone]")
    await expect(page.get_by_text("You can also drop the file here.")).to_be_visible()
    dropped = await page.evaluate_handle(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "dropped.txt", { type: "text/plain" }));
            return transfer;
        }""",
        EXAMPLE.read_text(encoding="utf-8"),
    )
    await zone.dispatch_event("dragenter", {"dataTransfer": dropped})
    await expect(zone).to_have_class(re.compile(r"\bdragging\b"))
    await zone.dispatch_event("drop", {"dataTransfer": dropped})
    await expect(zone).not_to_have_class(re.compile(r"\bdragging\b"))
    await expect(page.get_by_text("Chosen: dropped.txt")).to_be_visible()
    await page.get_by_role("button", name="Parse the play").click()
    await expect(page).to_have_url(JOB_URL)
    await expect(page.get_by_role("heading", level=1)).to_have_text("dropped.txt")
