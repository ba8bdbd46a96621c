"""The HTTP contract: response bodies of the jobs and plays resources, and of the health check."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from playparse.db.models import Job, JobEvent, utcnow
from playparse.jobs import JobStatus, allowed_actions, progress_percent


class JobErrorPublic(BaseModel):
    type: str
    message: str
    retryable: bool = False
    chunk: int | None = None


class JobPublic(BaseModel):
    """A parse job as clients see it."""

    id: str = Field(description="The job id; also the Temporal workflow id.")
    tenant_id: str
    status: JobStatus
    stage: str | None
    progress: int = Field(ge=0, le=100)
    chunks_done: int
    chunks_total: int
    lines_found: int
    chars_found: int
    characters_found: int = Field(description="Distinct speakers found so far.")
    attempt: int | None = Field(
        description="While `retrying`: the attempt of the chunk that failed last."
    )
    eta_seconds: float | None = Field(
        description="Estimated time left, from the pace of the chunks parsed so far."
    )
    input_tokens: int
    output_tokens: int
    cost_usd: float = Field(
        description="Provider cost so far, from the price table (USD), answers not kept included."
    )
    chunks_cached: int = Field(description="Chunks answered from the provider-answer cache.")
    budget_tokens: int | None
    budget_usd: float | None
    fresh: bool
    filename: str
    format: str
    provider: str
    model: str | None
    priority: int
    concurrency: int
    chunk_size: int
    batch_key: str | None
    play_id: str | None
    error: JobErrorPublic | None
    allowed_actions: list[str]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobPublic:
        status = JobStatus(job.status)
        error = (
            JobErrorPublic(
                type=job.error_type,
                message=job.error_message or "",
                retryable=bool(job.error_retryable),
                chunk=job.error_chunk,
            )
            if job.error_type
            else None
        )
        return cls(
            id=job.id,
            tenant_id=job.tenant_id,
            status=status,
            stage=job.stage,
            progress=progress_percent(job.chunks_done, job.chunks_total, status),
            chunks_done=job.chunks_done,
            chunks_total=job.chunks_total,
            lines_found=job.lines_found,
            chars_found=job.chars_found,
            characters_found=job.characters_found,
            attempt=job.attempt,
            eta_seconds=eta_seconds(job, status),
            input_tokens=job.input_tokens,
            output_tokens=job.output_tokens,
            cost_usd=round(job.cost_usd, 6),
            chunks_cached=job.chunks_cached,
            budget_tokens=job.budget_tokens,
            budget_usd=job.budget_usd,
            fresh=job.fresh,
            filename=job.filename,
            format=job.format,
            provider=job.provider,
            model=job.model,
            priority=job.priority,
            concurrency=job.concurrency,
            chunk_size=job.chunk_size,
            batch_key=job.batch_key,
            play_id=job.play_id,
            error=error,
            allowed_actions=allowed_actions(status),
            created_at=job.created_at,
            updated_at=job.updated_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
        )


def eta_seconds(job: Job, status: JobStatus, now: datetime | None = None) -> float | None:
    """Time left at the pace since parsing began or last resumed; None until there is a pace."""
    if status not in (JobStatus.RUNNING, JobStatus.RETRYING) or job.pace_since is None:
        return None
    done = job.chunks_done - job.pace_chunks
    remaining = job.chunks_total - job.chunks_done
    elapsed = ((now or utcnow()) - job.pace_since).total_seconds()
    if done <= 0 or elapsed <= 0:
        return None
    return round(remaining * elapsed / done, 1)


class JobList(BaseModel):
    data: list[JobPublic]
    next_cursor: str | None


class JobEventPublic(BaseModel):
    id: int
    job_id: str
    kind: str
    status: str | None
    detail: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: JobEvent) -> JobEventPublic:
        return cls(
            id=event.id,
            job_id=event.job_id,
            kind=event.kind,
            status=event.status,
            detail=event.detail,
            created_at=event.created_at,
        )


class JobEventList(BaseModel):
    data: list[JobEventPublic]
    next_cursor: str | None


class PlayPublic(BaseModel):
    """A saved play: its id and job, and the playbook/v1 document."""

    id: str
    job_id: str
    created_at: datetime
    # Answered as saved; api.openapi describes it as the Playbook it is.
    playbook: dict[str, Any]


class HealthCheck(BaseModel):
    """One check of `GET /api/health`, with what it measured beside `ok` and `detail`."""

    model_config = ConfigDict(extra="allow")

    ok: bool
    detail: str


class HealthReport(BaseModel):
    """`GET /api/health`, healthy (200) or not (503): playparse.health's report."""

    status: Literal["healthy", "degraded", "unhealthy"]
    checks: dict[str, HealthCheck]


# The headers of an answer assembled from the chunks parsed so far (`partial=true`).
PARTIAL_HEADERS: dict[str, Any] = {
    "X-Playparse-Partial": {
        "description": "`true` when the play was assembled from the chunks parsed so far",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "X-Chunks-Done": {
        "description": "With X-Playparse-Partial: the chunks parsed so far",
        "schema": {"type": "string"},
    },
    "X-Chunks-Total": {
        "description": "With X-Playparse-Partial: the job's chunks in all",
        "schema": {"type": "string"},
    },
}
