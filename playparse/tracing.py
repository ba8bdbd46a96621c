"""OpenTelemetry tracing, on when PLAYPARSE_OTEL_ENDPOINT names an OTLP/HTTP collector.

One trace follows a job: the API request that submits or steers it (FastAPI's instrumentation),
the workflow and each activity (Temporal's TracingInterceptor, passed to the client and so to
the workers built on it).
"""

from __future__ import annotations

from typing import Any

from playparse.config import Settings


def configure_tracing(settings: Settings, service: str) -> bool:
    """Install a tracer provider exporting to the configured endpoint; False when off."""
    if not settings.otel_endpoint:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    endpoint = settings.otel_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return True


def instrument_api(app: Any) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="/metrics,/api/health/live")
