"""The one place a Temporal client is built, and the search attributes jobs are found by."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import Priority, SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

JOB_STATUS = SearchAttributeKey.for_keyword("JobStatus")
TENANT_ID = SearchAttributeKey.for_keyword("TenantId")
PRIORITY = SearchAttributeKey.for_int("Priority")
PROVIDER = SearchAttributeKey.for_keyword("Provider")
FILENAME = SearchAttributeKey.for_keyword("Filename")

# Name -> type as `temporal server start-dev --search-attribute` and the operator API spell it.
SEARCH_ATTRIBUTES: dict[str, str] = {
    JOB_STATUS.name: "Keyword",
    TENANT_ID.name: "Keyword",
    PRIORITY.name: "Int",
    PROVIDER.name: "Keyword",
    FILENAME.name: "Keyword",
}


def temporal_priority(priority: int) -> Priority:
    """Our priority (1-5, 5 most urgent) as Temporal's priority_key (1 most urgent)."""
    return Priority(priority_key=6 - max(1, min(5, priority)))


def worker_runtime(metrics_address: str | None) -> Runtime | None:
    """A Temporal runtime serving the SDK's own metrics for Prometheus, when asked for."""
    if not metrics_address:
        return None
    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=metrics_address))
    )


async def connect(
    address: str,
    namespace: str = "default",
    *,
    runtime: Runtime | None = None,
    tracing: bool = False,
) -> Client:
    """A client with the data converter every playparse client and worker must share.

    With `tracing`, OpenTelemetry spans follow a job from the API through the workflow to its
    activities (Temporal's contrib interceptor; the tracer provider is configured by the
    process, see playparse.tracing).
    """
    interceptors = []
    if tracing:
        from temporalio.contrib.opentelemetry import TracingInterceptor

        interceptors.append(TracingInterceptor())
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
        interceptors=interceptors,
    )
