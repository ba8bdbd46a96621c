"""Score playbooks and directories of annotated plays against their targets (`playparse eval`).

A case is a directory holding `truth.json` and one or more plays named `play*.txt`, `play*.pdf`
or `play*.docx`. Each play is parsed here as a job would parse it: the file's bytes through
`playparse.extraction.extract`, the text through `parse_text`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playparse.assemble import parse_text
from playparse.errors import PlayparseError
from playparse.evaluate import TARGETS, Scores, evaluate
from playparse.extraction import extract

TRUTH_FILE = "truth.json"
PLAY_SUFFIXES = (".txt", ".pdf", ".docx")
# Short column headings of the table, in the order of TARGETS.
HEADINGS = {
    "speaker_accuracy": "speaker",
    "text_recall": "recall",
    "text_precision": "precision",
    "kind_accuracy": "kind",
    "scene_f1": "scene_f1",
    "character_f1": "char_f1",
}


class EvalError(ValueError):
    """A threshold, a truth file or a playbook that `playparse eval` cannot use."""


def thresholds(overrides: Iterable[str] = ()) -> dict[str, float]:
    """The targets, with overrides written `NAME=VALUE` ("speaker_accuracy=0.9").

    Raises:
        EvalError: an override names no figure, or its value is not a number from 0 to 1.
    """
    targets = dict(TARGETS)
    for override in overrides:
        name, sep, value = override.partition("=")
        name = name.strip()
        if not sep or name not in targets:
            raise EvalError(
                f"--min takes NAME=VALUE with NAME one of {', '.join(TARGETS)}; got {override!r}"
            )
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0 <= number <= 1:
            raise EvalError(f"--min {name} needs a number from 0 to 1; got {value!r}")
        targets[name] = number
    return targets


def load_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object read from `path`; `what` names it in the error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise EvalError(f"cannot read the {what} {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("acts"), list):
        raise EvalError(f"the {what} {path} is not a play (no list of acts)")
    problem = _shape_problem(data)
    if problem is not None:
        raise EvalError(f"the {what} {path} is not a play: {problem}")
    return data


def _shape_problem(play: dict[str, Any]) -> str | None:
    """Where a play read from JSON breaks the shape the scoring walks, or None."""

    def objects(value: Any, where: str) -> list[tuple[str, dict[str, Any]]] | str:
        if value is None:
            return []
        if not isinstance(value, list):
            return f"{where} is not a list"
        for i, each in enumerate(value):
            if not isinstance(each, dict):
                return f"{where}[{i}] is not an object"
        return [(f"{where}[{i}]", each) for i, each in enumerate(value)]

    characters = objects(play.get("characters"), "characters")
    if isinstance(characters, str):
        return characters
    for where, character in characters:
        if not isinstance(character.get("id"), str):
            return f"{where}.id is not a string"
        if not isinstance(character.get("name"), str | None):
            return f"{where}.name is not a string"
    acts = objects(play["acts"], "acts")
    if isinstance(acts, str):
        return acts
    for act_at, act in acts:
        scenes = objects(act.get("scenes"), f"{act_at}.scenes")
        if isinstance(scenes, str):
            return scenes
        for scene_at, scene in scenes:
            items = objects(scene.get("items"), f"{scene_at}.items")
            if isinstance(items, str):
                return items
            for item_at, item in items:
                for key in ("text", "kind", "type"):
                    if not isinstance(item.get(key), str | None):
                        return f"{item_at}.{key} is not a string"
                for key in ("speaker_ids", "character_ids"):
                    ids = item.get(key)
                    if ids is not None and not (
                        isinstance(ids, list) and all(isinstance(i, str) for i in ids)
                    ):
                        return f"{item_at}.{key} is not a list of strings"
    return None


@dataclass(frozen=True)
class CaseResult:
    """One play of a case, scored (or the reason it could not be)."""

    case: str
    file: str
    targets: Mapping[str, float]
    scores: Scores | None = None
    error: str | None = None
    missed: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        missed = self.scores.missed_targets(self.targets) if self.scores else {}
        object.__setattr__(self, "missed", missed)

    @property
    def met(self) -> bool:
        return self.scores is not None and not self.missed

    def as_row(self) -> dict[str, Any]:
        """The row as JSON: case, file, the six figures, met, the figures missed, any error."""
        figures = self.scores.as_dict() if self.scores else dict.fromkeys(TARGETS)
        return {
            "case": self.case,
            "file": self.file,
            **figures,
            "met": self.met,
            "missed": sorted(self.missed),
            "error": self.error,
        }


def find_cases(directory: Path) -> list[tuple[Path, list[Path]]]:
    """The cases under `directory` (itself or its subdirectories), each with its play files."""
    cases = []
    for candidate in [directory, *sorted(p for p in directory.iterdir() if p.is_dir())]:
        plays = sorted(
            path
            for path in candidate.glob("play*")
            if path.is_file() and path.suffix.lower() in PLAY_SUFFIXES
        )
        if (candidate / TRUTH_FILE).is_file() and plays:
            cases.append((candidate, plays))
    return cases


async def parse_document(data: bytes) -> dict[str, Any]:
    """A play's file parsed as a job parses it, as a playbook/v1 document."""
    extracted = await extract(data)
    return await asyncio.to_thread(lambda: parse_text(extracted.text).export())


async def _run(
    cases: Sequence[tuple[Path, list[Path]]], targets: Mapping[str, float]
) -> list[CaseResult]:
    results = []
    for case, plays in cases:
        try:
            truth = load_json(case / TRUTH_FILE, "truth file")
        except EvalError as error:
            results += [CaseResult(case.name, p.name, targets, error=str(error)) for p in plays]
            continue
        for play in plays:
            try:
                playbook = await parse_document(await asyncio.to_thread(play.read_bytes))
            except (PlayparseError, OSError) as error:
                message = getattr(error, "message", None) or str(error)
                results.append(CaseResult(case.name, play.name, targets, error=message))
                continue
            scores = await asyncio.to_thread(evaluate, playbook, truth)
            results.append(CaseResult(case.name, play.name, targets, scores=scores))
    return results


def run_cases(directory: Path, targets: Mapping[str, float] = TARGETS) -> list[CaseResult]:
    """Parse and score every play of every case under `directory`.

    Raises:
        EvalError: the directory holds no case.
    """
    cases = find_cases(directory) if directory.is_dir() else []
    if not cases:
        raise EvalError(
            f"no cases under {directory}: a case is a directory with {TRUTH_FILE} "
            f"and play*.txt, play*.pdf or play*.docx"
        )
    return asyncio.run(_run(cases, targets))


def format_scores(scores: Scores, targets: Mapping[str, float]) -> list[str]:
    """One line per figure: name, value, target, and whether it is met."""
    missed = scores.missed_targets(targets)
    return [
        f"{name:<17} {value:.4f}  target {targets[name]:.2f}  {'BELOW' if name in missed else 'ok'}"
        for name, value in scores.as_dict().items()
    ]


def format_table(results: Sequence[CaseResult]) -> list[str]:
    """The results as lines of an aligned table: case, file, the six figures, met."""
    header = ["case", "file", *HEADINGS.values(), "met"]
    rows = []
    for result in results:
        if result.scores is None:
            cells = ["-"] * len(HEADINGS)
        else:
            cells = [f"{value:.4f}" for value in result.scores.as_dict().values()]
        rows.append([result.case, result.file, *cells, "yes" if result.met else "no"])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        left = [cell.ljust(width) for cell, width in zip(row[:2], widths, strict=False)]
        right = [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        return "  ".join(left + right).rstrip()

    lines = [line(header)] + [line(row) for row in rows]
    lines += [f"{r.case}/{r.file}: {r.error}" for r in results if r.error]
    return lines


def missed_summary(missed: Mapping[str, float], targets: Mapping[str, float]) -> str:
    """The figures below target, e.g. "speaker_accuracy 0.8512 < 0.97"."""
    return ", ".join(f"{name} {value:.4f} < {targets[name]:.2f}" for name, value in missed.items())
