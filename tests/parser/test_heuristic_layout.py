"""Layout detection: which names are labels, how speech is indented, how wide lines run."""

from __future__ import annotations

from playparse.heuristic_layout import (
    DEFAULT_WRAP,
    Layout,
    detect_layout,
    indent_of,
    next_nonblank,
    wrapped_mid_sentence,
)
from tests.parser import plays


def body(play: str, first_line: str) -> str:
    """The play from its first heading on (what the pre-scan hands to detect_layout)."""
    return play[play.index(first_line) :]


def test_labels_alone_in_capitals() -> None:
    layout = detect_layout(body(plays.LESSING, "Erster Aufzug"))
    assert layout == Layout(
        speech_indent=0,
        indented_speech_blocks=False,
        wrap_width=71,  # its longest printed line
        labels=["DER PRINZ", "MARINELLI", "ODOARDO", "CLAUDIA"],
    )


def test_inline_labels_take_the_indent_of_continuation_lines() -> None:
    layout = detect_layout(plays.WEDEKIND)
    assert layout.labels == ["WENDLA", "FRAU BERGMANN", "WENDLA UND FRAU BERGMANN", "MELCHIOR"]
    assert layout.speech_indent == 4
    assert layout.indented_speech_blocks is False


def test_moby_layout_is_recognised_with_mixed_case_labels_at_the_margin() -> None:
    layout = detect_layout(plays.MOBY)
    assert layout.indented_speech_blocks is True
    assert layout.speech_indent == 4
    assert layout.labels == ["THESEUS", "HIPPOLYTA", "First Fairy", "QUINCE"]


def test_moby_layout_needs_three_labels_followed_by_indented_speech() -> None:
    two = "Lysander\n\n    How now, my love!\n\nHermia\n\n    Belike for want of rain.\n"
    assert detect_layout(two).indented_speech_blocks is False
    assert detect_layout(two).labels == []
    three = two + "\nLysander\n\n    Ay me!\n"
    assert detect_layout(three).indented_speech_blocks is True
    assert detect_layout(three).labels == ["Lysander", "Hermia"]


def test_the_capitals_form_of_a_name_is_the_label() -> None:
    text = "Ist Marinelli da?\n\nMARINELLI.\nHier.\n"
    assert detect_layout(text).labels == ["MARINELLI"]


def test_mixed_case_colon_labels_count_from_their_second_use() -> None:
    text = "Anna: Hallo.\nBen: Hi.\nAnna: Tschüss.\n"
    assert detect_layout(text).labels == ["Anna"]


def test_a_word_and_colon_opening_a_wrapped_line_is_not_a_label() -> None:
    # Lines filled to the measure run on into "Prinz: ..." and "muß: ..." twice each.
    filled = "Er sagte es mir selbst, und wenn sie in Verwahrung gebracht werden"
    text = (
        f"ANNA: {filled}\nmuß: so weiß ich schon.\n\nBEN: {filled} der\nPrinz: so sei es.\n\n"
    ) * 2 + "Anna: Gut.\nBen: Ja.\nAnna: Nein.\nBen: Doch.\n"
    assert detect_layout(text).labels == ["ANNA", "BEN"]


def test_wrapped_mid_sentence_needs_a_filled_line_that_breaks_off() -> None:
    assert wrapped_mid_sentence("x" * 60 + " und", 72)
    assert wrapped_mid_sentence("x" * 60 + " nun,", 72)
    assert not wrapped_mid_sentence("x" * 60 + " Ende.", 72)
    assert not wrapped_mid_sentence("zu kurz und", 72)
    assert not wrapped_mid_sentence(None, 72)


def test_cast_names_are_accepted_in_mixed_case() -> None:
    text = "Anna: Hallo.\nBen: Hi.\nAnna: Tschüss.\n"
    assert detect_layout(text, known={"ben"}).labels == ["Anna", "Ben"]


def test_abbreviations_headings_and_numerals_are_not_labels() -> None:
    text = "ACT I\n\nSCENE II\n\nMr. Smith went to town.\nDr.\n\nIII.\nfoo\n\nHAMLET.\nTo be.\n"
    assert detect_layout(text).labels == ["HAMLET"]


def test_wrap_width_is_the_98th_percentile_of_line_lengths() -> None:
    text = "".join("x" * n + "\n" for n in range(1, 101))
    assert detect_layout(text).wrap_width == 99


def test_wrap_width_defaults_for_fewer_than_twenty_lines() -> None:
    text = "y" * 30 + "\n" + "z" * 120 + "\n"
    assert detect_layout(text).wrap_width == DEFAULT_WRAP


def test_known_is_the_set_of_label_keys() -> None:
    assert Layout(labels=["DER PRINZ", "First Witch"]).known == {"der prinz", "first witch"}


def test_indent_of_counts_tabs_as_four_spaces() -> None:
    assert indent_of("\t  x") == 6
    assert indent_of("x") == 0


def test_next_nonblank_points_past_blank_lines() -> None:
    assert next_nonblank(["a", "", "b", "c", "  "]) == [2, 2, 3, None, None]


def test_moby_layout_is_recognised_without_blank_lines() -> None:
    text = "\n".join(line for line in plays.MOBY.splitlines() if line.strip())
    layout = detect_layout(text)
    assert layout.indented_speech_blocks is True
    assert layout.speech_indent == 4
    assert layout.labels == ["THESEUS", "HIPPOLYTA", "First Fairy", "QUINCE"]
    assert layout.spaced_speeches is False


def test_indented_speech_right_below_labels_spaced_apart_is_not_moby() -> None:
    # Blank lines between speeches but none after the label: not the Moby convention.
    text = "Lysander\n    How now, my love!\n\nHermia\n    Belike.\n\nLysander\n    Ay me!\n"
    assert detect_layout(text).indented_speech_blocks is False


def test_speeches_are_spaced_when_most_labels_follow_a_blank_line() -> None:
    assert detect_layout(plays.LESSING).spaced_speeches is True
    assert detect_layout("ANNA. Ja.\nBEN. Nein.\nANNA. Doch.\nBEN. Gut.\n").spaced_speeches is False
    assert detect_layout("Keine Sprecher hier.\n").spaced_speeches is True
