"""SQLAlchemy 2.0 models: documents, the job projection and its events, chunks, and saved plays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# BigInteger ids autoincrement on SQLite only as INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    text: Mapped[str | None] = mapped_column(Text, deferred=True)
    pages: Mapped[int | None]
    encoding: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_idempotency"),
        Index("ix_jobs_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_jobs_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(128))
    priority: Mapped[int] = mapped_column(default=3)
    concurrency: Mapped[int] = mapped_column(default=1)
    chunk_size: Mapped[int] = mapped_column(default=2500)
    batch_key: Mapped[str | None] = mapped_column(String(128), index=True)
    chunks_total: Mapped[int] = mapped_column(default=0)
    chunks_done: Mapped[int] = mapped_column(default=0)
    lines_found: Mapped[int] = mapped_column(default=0)
    chars_found: Mapped[int] = mapped_column(default=0)
    characters_found: Mapped[int] = mapped_column(default=0, server_default="0")
    # The distinct speakers behind characters_found (label keys); None until first collected.
    speaker_keys: Mapped[list[Any] | None]
    # The attempt of the chunk now waiting to be retried, while the job is `retrying`.
    attempt: Mapped[int | None]
    # Parsing pace for the time-left estimate: chunks done since `pace_since` (reset on resume).
    pace_since: Mapped[datetime | None]
    pace_chunks: Mapped[int] = mapped_column(default=0, server_default="0")
    # Provider spending, summed from the chunk results; a budget stops the job before it
    # would be exceeded. `fresh` bypasses the response cache.
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    chunks_cached: Mapped[int] = mapped_column(default=0, server_default="0")
    budget_tokens: Mapped[int | None] = mapped_column(BigInteger)
    budget_usd: Mapped[float | None] = mapped_column(Float)
    # Paid for answers the job did not keep (refused, invalid after repair, half of a failed
    # split); included in the counters above, which are otherwise sums over stored results.
    unused_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    unused_output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    unused_cost_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Likely spending of the chunks being parsed now, held against the budget until they end.
    reserved_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reserved_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    fresh: Mapped[bool] = mapped_column(default=False, server_default=false())
    outline: Mapped[dict[str, Any] | None]
    error_type: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_retryable: Mapped[bool | None]
    error_chunk: Mapped[int | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    play_id: Mapped[str | None] = mapped_column(String(40))
    runs: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class JobEvent(Base):
    __tablename__ = "job_events"
    __table_args__ = (UniqueConstraint("job_id", "origin", name="uq_job_events_origin"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The workflow run and activity that recorded the event, so an activity attempt that runs
    # again after its first one committed records nothing twice. NULL for the API's events.
    origin: Mapped[str | None] = mapped_column(String(80))


class Chunk(Base):
    __tablename__ = "chunks"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[int]
    end: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict[str, Any]]
    # The response-cache key of an LLM job's chunk (playparse.db.llm.cache_key), computed when
    # it is planned, so the chunk's read finds a cached answer in the same statement.
    cache_key: Mapped[str | None] = mapped_column(String(64))


class ChunkResult(Base):
    __tablename__ = "chunk_results"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(128))
    result: Mapped[dict[str, Any]]
    lines: Mapped[int] = mapped_column(default=0)
    chars: Mapped[int] = mapped_column(default=0)
    # Speaker labels the chunk's lines name, for the job's count of characters found so far.
    speakers: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Taken from the response cache: no provider call, no tokens spent.
    cached: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LlmCache(Base):
    """Provider answers by (provider, model, prompt version, chunk text, context)."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    prompt_version: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]]
    input_tokens: Mapped[int]
    output_tokens: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProviderHealth(Base):
    """The circuit breaker of one provider, shared by every worker."""

    __tablename__ = "provider_health"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    open_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Play(Base):
    __tablename__ = "plays"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    # The job that produced the play: a plain reference (like jobs.play_id), because a saved
    # play outlives its job when retention removes old jobs.
    job_id: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(Text)
    subtitle: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Character(Base):
    __tablename__ = "characters"
    __table_args__ = (UniqueConstraint("play_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    play_id: Mapped[str] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(128))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(Text)


class Act(Base):
    __tablename__ = "acts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    play_id: Mapped[str] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    number: Mapped[int | None]
    title: Mapped[str | None] = mapped_column(Text)


class Scene(Base):
    __tablename__ = "scenes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    play_id: Mapped[str] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"), index=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    number: Mapped[int | None]
    title: Mapped[str | None] = mapped_column(Text)
    setting: Mapped[str | None] = mapped_column(Text)


class Line(Base):
    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    play_id: Mapped[str] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"), index=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    character_keys: Mapped[list[Any]] = mapped_column(default=list)
    text: Mapped[str] = mapped_column(Text)
