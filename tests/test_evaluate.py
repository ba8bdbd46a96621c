"""The metric pinned on small hand-made plays."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from playparse.evaluate import TARGETS, Scores, evaluate


def line(who: list[str], text: str) -> dict[str, Any]:
    return {"kind": "line", "speaker_ids": who, "text": text}


def direction(text: str) -> dict[str, Any]:
    return {"kind": "direction", "speaker_ids": [], "text": text}


def truth_play() -> dict[str, Any]:
    """Two scenes, 20 line tokens (10 Anna, 10 Ben), 4 direction tokens."""
    return {
        "characters": [{"id": "anna", "name": "Anna"}, {"id": "ben", "name": "Ben"}],
        "acts": [
            {
                "scenes": [
                    {
                        "items": [
                            direction("A room two chairs"),
                            line(["anna"], "one two three four five"),
                            line(["ben"], "six seven eight nine ten"),
                        ]
                    },
                    {
                        "items": [
                            line(["anna"], "alpha beta gamma delta epsilon"),
                            line(["ben"], "zeta eta theta iota kappa"),
                        ]
                    },
                ]
            }
        ],
    }


def as_playbook(truth: dict[str, Any], ids: dict[str, str] | None = None) -> dict[str, Any]:
    """The same play written the way the parser writes it (playbook/v1), ids renamed."""
    ids = ids or {"anna": "p1", "ben": "p2"}
    return {
        "schema": "playbook/v1",
        "title": "T",
        "characters": [{"id": ids[c["id"]], "name": c["name"]} for c in truth["characters"]],
        "acts": [
            {
                "number": None,
                "title": None,
                "scenes": [
                    {
                        "items": [
                            {
                                "type": "line",
                                "character_ids": [ids[s] for s in i["speaker_ids"]],
                                "text": i["text"],
                            }
                            if i["kind"] == "line"
                            else {"type": "direction", "text": i["text"]}
                            for i in scene["items"]
                        ]
                    }
                    for scene in act["scenes"]
                ],
            }
            for act in truth["acts"]
        ],
    }


def items(play: dict[str, Any], scene: int) -> list[dict[str, Any]]:
    return play["acts"][0]["scenes"][scene]["items"]


def test_perfect_prediction_scores_one_everywhere() -> None:
    scores = evaluate(as_playbook(truth_play()), truth_play())
    assert scores == Scores(1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert scores.missed_targets() == {}


def test_ids_and_case_and_punctuation_do_not_matter() -> None:
    predicted = as_playbook(truth_play(), {"anna": "x", "ben": "y"})
    items(predicted, 1)[0]["text"] = "ALPHA, beta; Gamma... delta! EPSILON?"
    assert evaluate(predicted, truth_play()).as_dict() == dict.fromkeys(TARGETS, 1.0)


def test_wrong_speaker_costs_its_tokens() -> None:
    predicted = as_playbook(truth_play())
    items(predicted, 0)[2]["character_ids"] = ["p1"]  # Ben's first speech given to Anna
    scores = evaluate(predicted, truth_play())
    assert scores.speaker_accuracy == pytest.approx(15 / 20)
    assert scores.text_recall == 1.0 and scores.kind_accuracy == 1.0


def test_group_speech_spreads_weight_and_needs_the_whole_set() -> None:
    truth = truth_play()
    items(truth, 1)[1]["speaker_ids"] = ["anna", "ben"]
    predicted = as_playbook(truth_play())
    scores = evaluate(predicted, truth)
    assert scores.speaker_accuracy == pytest.approx(15 / 20)
    # Predicting the pair exactly scores it.
    exact = as_playbook(truth)
    assert evaluate(exact, truth).speaker_accuracy == 1.0


def test_dropped_line_lowers_recall_only() -> None:
    predicted = as_playbook(truth_play())
    del items(predicted, 1)[1]
    scores = evaluate(predicted, truth_play())
    assert scores.text_recall == pytest.approx(19 / 24)
    assert scores.text_precision == 1.0
    assert scores.speaker_accuracy == pytest.approx(15 / 20)


def test_duplicated_line_lowers_precision_only() -> None:
    predicted = as_playbook(truth_play())
    items(predicted, 1).append(copy.deepcopy(items(predicted, 1)[1]))
    scores = evaluate(predicted, truth_play())
    assert scores.text_precision == pytest.approx(24 / 29)
    assert scores.text_recall == 1.0 and scores.speaker_accuracy == 1.0


def test_direction_read_as_speech_lowers_kind_accuracy() -> None:
    predicted = as_playbook(truth_play())
    items(predicted, 0)[0] = {"type": "line", "character_ids": ["p1"], "text": "A room two chairs"}
    scores = evaluate(predicted, truth_play())
    assert scores.kind_accuracy == pytest.approx(20 / 24)
    assert scores.speaker_accuracy == 1.0


def test_missed_scene_lowers_scene_f1() -> None:
    predicted = as_playbook(truth_play())
    scenes = predicted["acts"][0]["scenes"]
    scenes[0]["items"] += scenes.pop(1)["items"]
    # One of two truth starts found, the one predicted start is right: P=1, R=1/2.
    assert evaluate(predicted, truth_play()).scene_f1 == pytest.approx(2 / 3)


def test_scene_start_within_three_tokens_counts_once() -> None:
    predicted = as_playbook(truth_play())
    scenes = predicted["acts"][0]["scenes"]
    # The second scene starts 3 tokens late, in the middle of a speech: still a hit.
    moved = {"type": "line", "character_ids": ["p1"], "text": "alpha beta gamma"}
    scenes[0]["items"].append(moved)
    scenes[1]["items"][0]["text"] = "delta epsilon"
    assert evaluate(predicted, truth_play()).scene_f1 == 1.0
    # Four tokens late is a miss: one of two predicted starts is right, one of two found.
    scenes[0]["items"][-1]["text"] = "alpha beta gamma delta"
    scenes[1]["items"][0]["text"] = "epsilon"
    assert evaluate(predicted, truth_play()).scene_f1 == pytest.approx(0.5)


def test_split_character_lowers_character_f1() -> None:
    predicted = as_playbook(truth_play())
    predicted["characters"].append({"id": "p3", "name": "BEN"})
    items(predicted, 1)[1]["character_ids"] = ["p3"]  # Ben under a second id
    scores = evaluate(predicted, truth_play())
    # Three predicted speakers map onto two truth ids: precision 2/3, recall 1.
    assert scores.character_f1 == pytest.approx(0.8)
    assert scores.speaker_accuracy == 1.0


def test_closer_name_breaks_a_tie() -> None:
    truth = truth_play()
    items(truth, 0)[1]["speaker_ids"] = ["anna", "ben"]
    items(truth, 1)[0]["speaker_ids"] = ["anna", "ben"]
    items(truth, 0)[2]["speaker_ids"] = ["anna", "ben"]
    items(truth, 1)[1]["speaker_ids"] = ["anna", "ben"]
    predicted = as_playbook(truth_play())
    predicted["characters"] = [{"id": "p1", "name": "Ben"}, {"id": "p2", "name": "Anna"}]
    # Every token is shared, so co-occurrence ties and the names decide: p1 -> ben.
    scores = evaluate(predicted, truth)
    assert scores.speaker_accuracy == 0.0
    assert scores.character_f1 == 1.0


def test_empty_prediction_scores_zero() -> None:
    empty = {"schema": "playbook/v1", "title": "T", "characters": [], "acts": []}
    scores = evaluate(empty, truth_play())
    assert scores.text_recall == 0.0 and scores.speaker_accuracy == 0.0
    assert scores.text_precision == 0.0 and scores.character_f1 == 0.0
