"""Score a playbook against ground truth with the metric of shared/plays/README.md."""

from __future__ import annotations

import bisect
import difflib
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

TARGETS: dict[str, float] = {
    "speaker_accuracy": 0.97,
    "text_recall": 0.99,
    "text_precision": 0.98,
    "kind_accuracy": 0.97,
    "scene_f1": 0.95,
    "character_f1": 0.90,
}

# A predicted scene start counts when it lands this close to an unclaimed truth scene start.
SCENE_TOLERANCE = 3

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Scores:
    """The six figures of the metric, each between 0 and 1."""

    speaker_accuracy: float
    text_recall: float
    text_precision: float
    kind_accuracy: float
    scene_f1: float
    character_f1: float

    def as_dict(self) -> dict[str, float]:
        """The figures by name, in the order of `TARGETS`."""
        return asdict(self)

    def missed_targets(self, targets: Mapping[str, float] = TARGETS) -> dict[str, float]:
        """The figures below their target in `targets` (by default `TARGETS`)."""
        return {
            name: value
            for name, value in self.as_dict().items()
            if name in targets and value < targets[name]
        }


@dataclass(frozen=True)
class _Stream:
    tokens: list[int]
    is_line: list[bool]
    speakers: list[frozenset[str]]
    scene_starts: list[int]
    names: dict[str, str]
    speaking: set[str]


def _stream(play: Mapping[str, Any], vocabulary: dict[str, int]) -> _Stream:
    """Flatten a playbook/v1 document or a truth.json into tokens in reading order."""
    tokens: list[int] = []
    is_line: list[bool] = []
    speakers: list[frozenset[str]] = []
    scene_starts: list[int] = []
    speaking: set[str] = set()
    for act in play.get("acts") or []:
        for scene in act.get("scenes") or []:
            first = len(tokens)
            for item in scene.get("items") or []:
                kind = item.get("kind") or item.get("type")
                line = kind == "line"
                who = frozenset(item.get("speaker_ids") or item.get("character_ids") or ())
                if line:
                    speaking |= who
                for word in _WORD.findall(item.get("text") or ""):
                    tokens.append(vocabulary.setdefault(word.casefold(), len(vocabulary)))
                    is_line.append(line)
                    speakers.append(who if line else frozenset())
            if len(tokens) > first:
                scene_starts.append(first)
    names: dict[str, str] = {
        c["id"]: c.get("name") or c["id"] for c in play.get("characters") or []
    }
    return _Stream(tokens, is_line, speakers, scene_starts, names, speaking)


def _f1(matched: int, predicted: int, expected: int) -> float:
    if predicted == 0 and expected == 0:
        return 1.0
    if matched == 0:
        return 0.0
    precision, recall = matched / predicted, matched / expected
    return 2 * precision * recall / (precision + recall)


def _name_closeness(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.casefold(), b.casefold(), autojunk=False).ratio()


def _speaker_map(pairs: Sequence[tuple[int, int]], truth: _Stream, pred: _Stream) -> dict[str, str]:
    """Map each predicted id to the truth id it shares the most aligned line tokens with."""
    weight: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for i, j in pairs:
        if not (truth.is_line[i] and pred.is_line[j]):
            continue
        t_set, p_set = truth.speakers[i], pred.speakers[j]
        if not t_set or not p_set:
            continue
        # A group speech spreads one token's weight over every pair of its speakers.
        share = 1.0 / (len(t_set) * len(p_set))
        for p in p_set:
            for t in t_set:
                weight[p][t] += share
    mapping: dict[str, str] = {}
    for p, row in weight.items():
        p_name = pred.names.get(p, p)

        def rank(t: str, row: dict[str, float] = row, p_name: str = p_name) -> tuple[float, float]:
            return round(row[t], 9), _name_closeness(p_name, truth.names.get(t, t))

        mapping[p] = max(sorted(row), key=rank)
    return mapping


def _project(j: int, blocks: Sequence[difflib.Match], b_starts: Sequence[int]) -> int:
    """Where predicted token j falls in the truth stream, through the alignment."""
    k = bisect.bisect_right(b_starts, j) - 1
    if k >= 0 and j < blocks[k].b + blocks[k].size:
        return blocks[k].a + (j - blocks[k].b)
    a_end = b_end = 0
    if k >= 0:
        a_end, b_end = blocks[k].a + blocks[k].size, blocks[k].b + blocks[k].size
    if k + 1 < len(blocks):
        # An unaligned token sits inside the gap between two aligned blocks.
        gap = blocks[k + 1].a - a_end
        return a_end + min(j - b_end, max(gap - 1, 0))
    return a_end + (j - b_end)


def _scene_f1(truth: _Stream, pred: _Stream, blocks: Sequence[difflib.Match]) -> float:
    b_starts = [block.b for block in blocks]
    projected = {j: _project(j, blocks, b_starts) for j in pred.scene_starts}
    candidates = sorted(
        (abs(projected[j] - s), j, s)
        for j in pred.scene_starts
        for s in truth.scene_starts
        if abs(projected[j] - s) <= SCENE_TOLERANCE
    )
    used_pred: set[int] = set()
    used_truth: set[int] = set()
    for _, j, s in candidates:
        if j not in used_pred and s not in used_truth:
            used_pred.add(j)
            used_truth.add(s)
    return _f1(len(used_pred), len(pred.scene_starts), len(truth.scene_starts))


def evaluate(predicted: Mapping[str, Any], truth: Mapping[str, Any]) -> Scores:
    """Score a predicted playbook against a ground-truth play.

    Args:
        predicted: a playbook/v1 document (`Playbook.export()`).
        truth: a truth.json document of shared/plays (a playbook/v1 document works too).

    Returns:
        The six figures defined in shared/plays/README.md.
    """
    vocabulary: dict[str, int] = {}
    t = _stream(truth, vocabulary)
    p = _stream(predicted, vocabulary)
    matcher = difflib.SequenceMatcher(None, t.tokens, p.tokens, autojunk=False)
    blocks = [block for block in matcher.get_matching_blocks() if block.size]
    pairs = [(b.a + k, b.b + k) for b in blocks for k in range(b.size)]
    mapping = _speaker_map(pairs, t, p)

    aligned = len(pairs)
    same_kind = sum(1 for i, j in pairs if t.is_line[i] == p.is_line[j])
    right_speaker = sum(
        1
        for i, j in pairs
        if t.is_line[i]
        and p.is_line[j]
        and {mapping.get(x, f"\0{x}") for x in p.speakers[j]} == t.speakers[i]
    )
    truth_lines = sum(t.is_line)

    mapped = {mapping[x] for x in p.speaking if x in mapping}
    return Scores(
        speaker_accuracy=right_speaker / truth_lines if truth_lines else float(not sum(p.is_line)),
        text_recall=aligned / len(t.tokens) if t.tokens else 1.0,
        text_precision=aligned / len(p.tokens) if p.tokens else float(not t.tokens),
        kind_accuracy=same_kind / aligned if aligned else float(not t.tokens and not p.tokens),
        scene_f1=_scene_f1(t, p, blocks),
        character_f1=_f1(len(mapped & t.speaking), len(p.speaking), len(t.speaking)),
    )
