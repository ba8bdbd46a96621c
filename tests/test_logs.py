"""Log records carry their job and chunk, as JSON lines in production and text otherwise."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from playparse.config import Settings
from playparse.logs import JsonFormatter, TextFormatter, configure_logging


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord(
        "playparse.test", logging.WARNING, __file__, 1, "chunk %s failed", (3,), None
    )
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


ACTIVITY = {
    "temporal_activity": {
        "workflow_id": "job_abc",
        "activity_type": "parse_chunk",
        "attempt": 2,
        "task_queue": "playparse",
    },
    "chunk": 3,
}


def test_json_lines_carry_the_job_workflow_activity_and_chunk() -> None:
    line = json.loads(JsonFormatter().format(record(**ACTIVITY)))
    assert line["message"] == "chunk 3 failed" and line["level"] == "warning"
    assert line["job_id"] == line["workflow_id"] == "job_abc"
    assert (line["activity_type"], line["attempt"], line["chunk"]) == ("parse_chunk", 2, 3)
    assert "temporal_activity" not in line


def test_text_lines_are_readable_with_the_context_at_the_end() -> None:
    text = TextFormatter().format(record(**ACTIVITY))
    assert "WARNING" in text and "chunk 3 failed" in text
    assert text.endswith(
        "job_id=job_abc workflow_id=job_abc activity_type=parse_chunk "
        "attempt=2 task_queue=playparse chunk=3"
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_settings_never_show_a_key(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    settings = Settings(openai_api_key="sk-VERYSECRET", anthropic_api_key="sk-ant-SECRET")
    configure_logging("json")
    logging.getLogger("playparse.test").warning("settings: %s", settings)
    logging.getLogger("playparse.test").warning("settings: %r", settings.model_dump())
    err = capsys.readouterr().err
    assert "VERYSECRET" not in err and "sk-ant-SECRET" not in err
    assert "**********" in err
