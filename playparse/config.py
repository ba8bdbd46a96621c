"""Settings for every playparse process, read once from the environment (prefix PLAYPARSE_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".playparse")


class Settings(BaseSettings):
    """Configuration; construct it where processes are wired (worker.py, api/app.py, devstack)."""

    # An empty variable counts as unset, so `PLAYPARSE_DATABASE_URL= playparse up` means SQLite.
    model_config = SettingsConfigDict(
        env_prefix="PLAYPARSE_", env_file=None, extra="ignore", env_ignore_empty=True
    )

    # Storage. SQLite under the data dir is the embedded default; production uses PostgreSQL,
    # e.g. postgresql+asyncpg://user@host:5432/playparse.
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None

    # Temporal.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str | None = None
    task_queue: str = "playparse"

    # API.
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    # Host names the API answers to, comma-separated ("*": any); see api/hosts.py.
    allowed_hosts: str = "localhost,127.0.0.1,::1"
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)

    # Parsing.
    default_provider: str = "heuristic"
    default_model: str | None = None

    # LLM providers. Keys and endpoints come only from here; they never reach job records,
    # events, logs or error messages. A provider is available when its key (or, for
    # OpenAI-compatible local servers, its base URL) is set.
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    anthropic_model: str = "claude-sonnet-4-6"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4.1-mini"
    llm_timeout_s: float = Field(default=120.0, gt=0)
    llm_max_output_tokens: int = Field(default=8192, ge=256)
    # Requests (chunk activities) per second per provider, across all workers: Temporal's
    # task-queue rate limit. Concurrency per provider is max_concurrent_llm_calls x workers.
    anthropic_requests_per_s: float | None = Field(default=None, gt=0)
    openai_requests_per_s: float | None = Field(default=None, gt=0)
    max_concurrent_llm_calls: int = Field(default=8, ge=1)
    # Chunk activities an LLM worker runs beyond its provider calls: they read their chunk and
    # store their result while others hold the provider's places, so the provider is never idle
    # waiting for database work.
    llm_extra_slots: int = Field(default=4, ge=0)
    # After this many consecutive retryable failures a provider rests for every job.
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, gt=0)
    default_chunk_size: int = Field(default=2500, ge=200, le=20000)
    max_concurrency: int = Field(default=8, ge=1, le=64)

    # Extraction limits: a hostile file must not hang or exhaust a worker.
    extraction_timeout_s: float = Field(default=60.0, gt=0)
    extraction_memory_mb: int = Field(default=1024, ge=64)
    # PDF and DOCX parsing processes a worker runs at once (each up to extraction_memory_mb);
    # more extractions wait their turn. Four keep the wait behind hostile files that use their
    # whole timeout well inside the extraction activity's 5 minutes.
    max_concurrent_extractions: int = Field(default=4, ge=1)

    # Worker.
    max_concurrent_activities: int = Field(default=16, ge=1)
    # Child processes that plan plays (outline pre-scan, chunk cuts) off the worker's event
    # loop; 0 plans in a thread of the worker.
    planning_processes: int = Field(default=1, ge=0, le=16)

    # Retention. Jobs that ended (completed, failed, cancelled) longer ago than retention_days
    # are removed with their events, chunks, chunk results and document, on a Temporal
    # Schedule every retention_every_hours; Temporal keeps closed workflows as long. Saved
    # plays are kept unless retention_delete_plays.
    retention_days: float = Field(default=30.0, gt=0)
    retention_delete_plays: bool = False
    retention_every_hours: float = Field(default=24.0, gt=0)

    # Observability. Logs are JSON lines with `json` (production) or text; the worker's
    # Temporal SDK metrics are served in Prometheus format on worker_metrics_address
    # (host:port) when set; OTLP tracing from the API through workflows to activities is on
    # when otel_endpoint is set.
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    worker_metrics_address: str | None = None
    otel_endpoint: str | None = None

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith("postgresql://"):
            return "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        if value.startswith("sqlite://") and "+aiosqlite" not in value:
            return "sqlite+aiosqlite://" + value.removeprefix("sqlite://")
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("database_url must be a postgresql:// or sqlite:// URL")
        return value

    def llm_task_queue(self, provider: str) -> str:
        """The task queue of one LLM provider's chunk activities (rate-limited per provider)."""
        return f"{self.task_queue}-{provider}"

    @property
    def allowed_host_names(self) -> frozenset[str]:
        """`allowed_hosts` as names, with the address the API is served on when it is one."""
        names = {name.strip().lower() for name in self.allowed_hosts.split(",") if name.strip()}
        if self.api_host not in ("0.0.0.0", "::", ""):
            names.add(self.api_host.lower())
        return frozenset(names)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'playparse.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
