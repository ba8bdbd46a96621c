"""The OpenAPI document as the API really answers: every error is an RFC 9457 problem.

FastAPI documents the 422 of its own validation with its HTTPValidationError body under
application/json, and knows nothing of api.problems, which answers every error (422 included)
with a problem body under application/problem+json. The routes declare the errors they raise
with `responses=` (a status and a description naming the problem types); `install_problem_openapi`
gives every error response of the document the problem schema, replaces FastAPI's 422 and adds
the errors that the app's wiring answers for any operation of a kind (api.hosts, api.web,
api.limits).
It also gives a saved play's playbook its schema, which the route's model leaves open.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.limits import LIMITED_METHODS
from api.problems import PROBLEM_MEDIA_TYPE
from api.web import SAFE_METHODS

SCHEMAS = "#/components/schemas/"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": (
        "An RFC 9457 problem: the body of every error the API answers. Members other than the "
        "four required ones appear with the problems that carry them."
    ),
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "description": (
                "The kind of problem, urn:playparse:problem:<slug>; stable, for clients to act "
                "on. Each response's description names the slugs it can carry."
            ),
            "examples": ["urn:playparse:problem:job-not-found"],
        },
        "title": {"type": "string", "description": "The status in words."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What was wrong with this request."},
        "job_status": {
            "type": "string",
            "description": "With a 409: the state of the job.",
        },
        "allowed_actions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "With a 409: the actions the job's state allows.",
        },
        "max_bytes": {"type": "integer", "description": "With a 413: the upload limit."},
        "job_id": {
            "type": "string",
            "description": (
                "With a 503 temporal-unavailable, or a 422 when Temporal refused the start: the "
                "job recorded but not scheduled."
            ),
        },
    },
}

VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    **PROBLEM_SCHEMA,
    "title": "ValidationProblem",
    "description": (
        "A 422 problem. `errors` names each invalid field when the request failed validation; "
        "a request refused by the API's own checks (unknown-provider, say) has only `detail`."
    ),
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {
                        "type": "string",
                        "description": (
                            "The invalid field: a form or body field by name, a parameter as "
                            "`query.limit` or `header.idempotency-key`."
                        ),
                    },
                    "message": {"type": "string", "description": "What is wrong with it."},
                },
            },
        },
    },
}

VALIDATION_FAILED = {"description": "A parameter or the body is invalid (validation-error)"}
# What the app's wiring answers, whatever the operation does: api.app puts same_origin_writes
# on every router with changes (403), the upload limit holds every body (413).
CROSS_SITE = {"description": "Sent by a browser from another site's page (cross-site-request)"}
TOO_LARGE = {"description": "The body is larger than the upload limit (too-large)"}
UNEXPECTED = {"description": "An unexpected error (internal-error)"}
# api.hosts answers a request for another host name before any route sees it.
UNTRUSTED_HOST = "a Host this API does not answer to (untrusted-host)"

FASTAPI_422_SCHEMA = {"$ref": SCHEMAS + "HTTPValidationError"}
# Schema keywords that only describe; a parameter whose schema has no others takes any text.
ANNOTATIONS = frozenset({"title", "description", "default", "examples"})


def install_problem_openapi(app: FastAPI) -> None:
    """Have `app.openapi()` (and so /openapi.json) describe the errors as problem bodies."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            # FastAPI's own document, cached on the app by `generate`, corrected in place.
            describe_problems(generate())
        return generate()

    # FastAPI's documented way to change the document ("Extending OpenAPI").
    app.openapi = openapi  # type: ignore[method-assign]


def describe_problems(document: dict[str, Any]) -> None:
    """Correct FastAPI's `document` in place: problem bodies for its errors, and the schemas."""
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation["responses"]
            if _is_fastapi_422(responses.get("422")):
                if _can_fail_validation(operation):
                    responses["422"] = dict(VALIDATION_FAILED)
                else:
                    del responses["422"]
            if method.upper() not in SAFE_METHODS:
                responses.setdefault("403", dict(CROSS_SITE))
            if method.upper() in LIMITED_METHODS:
                responses.setdefault("413", dict(TOO_LARGE))
            responses.setdefault("500", dict(UNEXPECTED))
            if "400" in responses:
                described = responses["400"]["description"]
                responses["400"] = {
                    **responses["400"],
                    "description": f"{described}, or {UNTRUSTED_HOST}",
                }
            else:
                responses["400"] = {"description": UNTRUSTED_HOST[0].upper() + UNTRUSTED_HOST[1:]}
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    name = "ValidationProblem" if status == "422" else "Problem"
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": SCHEMAS + name}}}
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # FastAPI's 422 bodies, referenced by nothing now.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    # A saved play's document is a dict at run time (answered as stored), a Playbook in fact.
    if "PlayPublic" in schemas and "Playbook" in schemas:
        schemas["PlayPublic"]["properties"]["playbook"] = {"$ref": SCHEMAS + "Playbook"}
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    document["components"]["schemas"] = dict(sorted(schemas.items()))


def _is_fastapi_422(response: dict[str, Any] | None) -> bool:
    content = (response or {}).get("content", {})
    return bool(content.get("application/json", {}).get("schema") == FASTAPI_422_SCHEMA)


def _can_fail_validation(operation: dict[str, Any]) -> bool:
    """Whether FastAPI can refuse the operation's input. It declares a 422 for any operation with
    parameters, but a path segment (always there) read as a plain string is never refused."""
    if "requestBody" in operation:
        return True
    return any(
        (parameter.get("required") and parameter["in"] != "path")
        or not _takes_any_text(parameter.get("schema", {}))
        for parameter in operation.get("parameters", [])
    )


def _takes_any_text(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return all(
        set(option) - ANNOTATIONS == {"type"} and option["type"] in ("string", "null")
        for option in options
    )
