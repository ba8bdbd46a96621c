"""`playparse eval`: one playbook or a job against its truth, and a directory of cases."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from playparse.cli import app
from playparse.evaluate import TARGETS
from tests.api.test_jobs_api import submit, wait_until_final
from tests.conftest import Api
from tests.helpers import shared_plays

PLAYS = shared_plays()
PLAYPARSE = Path(sys.executable).parent / "playparse"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PLAY = """\
DIE PROBE
Ein Lustspiel

ERSTER AUFZUG

ERSTER AUFTRITT

ANNA.
Guten Morgen, Ben. Der Tag fängt gut an.

BEN.
Guten Morgen, Anna. Wie geht es dir heute?

ANNA.
Recht gut, danke.

    (Sie geht ab.)

ZWEITER AUFTRITT

BEN.
Nun bin ich allein, und niemand hört mich.
"""


def line(who: str, text: str) -> dict[str, Any]:
    return {"kind": "line", "speaker_ids": [who], "speaker_label": who.upper(), "text": text}


TRUTH: dict[str, Any] = {
    "title": "Die Probe",
    "characters": [{"id": "a", "name": "Anna"}, {"id": "b", "name": "Ben"}],
    "acts": [
        {
            "n": 1,
            "type": "act",
            "head": "ERSTER AUFZUG",
            "scenes": [
                {
                    "n": 1,
                    "type": "scene",
                    "head": "ERSTER AUFTRITT",
                    "items": [
                        line("a", "Guten Morgen, Ben. Der Tag fängt gut an."),
                        line("b", "Guten Morgen, Anna. Wie geht es dir heute?"),
                        line("a", "Recht gut, danke."),
                        {"kind": "direction", "speaker_ids": [], "text": "Sie geht ab."},
                    ],
                },
                {
                    "n": 2,
                    "type": "scene",
                    "head": "ZWEITER AUFTRITT",
                    "items": [line("b", "Nun bin ich allein, und niemand hört mich.")],
                },
            ],
        }
    ],
}


def playbook(*, one_speaker: bool = False) -> dict[str, Any]:
    """The truth written as the parser writes it; or with Anna speaking every line."""
    ids = {"a": "anna", "b": "anna"} if one_speaker else {"a": "anna", "b": "ben"}
    names = {"anna": "Anna", "ben": "Ben"}
    acts = []
    for act in TRUTH["acts"]:
        scenes = []
        for scene in act["scenes"]:
            items = [
                {"type": "line", "character_ids": [ids[i["speaker_ids"][0]]], "text": i["text"]}
                if i["kind"] == "line"
                else {"type": "direction", "text": i["text"]}
                for i in scene["items"]
            ]
            scenes.append({"number": scene["n"], "title": scene["head"], "items": items})
        acts.append({"number": act["n"], "title": act["head"], "scenes": scenes})
    return {
        "schema": "playbook/v1",
        "title": "Die Probe",
        "characters": [{"id": i, "name": n, "aliases": []} for i, n in names.items()],
        "acts": acts,
    }


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "truth": tmp_path / "truth.json",
        "good": tmp_path / "good.json",
        "wrong": tmp_path / "wrong.json",
    }
    paths["truth"].write_text(json.dumps(TRUTH), encoding="utf-8")
    paths["good"].write_text(json.dumps(playbook()), encoding="utf-8")
    paths["wrong"].write_text(json.dumps(playbook(one_speaker=True)), encoding="utf-8")
    return paths


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def test_a_playbook_that_meets_every_target_exits_0(files: dict[str, Path]) -> None:
    done = run("eval", files["good"], files["truth"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert [row.split()[0] for row in lines] == list(TARGETS)
    assert all(row.split()[1] == "1.0000" and row.endswith("ok") for row in lines)


def test_figures_below_target_exit_1_and_are_named(files: dict[str, Path]) -> None:
    done = run("eval", files["wrong"], files["truth"])
    assert done.exit_code == 1
    assert "speaker_accuracy  0.5926  target 0.97  BELOW" in done.stdout
    assert "text_recall       1.0000  target 0.99  ok" in done.stdout
    assert done.stderr.strip() == (
        "error: below target: speaker_accuracy 0.5926 < 0.97, character_f1 0.6667 < 0.90"
    )


def test_thresholds_can_be_overridden(files: dict[str, Path]) -> None:
    lowered = run(
        "eval",
        files["wrong"],
        files["truth"],
        "--min",
        "speaker_accuracy=0.5",
        "--min",
        "character_f1=0.6",
    )
    assert lowered.exit_code == 0, lowered.output
    assert "speaker_accuracy  0.5926  target 0.50  ok" in lowered.stdout
    only_one = run("eval", files["wrong"], files["truth"], "--min", "speaker_accuracy=0.5")
    assert only_one.exit_code == 1
    assert only_one.stderr.strip() == "error: below target: character_f1 0.6667 < 0.90"
    # A target of 1 is still met by a perfect playbook.
    strict = run(
        "eval", files["good"], files["truth"], "--min", "scene_f1=1", "--min", "kind_accuracy=1"
    )
    assert strict.exit_code == 0, strict.output
    for bad in ("speaker=0.9", "speaker_accuracy=high", "speaker_accuracy=1.5", "scene_f1"):
        done = run("eval", files["good"], files["truth"], "--min", bad)
        assert done.exit_code == 2 and done.stderr.startswith("error: --min"), bad


def test_json_output_has_the_scores_targets_and_what_was_missed(files: dict[str, Path]) -> None:
    done = run("eval", files["wrong"], files["truth"], "-o", "json", "--min", "scene_f1=0.5")
    assert done.exit_code == 1
    body = json.loads(done.stdout)
    assert set(body["scores"]) == set(TARGETS)
    assert body["targets"] == {**TARGETS, "scene_f1": 0.5}
    assert body["missed"] == ["character_f1", "speaker_accuracy"] and body["met"] is False


def test_usage_errors_exit_2(files: dict[str, Path], tmp_path: Path) -> None:
    assert run("eval").exit_code == 2
    assert run("eval", files["good"]).exit_code == 2
    assert run("eval", files["good"], files["truth"], "--all", tmp_path).exit_code == 2
    not_json = tmp_path / "notes.json"
    not_json.write_text("{not json", encoding="utf-8")
    done = run("eval", files["good"], not_json)
    assert done.exit_code == 2 and "cannot read the truth file" in done.stderr
    done = run("eval", tmp_path / "missing.json", files["truth"])
    assert done.exit_code == 2 and "cannot read the playbook" in done.stderr
    for broken, where in (
        ({"acts": [None]}, "acts[0] is not an object"),
        ({"acts": [{"scenes": [{"items": [{"text": 5}]}]}]}, "acts[0].scenes[0].items[0].text"),
        ({"acts": [], "characters": [{"name": "Anna"}]}, "characters[0].id is not a string"),
        ({"acts": [{"scenes": {"items": []}}]}, "acts[0].scenes is not a list"),
    ):
        odd = tmp_path / "odd.json"
        odd.write_text(json.dumps(broken), encoding="utf-8")
        done = run("eval", odd, files["truth"])
        assert done.exit_code == 2, broken
        assert f"the playbook {odd} is not a play: {where}" in done.stderr, done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run("eval", "--all", empty)
    assert done.exit_code == 2 and done.stderr.startswith("error: no cases under")


def make_case(root: Path, name: str, truth: dict[str, Any]) -> None:
    case = root / name
    case.mkdir(parents=True)
    (case / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    (case / "play.txt").write_text(PLAY, encoding="utf-8")


def test_all_runs_every_case_and_prints_a_table(tmp_path: Path) -> None:
    make_case(tmp_path, "probe", TRUTH)
    done = run("eval", "--all", tmp_path)
    assert done.exit_code == 0, done.output
    header, row = done.stdout.splitlines()
    assert header.split() == [
        "case",
        "file",
        "speaker",
        "recall",
        "precision",
        "kind",
        "scene_f1",
        "char_f1",
        "met",
    ]
    assert row.split() == ["probe", "play.txt", *["1.0000"] * 6, "yes"]


def test_all_exits_1_when_a_case_misses_and_json_gives_the_rows(tmp_path: Path) -> None:
    make_case(tmp_path, "probe", TRUTH)
    wrong = copy.deepcopy(TRUTH)
    for scene in wrong["acts"][0]["scenes"]:
        for item in scene["items"]:
            item["speaker_ids"] = ["b"] if item["speaker_ids"] == ["a"] else item["speaker_ids"]
    make_case(tmp_path, "wrong", wrong)
    done = run("eval", "--all", tmp_path, "-o", "json")
    assert done.exit_code == 1
    rows = json.loads(done.stdout)
    assert [(r["case"], r["file"], r["met"]) for r in rows] == [
        ("probe", "play.txt", True),
        ("wrong", "play.txt", False),
    ]
    # Every line given to Ben: the speaker ids still map, but two speakers are one now.
    assert rows[1]["missed"] == ["character_f1"]
    assert set(TARGETS) <= set(rows[0]) and rows[0]["error"] is None
    assert done.stderr.strip() == "error: 1 of 2 below target: wrong/play.txt"


def test_all_over_the_shared_plays_meets_every_target() -> None:
    if not PLAYS.is_dir():
        pytest.skip(f"no shared plays at {PLAYS}")
    done = run("eval", "--all", PLAYS, "-o", "json")
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)
    expected = {(p.parent.name, p.name) for p in PLAYS.glob("*/play*.txt")}
    assert {(row["case"], row["file"]) for row in rows} == expected
    assert all(row["met"] for row in rows), rows


async def playparse(url: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    done = await asyncio.to_thread(
        subprocess.run,
        [str(PLAYPARSE), *[str(arg) for arg in args]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PLAYPARSE_URL": url},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@sqlite_only
async def test_a_job_id_is_scored_from_the_api(
    api: Api, worker: Worker, files: dict[str, Path]
) -> None:
    job = (await submit(api, PLAY.encode(), "probe.txt")).json()
    assert (await wait_until_final(api, job["id"]))["status"] == "completed"
    done = await playparse(api.url, "eval", job["id"], files["truth"], "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["met"] is True

    missing = await playparse(api.url, "eval", "job_doesnotexist", files["truth"])
    assert missing.returncode == 3 and missing.stderr.startswith("error: ")
    unreachable = await playparse("http://127.0.0.1:9", "eval", job["id"], files["truth"])
    assert unreachable.returncode == 4
