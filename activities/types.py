"""Inputs and results of every activity: ids and small summaries, never document text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class JobRef:
    job_id: str


@dataclass
class ExtractResult:
    job_id: str
    chars: int
    pages: int | None = None
    format: str | None = None


@dataclass
class PlanResult:
    job_id: str
    chunks_total: int
    finished: list[int] = field(default_factory=list)


@dataclass
class ParseChunkInput:
    job_id: str
    index: int
    provider: str
    model: str | None = None


@dataclass
class ParseChunkResult:
    job_id: str
    index: int
    lines: int
    chars: int
    reused: bool = False


@dataclass
class AssembleResult:
    job_id: str
    play_id: str
    title: str
    characters: int
    acts: int
    scenes: int
    lines: int
    directions: int


@dataclass
class JobErrorInfo:
    type: str
    message: str
    retryable: bool = False
    chunk: int | None = None


@dataclass
class RecordStateInput:
    job_id: str
    status: str | None = None
    stage: str | None = None
    event: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    error: JobErrorInfo | None = None
    priority: int | None = None
