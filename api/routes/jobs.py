"""The jobs resource: submit a play, list and read jobs, their events and their results."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.problems import Problem, too_large
from api.schemas import PARTIAL_HEADERS, JobEventList, JobEventPublic, JobList, JobPublic
from playparse import assemble, outline
from playparse.config import Settings
from playparse.db import chunks as chunks_repo
from playparse.db import jobs as jobs_repo
from playparse.db import plays as plays_repo
from playparse.db.models import Job
from playparse.errors import ParseError
from playparse.extraction import DocumentFormat, detect_format
from playparse.ids import MAX_BIGINT, is_valid_id
from playparse.jobs import JobError, JobStatus
from playparse.llm.base import ALL_PROVIDERS, LLM_PROVIDERS, configured_providers
from playparse.llm.pricing import price_of
from playparse.schema import ChunkParse, Playbook
from playparse.temporal import (
    FILENAME,
    JOB_STATUS,
    PRIORITY,
    PROVIDER,
    TENANT_ID,
    temporal_priority,
)
from workflows.parse_play import ParsePlayInput, ParsePlayWorkflow

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

# The errors of the routes, by status, as `responses=` for the OpenAPI document (api.openapi
# gives them the problem schema); each description names the problem types it can carry.
Responses = dict[int | str, dict[str, Any]]
JOB_NOT_FOUND: Responses = {404: {"description": "No such job (job-not-found)"}}
NOT_COMPLETED = (
    "The job has not completed (job-not-completed); with partial=true, no chunk has been parsed "
    "yet (nothing-parsed-yet)"
)


def new_job_id() -> str:
    return "job_" + secrets.token_hex(8)


async def load_job(session: SessionDep, tenant: str, job_id: str) -> Job:
    job = (
        await jobs_repo.get_job(session, job_id=job_id, tenant_id=tenant)
        if is_valid_id(job_id)
        else None
    )
    if job is None:
        raise Problem(404, "job-not-found", f"no job with id {job_id!r}")
    return job


# Names and keys are stored and shown as given: no control characters (PostgreSQL refuses NUL).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def accepted(job: Job) -> JSONResponse:
    return JSONResponse(
        JobPublic.of(job).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/jobs/{job.id}"},
    )


# The file name goes into the Filename search attribute, which Temporal holds to 2 KB of JSON;
# JSON writes a character outside ASCII as an escape of 6 bytes (12 for an emoji).
MAX_FILENAME_JSON_BYTES = 1024


def _inspect(content: bytes) -> tuple[DocumentFormat | None, str]:
    """The upload's format (None for an empty one) and its SHA-256."""
    return (detect_format(content) if content else None), hashlib.sha256(content).hexdigest()


def _safe_filename(name: str | None) -> str:
    cleaned = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1][:255]
    while len(json.dumps(cleaned)) > MAX_FILENAME_JSON_BYTES:
        cleaned = cleaned[: len(cleaned) * 3 // 4]
    return cleaned.strip() or "upload"


@router.post(
    "",
    status_code=202,
    response_model=JobPublic,
    responses={
        400: {"description": "The form could not be read (bad-request)"},
        413: {"description": "The file is larger than the upload limit (too-large)"},
        415: {"description": "Not a PDF, DOCX or text file (unsupported-document)"},
        422: {
            "description": (
                "An invalid option (validation-error), a provider that is unknown or not "
                "configured (unknown-provider), an Idempotency-Key used for another request "
                "(idempotency-key-reused), or a job the Temporal service refused to start "
                "(validation-error, with job_id)"
            )
        },
        503: {
            "description": (
                "The job was recorded but Temporal did not take it (temporal-unavailable); "
                "`job_id` names it"
            )
        },
    },
)
async def create_job(
    request: Request,
    file: Annotated[UploadFile, File(description="The play: PDF, DOCX or plain text.")],
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    tenant: TenantDep,
    provider: Annotated[str | None, Form()] = None,
    model: Annotated[str | None, Form(max_length=128, pattern=PRINTABLE)] = None,
    chunk_size: Annotated[int | None, Form(ge=200, le=20000)] = None,
    priority: Annotated[int, Form(ge=1, le=5)] = 3,
    concurrency: Annotated[
        int, Form(ge=1, description="Chunks parsed at once (at most the configured maximum).")
    ] = 4,
    batch_key: Annotated[str | None, Form(max_length=128, pattern=PRINTABLE)] = None,
    budget_tokens: Annotated[
        int | None,
        Form(ge=1, le=MAX_BIGINT, description="Stop before the job would spend more tokens."),
    ] = None,
    budget_usd: Annotated[
        float | None,
        Form(
            gt=0,
            allow_inf_nan=False,
            description="Stop before the job would cost more (USD).",
        ),
    ] = None,
    fresh: Annotated[
        bool, Form(description="Parse from scratch, not from cached provider answers.")
    ] = False,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Submit a play for parsing; answers 202 with the queued job."""
    provider = provider or settings.default_provider
    available = configured_providers(settings)
    if provider not in available:
        detail = f"unknown provider {provider!r}; available: {', '.join(available)}"
        if provider in ALL_PROVIDERS:
            detail = (
                f"provider {provider!r} is not configured (set PLAYPARSE_"
                f"{provider.upper()}_API_KEY); available: {', '.join(available)}"
            )
        raise Problem(422, "unknown-provider", detail)
    if len((await request.form()).getlist("file")) > 1:
        # One job parses one play; taking either file would drop the other unnoticed.
        raise Problem(422, "validation-error", "send one file per job; this request has several")
    if model is not None and provider not in LLM_PROVIDERS:
        raise Problem(
            422, "validation-error", f"the {provider} provider takes no model; leave model out"
        )
    if concurrency > settings.max_concurrency:
        raise Problem(
            422, "validation-error", f"concurrency may be at most {settings.max_concurrency}"
        )
    chosen_model = None
    if provider in LLM_PROVIDERS:
        chosen_model = model or settings.default_model or _provider_model(settings, provider)
    if (
        budget_usd is not None
        and provider in LLM_PROVIDERS
        and price_of(provider, chosen_model) is None
    ):
        # Without a price every call costs $0 here, so the budget would never stop the job.
        raise Problem(
            422,
            "validation-error",
            f"budget_usd needs a model with a known price, and {provider} {chosen_model!r} has "
            "none; use budget_tokens",
        )
    content = await file.read()
    if len(content) > settings.max_upload_bytes:
        # The body limit leaves room for the form around the file; the file itself may not.
        raise too_large(settings.max_upload_bytes)
    # Off the event loop: deciding the format of 100 MB (decoding it, or a ZIP's directory)
    # and hashing it take long enough to stall every other request.
    document_format, sha256 = await asyncio.to_thread(_inspect, content)
    if content and document_format is None:
        raise Problem(415, "unsupported-document", "the file is not a PDF, DOCX or text file")
    filename = _safe_filename(file.filename)
    options = {
        "provider": provider,
        "model": chosen_model,
        "chunk_size": chunk_size or settings.default_chunk_size,
        "priority": priority,
        "concurrency": concurrency,
        "batch_key": batch_key,
        "filename": filename,
        "budget_tokens": budget_tokens,
        "budget_usd": budget_usd,
        "fresh": fresh,
    }
    request_hash = hashlib.sha256(
        (sha256 + json.dumps(options, sort_keys=True)).encode()
    ).hexdigest()
    if idempotency_key is not None:
        existing = await jobs_repo.find_job_by_idempotency_key(
            session, tenant_id=tenant, key=idempotency_key
        )
        if existing is not None:
            return _replay(existing, request_hash)
    new = jobs_repo.NewJob(
        job_id=new_job_id(),
        document_id="doc_" + secrets.token_hex(8),
        tenant_id=tenant,
        filename=filename,
        # An empty upload is accepted as text so the job can fail with a readable reason.
        format=document_format.value if document_format else "txt",
        content=content,
        sha256=sha256,
        provider=provider,
        model=options["model"],  # type: ignore[arg-type]
        priority=priority,
        concurrency=concurrency,
        chunk_size=options["chunk_size"],  # type: ignore[arg-type]
        batch_key=batch_key,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        budget_tokens=budget_tokens,
        budget_usd=budget_usd,
        fresh=fresh,
    )
    try:
        job = await jobs_repo.create_job(session, new=new)
        await session.commit()
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race.
        await session.rollback()
        existing = await jobs_repo.find_job_by_idempotency_key(
            session, tenant_id=tenant, key=idempotency_key or ""
        )
        if existing is None:
            raise
        return _replay(existing, request_hash)
    await start_workflow(temporal, settings, job, session)
    return accepted(job)


def _provider_model(settings: Settings, provider: str) -> str | None:
    """The model a job uses when it names none: the provider's default in settings."""
    return {"anthropic": settings.anthropic_model, "openai": settings.openai_model}.get(provider)


def _replay(existing: Job, request_hash: str) -> JSONResponse:
    if existing.request_hash != request_hash:
        raise Problem(
            422, "idempotency-key-reused", "this Idempotency-Key was used for a different request"
        )
    return accepted(existing)


async def start_workflow(client: Client, settings: Settings, job: Job, session: SessionDep) -> None:
    try:
        await client.start_workflow(
            ParsePlayWorkflow.run,
            ParsePlayInput(
                job_id=job.id,
                provider=job.provider,
                model=job.model,
                priority=job.priority,
                filename=job.filename,
                concurrency=job.concurrency,
            ),
            id=job.id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(JOB_STATUS, job.status),
                    SearchAttributePair(TENANT_ID, job.tenant_id),
                    SearchAttributePair(PRIORITY, job.priority),
                    SearchAttributePair(PROVIDER, job.provider),
                    SearchAttributePair(FILENAME, job.filename),
                ]
            ),
            static_summary=f"Parse {job.filename} ({job.provider})",
            priority=temporal_priority(job.priority),
        )
    except RPCError as error:
        # Temporal refusing the start itself would refuse it again: no use retrying.
        refused = error.status == RPCStatusCode.INVALID_ARGUMENT
        await jobs_repo.record_state(
            session,
            job_id=job.id,
            status=JobStatus.FAILED,
            event="failed",
            error=JobError(
                "SchedulingFailed",
                "the job could not be scheduled: the Temporal service did not accept it",
                retryable=not refused,
            ),
            detail={"reason": str(error)},
        )
        await session.commit()
        if refused:
            raise Problem(
                422,
                "validation-error",
                f"the Temporal service refused the job: {error.message}",
                job_id=job.id,
            ) from error
        raise Problem(
            503,
            "temporal-unavailable",
            "the job was recorded but could not be scheduled; retry later",
            job_id=job.id,
        ) from error


@router.get(
    "",
    response_model=JobList,
    responses={400: {"description": "A mangled cursor (invalid-cursor)"}},
)
async def list_jobs(
    session: SessionDep,
    tenant: TenantDep,
    status: Annotated[list[JobStatus] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> JobList:
    """Jobs newest first; filter by one or more statuses; follow `next_cursor` for more."""
    try:
        jobs, next_cursor = await jobs_repo.list_jobs(
            session,
            tenant_id=tenant,
            statuses=[s.value for s in status or []],
            limit=limit,
            cursor=cursor,
        )
    except ValueError as error:
        raise Problem(400, "invalid-cursor", "the cursor is not valid") from error
    return JobList(data=[JobPublic.of(job) for job in jobs], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobPublic, responses=JOB_NOT_FOUND)
async def get_job(job_id: str, session: SessionDep, tenant: TenantDep) -> JobPublic:
    return JobPublic.of(await load_job(session, tenant, job_id))


@router.get("/{job_id}/events", response_model=JobEventList, responses=JOB_NOT_FOUND)
async def list_job_events(
    job_id: str,
    session: SessionDep,
    tenant: TenantDep,
    after: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> JobEventList:
    """The job's audit trail, oldest first; `next_cursor` is the `after` of the next page."""
    await load_job(session, tenant, job_id)
    events = await jobs_repo.list_events(session, job_id=job_id, after_id=after, limit=limit)
    next_cursor = str(events[-1].id) if len(events) == limit else None
    return JobEventList(data=[JobEventPublic.of(e) for e in events], next_cursor=next_cursor)


@router.get(
    "/{job_id}/result",
    # Answered as a JSONResponse of Playbook.export(), which is this model's serialization.
    response_model=Playbook,
    responses={
        200: {"description": "The play as playbook/v1", "headers": PARTIAL_HEADERS},
        **JOB_NOT_FOUND,
        409: {"description": NOT_COMPLETED},
    },
)
async def get_job_result(
    job_id: str,
    session: SessionDep,
    tenant: TenantDep,
    partial: Annotated[
        bool, Query(description="Assemble the chunks parsed so far, in any state.")
    ] = False,
) -> Response:
    """The parsed play as playbook/v1 JSON, once the job has completed (or partial=true)."""
    job = await load_job(session, tenant, job_id)
    if partial:
        return await _partial_result(session, job)
    play = await plays_repo.play_for_job(session, job_id=job.id)
    if job.status != JobStatus.COMPLETED.value or play is None:
        raise Problem(
            409,
            "job-not-completed",
            f"the job is {job.status}, not completed",
            job_status=job.status,
            allowed_actions=JobPublic.of(job).allowed_actions,
        )
    playbook = await plays_repo.load_playbook(session, play=play)
    body: dict[str, Any] = playbook.export()
    return JSONResponse(body)


async def _partial_result(session: SessionDep, job: Job) -> Response:
    results = await chunks_repo.chunk_results(session, job_id=job.id)
    parses: list[ChunkParse] = []
    previous = -1
    for result in results:
        parse = ChunkParse.model_validate(result.result)
        if result.index != previous + 1:
            # A gap: the chunk before this one is missing, so nothing carries over into it.
            parse.continues_previous = False
        parses.append(parse)
        previous = result.index
    play_outline = outline.Outline.model_validate(job.outline) if job.outline else None
    try:
        playbook = await asyncio.to_thread(assemble.assemble, parses, play_outline)
    except ParseError as error:
        raise Problem(
            409,
            "nothing-parsed-yet",
            "no chunk of this job has been parsed yet",
            job_status=job.status,
            allowed_actions=JobPublic.of(job).allowed_actions,
        ) from error
    return JSONResponse(
        playbook.export(),
        headers={
            "X-Playparse-Partial": "true",
            "X-Chunks-Done": str(len(results)),
            "X-Chunks-Total": str(job.chunks_total),
        },
    )
