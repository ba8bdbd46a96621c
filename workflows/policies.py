"""Named timeouts and retry policies for every activity the workflows call."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Permanent faults are raised non-retryable where they happen; these names are a second guard.
PERMANENT_ERRORS = [
    "UnsupportedDocument",
    "EmptyDocument",
    "EncryptedDocument",
    "UnreadableDocument",
    "NoTextFound",
    "ExtractionLimitExceeded",
    "DocumentTooLarge",
    "ParseError",
    "UnknownProvider",
    "JobNotFound",
]

# Bookkeeping against our own database: quick, and worth retrying for a while if it hiccups.
DB_TIMEOUT = timedelta(seconds=10)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=20,
    non_retryable_error_types=PERMANENT_ERRORS,
)

# Extraction runs in a subprocess with its own limits; the activity timeout sits above them.
EXTRACT_TIMEOUT = timedelta(minutes=5)
EXTRACT_HEARTBEAT = timedelta(seconds=10)
EXTRACT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=3,
    non_retryable_error_types=PERMANENT_ERRORS,
)

# Planning and assembling heartbeat while they work, so a worker that dies during them is
# noticed within the heartbeat timeout rather than the whole time limit.
PLAN_TIMEOUT = timedelta(minutes=2)
ASSEMBLE_TIMEOUT = timedelta(minutes=5)
STEP_HEARTBEAT = timedelta(seconds=10)
# Planning is pure computation on the stored text: an attempt that ran out of time would run
# out again, so a few attempts (for a lost worker or a database hiccup) are enough.
PLAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
    non_retryable_error_types=PERMANENT_ERRORS,
)

# One provider call per chunk. Heartbeats every second let cancel and pause reach a chunk
# within a second or two; the heartbeat timeout notices a worker that died mid-chunk.
CHUNK_TIMEOUT = timedelta(minutes=10)
CHUNK_HEARTBEAT = timedelta(seconds=10)
# Provider overloads and rate-limit spells last minutes, not seconds: ten attempts 2 s apart,
# doubling up to 2 min (or as the provider's Retry-After says), wait out about eight minutes
# of them before a chunk fails its job. A provider resting after repeated failures (30 s,
# doubling to 5 min) spends one attempt per rest.
CHUNK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=10,
    non_retryable_error_types=PERMANENT_ERRORS,
)

# Retention deletes old jobs in batches of a few hundred, heartbeating between and during
# batches; a retry carries on where the last attempt stopped (what is gone stays gone).
RETENTION_TIMEOUT = timedelta(hours=1)
RETENTION_HEARTBEAT = timedelta(seconds=30)
RETENTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=5,
)
