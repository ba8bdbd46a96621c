"""Reading a parsed play in the browser: contents, one character's lines, downloads."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import Page, expect
from temporalio.worker import Worker

from tests.api.test_jobs_api import submit, wait_until_final
from tests.browser.conftest import Shot
from tests.conftest import Api
from tests.helpers import EXAMPLE


async def completed_job(api: Api) -> str:
    job = (await submit(api, EXAMPLE.read_bytes(), EXAMPLE.name)).json()
    assert (await wait_until_final(api, job["id"]))["status"] == "completed"
    return str(job["id"])


async def test_read_navigate_filter_and_download_a_play(
    page: Page, shot: Shot, api: Api, worker: Worker, tmp_path: Path
) -> None:
    job_id = await completed_job(api)
    await page.goto(f"/jobs/{job_id}/play")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Emilia Galotti")
    await expect(page.locator(".play-title .author")).to_have_text("Gotthold Ephraim Lessing")
    cast = page.get_by_role("region", name="Characters").get_by_role("listitem")
    await expect(cast.first).to_have_text("Der Prinz, Prinz von Guastalla")
    await shot("top")

    # The contents lead to an act and to a scene.
    contents = page.get_by_role("navigation", name="Acts and scenes")
    await contents.get_by_role("link", name="Dritter Aufzug").click()
    await expect(page).to_have_url(f"{api.url}/jobs/{job_id}/play#act-3")
    await expect(page.locator("#act-3 > h2")).to_be_in_viewport()
    act_three = contents.get_by_role("listitem").filter(has_text="Dritter Aufzug")
    await act_three.get_by_role("link", name="Dritter Auftritt").click()
    heading = page.locator(":target > h3")
    await expect(heading).to_have_text("Dritter Auftritt")
    await expect(heading).to_be_in_viewport()
    assert page.url.endswith("#act-3-scene-4"), "the untitled opening of the act is scene 1"
    await expect(page.locator("#act-3-scene-4 .speech").first).to_be_visible()
    direction = page.locator("#act-3-scene-4 .direction").first
    assert await direction.evaluate("e => getComputedStyle(e).fontStyle") == "italic"
    await shot("scene")

    # One character's lines alone, with their cues.
    await page.get_by_label("Show the lines of").select_option(label="Odoardo")
    await page.get_by_label("with their cues").check()
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(f"{api.url}/jobs/{job_id}/play?character=odoardo&cues=true")
    own = page.locator(".speech:not(.cue) .speaker")
    assert set(await own.all_inner_texts()) == {"Odoardo"}
    assert await page.locator(".speech.cue").count() > 0
    assert await page.locator(".direction").count() == 0
    await shot("odoardo")

    # Downloads: the part as Markdown, the whole play as playbook/v1 JSON.
    async with page.expect_download() as markdown_download:
        await page.get_by_role("link", name="Markdown").click()
    markdown_file = await (await markdown_download.value).path()
    markdown = Path(markdown_file).read_text(encoding="utf-8")
    assert (await markdown_download.value).suggested_filename == "emilia-galotti-odoardo.md"
    assert markdown.startswith("# Emilia Galotti\n\n*Odoardo: lines with cues*\n")
    assert "**Odoardo:** Guten Morgen, meine Liebe!" in markdown

    async with page.expect_download() as json_download:
        await page.get_by_role("link", name="playbook/v1 JSON").click()
    assert (await json_download.value).suggested_filename == "emilia-galotti.playbook.json"
    playbook = json.loads(Path(await (await json_download.value).path()).read_text("utf-8"))
    assert playbook["schema"] == "playbook/v1" and playbook["title"] == "Emilia Galotti"
    assert len(playbook["acts"]) == 5

    await page.get_by_role("link", name="Show the whole play").click()
    async with page.expect_download() as script_download:
        await page.get_by_role("link", name="Plain script").click()
    script = Path(await (await script_download.value).path()).read_text("utf-8")
    assert script.startswith("EMILIA GALOTTI\n") and "\nFÜNFTER AUFZUG\n" in script


async def test_the_character_filter_is_a_link_that_works_without_javascript(
    page_without_js: Page, api: Api, worker: Worker
) -> None:
    page = page_without_js
    job_id = await completed_job(api)
    await page.goto(f"/jobs/{job_id}/play")
    await page.get_by_role("region", name="Characters").get_by_role("link", name="Conti").click()
    await expect(page).to_have_url(f"{api.url}/jobs/{job_id}/play?character=conti")
    assert set(await page.locator(".speech .speaker").all_inner_texts()) == {"Conti"}
