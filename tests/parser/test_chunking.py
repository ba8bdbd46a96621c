"""Chunk planning: exact cover of the text, cuts before speeches, bounded sizes."""

from __future__ import annotations

import pytest

from playparse.chunking import MAX_TARGET, MIN_PREFIX, MIN_TARGET, Chunk, plan_chunks


def labels_alone(speeches: int) -> str:
    """A play with the speaker alone on a line and a blank line between speeches."""
    return "".join(
        f"{'HAMLET' if n % 2 else 'OPHELIA'}.\nSpeech number {n} is spoken here, and it runs on\n"
        f"over a second line of the page.\n\n"
        for n in range(speeches)
    )


def inline_without_blanks(speeches: int) -> str:
    """'NAME. text' speeches running on at the margin, with no blank lines."""
    return "".join(
        f"WENDLA. Warum hast du mir das Kleid so lang gemacht, Mutter? Nummer {n}\n"
        f"und so weiter, bis die Zeile zu Ende ist.\n"
        for n in range(speeches)
    )


def moby(speeches: int) -> str:
    """Labels at the margin; speeches of three indented paragraphs with blank lines between."""
    return "".join(
        f"{'Lysander' if n % 2 else 'Hermia'}\n\n"
        + "".join(
            f"    The course of true love {n}.{p}\n    never did run smooth.\n\n" for p in range(3)
        )
        for n in range(speeches)
    )


def assert_tiles(text: str, chunks: list[Chunk]) -> None:
    """The chunks cover the text exactly once, in order, numbered from 0."""
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end == after.start
    assert all(c.start < c.end for c in chunks)
    assert "".join(text[c.start : c.end] for c in chunks) == text


def test_empty_text_has_no_chunks() -> None:
    assert plan_chunks("") == []


def test_short_text_is_one_chunk() -> None:
    assert plan_chunks("HAMLET.\nTo be.\n") == [Chunk(index=0, start=0, end=15)]


def test_text_up_to_one_and_a_half_targets_stays_whole() -> None:
    text = "a\n" * 150  # 300 characters, 1.5 times the smallest target
    assert plan_chunks(text, 200) == [Chunk(index=0, start=0, end=300)]
    assert len(plan_chunks(text + "a\n", 200)) == 2


@pytest.mark.parametrize("make", [labels_alone, inline_without_blanks, moby])
@pytest.mark.parametrize("target", [200, 333, 1000])
def test_chunks_cover_the_text_exactly_in_order(make, target: int) -> None:
    text = make(120)
    chunks = plan_chunks(text, target)
    assert len(chunks) > 1
    assert_tiles(text, chunks)


@pytest.mark.parametrize("make", [labels_alone, inline_without_blanks, moby])
def test_chunk_sizes_stay_within_half_and_twice_the_target(make) -> None:
    text = make(120)
    sizes = [c.end - c.start for c in plan_chunks(text, 400)]
    assert all(200 <= size <= 800 for size in sizes[:-1])
    assert 0 < sizes[-1] <= 800


def test_cuts_fall_after_a_blank_line_before_a_label() -> None:
    text = labels_alone(80)
    chunks = plan_chunks(text, 300)
    for chunk in chunks[1:]:
        assert text[chunk.start - 2 : chunk.start] == "\n\n"
        assert text[chunk.start :].startswith(("HAMLET.\n", "OPHELIA.\n"))


def test_cuts_in_moby_layout_never_fall_inside_indented_speech() -> None:
    text = moby(80)
    for chunk in plan_chunks(text, 250)[1:]:
        assert text[chunk.start :].startswith(("Lysander\n", "Hermia\n"))


def test_without_blank_lines_cuts_fall_before_a_name_in_capitals() -> None:
    text = inline_without_blanks(80)
    for chunk in plan_chunks(text, 300)[1:]:
        assert text[chunk.start :].startswith("WENDLA. ")


def test_a_name_in_capitals_beats_a_paragraph_break_before_an_indented_line() -> None:
    # Blank lines here only stand before indented directions, never before a speech.
    text = "".join(
        f"WENDLA. Warum hast du mir das Kleid so lang gemacht? Nummer {n}\n"
        f"    und so weiter, bis die Zeile zu Ende ist.\n\n        [Sie geht.]\n"
        for n in range(80)
    )
    for target in (250, 280, 310):
        for chunk in plan_chunks(text, target)[1:]:
            assert text[chunk.start :].startswith("WENDLA. ")


@pytest.mark.parametrize("target", [250, 280, 310])
def test_without_margin_lines_cuts_fall_after_a_blank_line(target: int) -> None:
    text = "".join(
        f"    indented paragraph {n} of the page\n    and its second line\n    and a third\n\n"
        for n in range(60)
    )
    for chunk in plan_chunks(text, target)[1:]:
        assert text[chunk.start - 2 : chunk.start] == "\n\n"


def test_without_blank_lines_or_capitals_cuts_fall_at_line_starts() -> None:
    text = "".join(f"and so the verse goes on, line {n}\n" for n in range(100))
    chunks = plan_chunks(text, 300)
    assert_tiles(text, chunks)
    assert all(text[c.start - 1] == "\n" for c in chunks[1:])


def test_only_a_line_longer_than_twice_the_target_is_cut_inside() -> None:
    text = "x" * 1000
    chunks = plan_chunks(text, 200)
    assert [(c.start, c.end) for c in chunks] == [(0, 400), (400, 800), (800, 1000)]


def test_target_is_clamped_to_the_smallest_size() -> None:
    text = labels_alone(60)
    assert plan_chunks(text, 10) == plan_chunks(text, MIN_TARGET)
    assert plan_chunks(text, -5) == plan_chunks(text, MIN_TARGET)


def test_target_is_clamped_to_the_largest_size() -> None:
    text = "a line of the play\n" * 4000  # 76,000 characters
    chunks = plan_chunks(text, 10**6)
    assert chunks == plan_chunks(text, MAX_TARGET)
    # Unclamped, the whole text would fit in one chunk.
    assert [c.end - c.start for c in chunks] == [20007, 20007, 20007, 15979]


def test_keep_together_keeps_the_front_matter_in_the_first_chunk() -> None:
    front = "DIE PROBE\nvon Anna Beispiel\n\nPersonen.\n" + "".join(
        f"  Person {n}, eine Rolle im Stück.\n" for n in range(50)
    )
    text = front + "\n" + labels_alone(40)
    body = len(front) + 1
    assert body > 4 * MIN_TARGET
    chunks = plan_chunks(text, MIN_TARGET, keep_together=body)
    assert chunks[0].end == body
    assert_tiles(text, chunks)


def test_keep_together_inside_the_first_window_changes_nothing() -> None:
    text = labels_alone(40)
    assert plan_chunks(text, 400, keep_together=50) == plan_chunks(text, 400)


# --- lines too long to keep whole --------------------------------------------------------------


def long_line(words: int) -> str:
    return "ANNA. " + " ".join(f"wort{n}" for n in range(words)) + "\n"


def test_a_line_too_long_to_keep_whole_is_cut_before_a_space_after_a_word() -> None:
    text = long_line(800)  # about 6,400 characters on one line
    chunks = plan_chunks(text, 200)
    assert_tiles(text, chunks)
    for chunk in chunks[1:]:
        assert text[chunk.start] == " " and text[chunk.start - 1].isalnum()
        assert chunk.start >= MIN_PREFIX


def test_a_long_line_is_cut_outside_its_bracketed_directions() -> None:
    direction = "[" + " ".join(["er geht langsam"] * 10) + "]"  # 160 characters
    text = "ANNA. " + " ".join([f"Satz {n} {direction}" for n in range(60)]) + "\n"
    spans = [(text.index("[", i), text.index("]", i)) for i in range(len(text)) if text[i] == "["]
    for chunk in plan_chunks(text, 200)[1:]:
        assert not any(start < chunk.start < end for start, end in spans)


def test_a_direction_covering_the_window_is_cut_after_rather_than_inside() -> None:
    text = "ANNA. " + "Hallo " * 60 + "[" + "geht " * 200 + "] und dann " + "wort " * 400
    chunks = plan_chunks(text, 200)
    assert_tiles(text, chunks)
    inside = range(text.index("[") + 1, text.index("]"))
    assert not any(chunk.start in inside for chunk in chunks)


def test_a_cut_never_falls_right_after_a_heading_shaped_line() -> None:
    # "SCENE 2. A room." is a heading only with a blank line or a heading below it.
    text = "".join(
        f"SCENE {n}. A room.\nHAMLET. To be, or not to be, line {n}.\n" for n in range(60)
    )
    for chunk in plan_chunks(text, 200)[1:]:
        assert text[chunk.start :].startswith("SCENE")
