"""Temporal Schedules playparse keeps, and the namespace's history retention to match them."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError

from playparse.config import Settings

log = logging.getLogger("playparse.schedules")

# The retention schedule of the default deployment (task queue `playparse`). A schedule's runs
# take its id as their workflow id, plus the time the schedule started each.
RETENTION_SCHEDULE_ID = "playparse-retention"
DEFAULT_TASK_QUEUE: str = Settings.model_fields["task_queue"].default


def retention_schedule_id(task_queue: str) -> str:
    """The retention schedule of the deployment serving `task_queue`.

    Deployments that share a Temporal namespace tell each other apart by their task queues, so
    the id names it: with one id for all, every worker's start would take the schedule over
    and point it at its own task queue and database, leaving the other deployment's jobs
    unpurged. The default task queue keeps the id the schedule always had, so workers of an
    existing deployment update the schedule they created instead of leaving it behind,
    running beside a new one. The runs' workflow ids are this id too: schedules with the
    same interval start their runs at the same times, and two runs with one id would collide.
    """
    if task_queue == DEFAULT_TASK_QUEUE:
        return RETENTION_SCHEDULE_ID
    return f"{RETENTION_SCHEDULE_ID}-{task_queue}"


def retention_schedule(settings: Settings) -> Schedule:
    """RetentionWorkflow every `retention_every_hours` on the main task queue.

    A run still going when the next is due makes that one skip, and after an outage at most
    one missed run is made up (the catch-up window is one interval).
    """
    # Imported here: playparse never imports workflow code at module level (devstack aside).
    from workflows.retention import RetentionInput, RetentionWorkflow

    every = timedelta(hours=settings.retention_every_hours)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run,
            RetentionInput(
                retention_days=settings.retention_days,
                delete_plays=settings.retention_delete_plays,
            ),
            id=retention_schedule_id(settings.task_queue),
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=max(every, timedelta(minutes=1)),
        ),
    )


async def ensure_retention_schedule(client: Client, settings: Settings) -> ScheduleHandle:
    """Create the retention schedule, or bring an existing one up to date with `settings`.

    Safe to call from every worker at every start. An update keeps the schedule's state, so a
    schedule paused from the Temporal UI or CLI stays paused.
    """
    schedule = retention_schedule(settings)
    schedule_id = retention_schedule_id(settings.task_queue)
    try:
        handle = await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            state = current.description.schedule.state
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

        await handle.update(keep_state)
        log.info("retention schedule %s updated", schedule_id)
    else:
        log.info("retention schedule %s created", schedule_id)
    return handle


async def set_namespace_retention(client: Client, namespace: str, days: float) -> bool:
    """Keep closed workflows' histories in `namespace` for `days`; False if the server refused.

    A server that does not let this client change the namespace (Temporal Cloud, or missing
    permissions) gets a warning, not an error: the jobs' own retention still runs.
    """
    wanted = timedelta(days=days)
    try:
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
        if described.config.workflow_execution_retention_ttl.ToTimedelta() == wanted:
            return True
        ttl = Duration()
        ttl.FromTimedelta(wanted)
        await client.workflow_service.update_namespace(
            UpdateNamespaceRequest(
                namespace=namespace, config=NamespaceConfig(workflow_execution_retention_ttl=ttl)
            )
        )
    except RPCError as error:
        log.warning(
            "could not set the workflow retention of namespace %s to %s days: %s",
            namespace,
            days,
            error.message,
        )
        return False
    log.info("workflow retention of namespace %s set to %s days", namespace, days)
    return True


async def ensure_retention(client: Client, settings: Settings) -> None:
    """The retention schedule and, to match it, Temporal's retention of closed workflows."""
    await ensure_retention_schedule(client, settings)
    await set_namespace_retention(client, client.namespace, settings.retention_days)
