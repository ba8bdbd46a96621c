"""Every setting a playparse process reads is documented in the README, under its variable."""

from __future__ import annotations

from pathlib import Path

from playparse.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"PLAYPARSE_{name.upper()}"
        for name in Settings.model_fields
        if f"PLAYPARSE_{name.upper()}" not in text
    ]
    assert not missing, f"settings the README does not mention: {missing}"
