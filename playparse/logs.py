"""Logging for every playparse process: JSON lines in production, readable text in development.

Records carry the job id (the workflow id), the activity and attempt, and the chunk where they
apply: Temporal's workflow and activity loggers attach that context, and playparse code adds
`job_id` / `chunk` through `extra`. Nothing logs document text, and secrets are SecretStr.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed as `extra` and is context.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def context_of(record: logging.LogRecord) -> dict[str, Any]:
    """The job, workflow, activity and chunk a record is about, flattened."""
    context: dict[str, Any] = {}
    workflow = getattr(record, "temporal_workflow", None)
    activity = getattr(record, "temporal_activity", None)
    for source in (workflow, activity):
        if isinstance(source, dict):
            if "workflow_id" in source:
                context["job_id"] = source["workflow_id"]
                context["workflow_id"] = source["workflow_id"]
            for key in ("run_id", "workflow_type", "activity_type", "attempt", "task_queue"):
                if key in source:
                    context[key] = source[key]
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("temporal_") and not key.startswith("_"):
            context[key] = value
    return context


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **context_of(record),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = context_of(record)
        if context:
            line += "  " + " ".join(f"{k}={v}" for k, v in context.items())
        return line


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines (`json`) or readable text (`text`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The Temporal SDK's Rust core and httpx are chatty at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
