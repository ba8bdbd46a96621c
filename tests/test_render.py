"""Rendering a playbook for people: Markdown, the plain script layout and one character's part."""

from __future__ import annotations

import pytest

from playparse import render
from playparse.assemble import parse_text
from playparse.schema import Act, Character, DirectionItem, LineItem, Playbook, Scene
from tests.helpers import EXAMPLE


def small_play() -> Playbook:
    return Playbook(
        title="The *Test* Play",
        subtitle="A comedy",
        author="A. Writer",
        characters=[
            Character(id="ann", name="Ann", description="a baker"),
            Character(id="bob", name="Bob"),
        ],
        acts=[
            Act(
                number=1,
                scenes=[
                    Scene(
                        number=1,
                        title="The kitchen",
                        setting="Morning.",
                        items=[
                            DirectionItem(text="Ann kneads dough."),
                            LineItem(character_ids=["ann"], text="# not a heading\n1. not a list"),
                            LineItem(character_ids=["bob"], text="Good morning, " + "x" * 150),
                            DirectionItem(text="He sits."),
                            LineItem(character_ids=["ann"], text="Sit <b>down</b>."),
                            LineItem(character_ids=["ann"], text="And stay."),
                            LineItem(character_ids=["ann", "bob"], text="Together!"),
                        ],
                    ),
                    Scene(number=2, items=[LineItem(character_ids=["bob"], text="Alone.")]),
                ],
            )
        ],
    )


def test_markdown_has_headings_cast_speakers_and_directions_in_italics() -> None:
    markdown = render.to_markdown(small_play())
    assert markdown.startswith("# The \\*Test\\* Play\n\n*A comedy*\n\nA. Writer\n")
    assert "## Characters\n\n- **Ann**: a baker\n- **Bob**\n" in markdown
    assert "## Act 1\n\n### The kitchen\n\n*Morning.*\n\n*Ann kneads dough.*\n" in markdown
    assert "### Scene 2\n\n**Bob:** Alone.\n" in markdown
    assert "**Ann, Bob:** Together!" in markdown


def test_markdown_keeps_the_text_literal() -> None:
    markdown = render.to_markdown(small_play())
    # Markup in the play's text is escaped, and a line break inside a speech is a hard break.
    assert "**Ann:** \\# not a heading\\\n1\\. not a list\n" in markdown
    assert "Sit \\<b\\>down\\</b\\>." in markdown


def test_a_play_without_headings_gets_none_in_markdown_or_script() -> None:
    play = Playbook(
        title="Short",
        acts=[Act(scenes=[Scene(items=[LineItem(character_ids=["x"], text="Hello.")])])],
    )
    assert render.to_markdown(play) == "# Short\n\n**x:** Hello.\n"
    assert render.to_script(play) == "SHORT\n\nX\n    Hello.\n"


def test_script_layout_puts_names_above_indented_speech_and_directions_further_in() -> None:
    script = render.to_script(small_play(), width=40)
    lines = script.splitlines()
    assert lines[:3] == ["THE *TEST* PLAY", "A comedy", "A. Writer"]
    assert "  ANN, a baker" in lines and "  BOB" in lines
    start = lines.index("THE KITCHEN")
    assert lines[start : start + 6] == [
        "THE KITCHEN",
        "",
        "Morning.",
        "",
        "        (Ann kneads dough.)",
        "",
    ]
    bob = lines.index("BOB")
    speech = lines[bob + 1 : lines.index("", bob)]
    assert len(speech) > 1 and all(line.startswith("    ") for line in speech)
    assert all(len(line) <= 40 for line in speech)
    assert "ANN, BOB" in lines


def test_a_part_holds_one_characters_lines_alone() -> None:
    part = render.part(small_play(), "bob")
    assert part.subtitle == "Bob: lines"
    items = [item for act in part.acts for scene in act.scenes for item in scene.items]
    assert [item.text for item in items] == ["Good morning, " + "x" * 150, "Together!", "Alone."]
    assert all(isinstance(item, LineItem) and "bob" in item.character_ids for item in items)


def test_a_part_with_cues_adds_the_last_words_before_each_speech() -> None:
    part = render.part(small_play(), "ann", cues=True)
    assert part.subtitle == "Ann: lines with cues"
    scenes = [scene for act in part.acts for scene in act.scenes]
    assert len(scenes) == 1, "a scene where Ann does not speak is left out"
    texts = [(item.character_ids, item.text) for item in scenes[0].items]
    assert texts[0] == (["ann"], "# not a heading\n1. not a list")
    cue_ids, cue = texts[1]
    assert cue_ids == ["bob"] and cue.startswith("…") and cue.endswith("x" * 20)
    assert len(cue) <= render.CUE_CHARS + 1
    # Ann's next lines follow her own speech: no cue between them.
    assert [text for _, text in texts[2:]] == ["Sit <b>down</b>.", "And stay.", "Together!"]


def test_an_unknown_character_is_an_error_that_names_it() -> None:
    with pytest.raises(render.UnknownCharacter, match="nobody"):
        render.part(small_play(), "nobody")


def test_cue_text_keeps_short_lines_whole_and_cuts_long_ones_at_a_word() -> None:
    assert render.cue_text("Yes,\n  my lord.") == "Yes, my lord."
    cue = render.cue_text(" ".join(f"word{i}" for i in range(60)), limit=30)
    assert cue.startswith("…word") and cue.endswith("word59") and len(cue) <= 31


def test_the_sample_play_renders_every_speech() -> None:
    play = parse_text(EXAMPLE.read_text(encoding="utf-8"), 4000)
    lines = sum(
        1
        for act in play.acts
        for scene in act.scenes
        for item in scene.items
        if item.type == "line"
    )
    markdown = render.to_markdown(play)
    assert markdown.count("\n**") == lines
    assert markdown.count("\n## ") == len(play.acts) + 1  # the acts and the cast list
    script = render.to_script(play)
    assert "\nERSTER AUFZUG\n" in script and "\nFÜNFTER AUFZUG\n" in script


def test_contents_keep_the_anchors_of_the_whole_play_for_a_part() -> None:
    play = small_play()
    whole = render.contents(play)
    assert [(act.anchor, act.label) for act in whole] == [("act-1", "Act 1")]
    assert [(s.anchor, s.label, len(s.items)) for s in whole[0].scenes] == [
        ("act-1-scene-1", "The kitchen", 7),
        ("act-1-scene-2", "Scene 2", 1),
    ]
    bob = render.contents(play, "bob")
    assert [(s.anchor, [i.text for i in s.items]) for s in bob[0].scenes][1] == (
        "act-1-scene-2",
        ["Alone."],
    )
    ann = render.contents(play, "ann", cues=True)
    assert [s.anchor for s in ann[0].scenes] == ["act-1-scene-1"]
    assert len(ann[0].scenes[0].items) == 5
    with pytest.raises(render.UnknownCharacter):
        render.contents(play, "nobody")
