"""/openapi.json describes the errors as the API answers them: RFC 9457 problem bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
from temporalio.worker import Worker

from tests.api.test_jobs_api import submit, wait_until_final
from tests.conftest import Api
from tests.helpers import EXAMPLE

PROBLEM = "application/problem+json"
SCHEMAS = "#/components/schemas/"
PLAY = b"ANNA.\nHello.\n\nBEN.\nGoodbye.\n"
UNKNOWN_JOB = "job_0123456789abcdef"
ELSEWHERE = {"Origin": "https://elsewhere.example"}

# What each operation can answer, read from its route, api.problems and the app's wiring
# (400 from api.hosts, 403 from same_origin_writes, 413 from the upload limit, 500 from the
# catch-all handler).
DECLARED = {
    ("get", "/api/jobs"): {"200", "400", "422", "500"},
    ("post", "/api/jobs"): {"202", "400", "403", "413", "415", "422", "500", "503"},
    ("get", "/api/jobs/{job_id}"): {"200", "400", "404", "500"},
    ("patch", "/api/jobs/{job_id}"): {
        "202",
        "400",
        "403",
        "404",
        "409",
        "413",
        "422",
        "500",
        "503",
    },
    ("get", "/api/jobs/{job_id}/events"): {"200", "400", "404", "422", "500"},
    ("get", "/api/jobs/{job_id}/result"): {"200", "400", "404", "409", "422", "500"},
    ("get", "/api/jobs/{job_id}/result.md"): {"200", "400", "404", "409", "422", "500"},
    ("get", "/api/jobs/{job_id}/stream"): {"200", "204", "400", "404", "422", "500"},
    ("post", "/api/jobs/{job_id}/pause"): {
        "202",
        "400",
        "403",
        "404",
        "409",
        "413",
        "422",
        "500",
        "503",
    },
    ("post", "/api/jobs/{job_id}/cancel"): {"202", "400", "403", "404", "409", "413", "500", "503"},
    ("post", "/api/jobs/{job_id}/retry"): {"202", "400", "403", "404", "409", "413", "500", "503"},
    ("get", "/api/plays/{play_id}"): {"200", "400", "404", "500"},
    ("get", "/api/health"): {"200", "400", "500", "503"},
}


async def load_openapi(api: Api) -> dict[str, Any]:
    response = await api.http.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def operation_for(document: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    """The operation of the document that a request to `url` reaches."""
    path = httpx.URL(url).path
    for template, methods in document["paths"].items():
        parts = re.split(r"(\{[^}]+\})", template)
        pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        if re.fullmatch(pattern, path) and method in methods:
            operation: dict[str, Any] = methods[method]
            return operation
    raise AssertionError(f"no operation for {method.upper()} {url}")


# The JSON Schema keywords `check` understands; a schema using another one fails the test
# rather than passing unchecked.
KEYWORDS = {"$ref", "type", "required", "properties", "items", "title", "description", "format"}
KEYWORDS |= {"examples", "enum", "additionalProperties", "anyOf", "oneOf", "const", "default"}
KEYWORDS |= {"minimum", "maximum"}
# `discriminator` only names which of `oneOf` to try first; `check` tries them all.
KEYWORDS |= {"discriminator"}
TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def check(value: Any, schema: dict[str, Any], document: dict[str, Any], at: str = "body") -> None:
    """Assert that `value` is valid against `schema`, whose $refs point into `document`."""
    assert set(schema) <= KEYWORDS, f"{at}: unsupported keywords {set(schema) - KEYWORDS}"
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMAS)
        check(value, document["components"]["schemas"][name], document, at)
        return
    if "type" in schema:
        kind = schema["type"]
        assert isinstance(value, TYPES[kind]), f"{at}: {value!r} is not of type {kind}"
        assert kind == "boolean" or not isinstance(value, bool), f"{at}: {value!r} is a boolean"
    if "enum" in schema:
        assert value in schema["enum"], f"{at}: {value!r} is not one of {schema['enum']}"
    if "minimum" in schema:
        assert value >= schema["minimum"], f"{at}: {value!r} is below {schema['minimum']}"
    if "maximum" in schema:
        assert value <= schema["maximum"], f"{at}: {value!r} is above {schema['maximum']}"
    if "const" in schema:
        assert value == schema["const"], f"{at}: {value!r} is not {schema['const']!r}"
    for keyword, fits in (("anyOf", lambda n: n >= 1), ("oneOf", lambda n: n == 1)):
        if keyword in schema:
            n = sum(is_valid(value, option, document, at) for option in schema[keyword])
            assert fits(n), f"{at}: {value!r} fits {n} of its {keyword}"
    for name in schema.get("required", []):
        assert name in value, f"{at}: {name!r} is missing"
    for name, member in schema.get("properties", {}).items():
        if name in value:
            check(value[name], member, document, f"{at}.{name}")
    others = schema.get("additionalProperties", True)
    if others is not True:
        for name in set(value) - set(schema.get("properties", {})):
            assert others is not False, f"{at}: unexpected member {name!r}"
            check(value[name], others, document, f"{at}.{name}")
    for index, item in enumerate(value if "items" in schema else []):
        check(item, schema["items"], document, f"{at}[{index}]")


def is_valid(value: Any, schema: dict[str, Any], document: dict[str, Any], at: str) -> bool:
    try:
        check(value, schema, document, at)
    except AssertionError as error:
        if "unsupported keywords" in str(error):
            raise
        return False
    return True


def check_against_document(
    document: dict[str, Any], method: str, url: str, response: httpx.Response
) -> dict[str, Any]:
    """Assert that the document declares the response's status, media type and body."""
    responses = operation_for(document, method, url)["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {url}: {status} is not declared"
    media_type = response.headers["content-type"].split(";")[0]
    content = responses[status]["content"]
    assert media_type in content, f"{method.upper()} {url}: {media_type} is not declared"
    for name in ("x-playparse-partial", "x-chunks-done", "x-chunks-total"):
        if name in response.headers:
            headers = {h.lower() for h in responses[status].get("headers", {})}
            assert name in headers, f"{method.upper()} {url}: header {name} is not declared"
    if media_type != "application/json" and not media_type.endswith("+json"):
        check(response.text, content[media_type]["schema"], document)
        return {}
    body: dict[str, Any] = response.json()
    check(body, content[media_type]["schema"], document)
    return body


async def test_every_error_response_is_a_problem_and_fastapis_422_is_gone(api: Api) -> None:
    document = await load_openapi(api)
    assert "HTTPValidationError" not in json.dumps(document)
    assert "ValidationError" not in document["components"]["schemas"]
    schemas = document["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}
    assert schemas["ValidationProblem"]["properties"]["errors"]["type"] == "array"
    checked = 0
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            # The health report is answered as itself, unhealthy or not.
            if int(status) < 400 or (path, status) == ("/api/health", "503"):
                continue
            name = "ValidationProblem" if status == "422" else "Problem"
            expected = {PROBLEM: {"schema": {"$ref": SCHEMAS + name}}}
            assert response["content"] == expected, (method, path, status)
            checked += 1
    assert checked > 50


async def test_each_operation_declares_the_statuses_it_can_answer(api: Api) -> None:
    document = await load_openapi(api)
    declared = {
        (method, path): set(operation["responses"])
        for method, path, operation in operations(document)
        if (method, path) in DECLARED
    }
    assert declared == DECLARED


async def test_the_answers_that_are_not_json_have_their_media_types(api: Api) -> None:
    document = await load_openapi(api)
    paths = document["paths"]
    result = paths["/api/jobs/{job_id}/result"]["get"]["responses"]["200"]["content"]
    assert result == {"application/json": {"schema": {"$ref": SCHEMAS + "Playbook"}}}
    for suffix, media_type in [("md", "text/markdown"), ("txt", "text/plain")]:
        download = paths[f"/api/jobs/{{job_id}}/result.{suffix}"]["get"]["responses"]["200"]
        assert download["content"] == {media_type: {"schema": {"type": "string"}}}
    health = paths["/api/health"]["get"]["responses"]
    for status in ("200", "503"):
        schema = {"$ref": SCHEMAS + "HealthReport"}
        assert health[status]["content"] == {"application/json": {"schema": schema}}


async def test_real_errors_are_what_the_document_declares(api: Api) -> None:
    document = await load_openapi(api)
    job = (await api.http.post("/api/jobs", files={"file": ("a.txt", PLAY)})).json()
    requests: list[tuple[str, str, dict[str, Any], int]] = [
        ("get", "/api/jobs?limit=0", {}, 422),
        ("get", "/api/jobs?cursor=!!", {}, 400),
        ("get", f"/api/jobs/{UNKNOWN_JOB}", {}, 404),
        ("get", f"/api/jobs/{UNKNOWN_JOB}/events", {}, 404),
        ("get", "/api/plays/play_0123456789abcdef", {}, 404),
        ("post", "/api/jobs", {"data": {"priority": "9"}}, 422),
        ("post", "/api/jobs", {"files": {"file": ("a.png", b"\x89PNG\r\n\x1a\n" * 64)}}, 415),
        ("post", f"/api/jobs/{UNKNOWN_JOB}/pause", {}, 404),
        ("post", f"/api/jobs/{job['id']}/cancel", {"headers": ELSEWHERE}, 403),
        # No worker polls this test's task queue, so the job stays queued.
        ("get", f"/api/jobs/{job['id']}/result", {}, 409),
        ("get", f"/api/jobs/{job['id']}/result.md?character=nobody", {}, 409),
    ]
    for method, url, kwargs, status in requests:
        response = await api.http.request(method.upper(), url, **kwargs)
        assert response.status_code == status, (method, url, response.text)
        body = check_against_document(document, method, url, response)
        assert body["status"] == status
        assert body["type"].startswith("urn:playparse:problem:")

    invalid = await api.http.get("/api/jobs?limit=0")
    errors = check_against_document(document, "get", "/api/jobs", invalid)["errors"]
    assert [error["field"] for error in errors] == ["query.limit"]
    url = f"/api/jobs/{job['id']}/result"
    body = check_against_document(document, "get", url, await api.http.get(url))
    assert body["job_status"] == "queued" and "cancel" in body["allowed_actions"]

    # Not a problem: the health report, whether healthy or not (no worker polls the test's queue).
    health = await api.http.get("/api/health")
    assert check_against_document(document, "get", "/api/health", health)["checks"]["database"]


async def test_a_parsed_play_and_a_partial_one_are_what_the_document_declares(
    api: Api, worker: Worker
) -> None:
    document = await load_openapi(api)
    job = (await submit(api, EXAMPLE.read_bytes(), EXAMPLE.name, chunk_size=2500)).json()
    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed"
    urls = [f"/api/jobs/{job['id']}", f"/api/plays/{done['play_id']}"]
    for suffix in ("", ".md", ".txt"):
        urls += [f"/api/jobs/{job['id']}/result{suffix}"] * 2
        urls[-1] += "?partial=true"
    for url in urls:
        response = await api.http.get(url)
        assert response.status_code == 200, url
        check_against_document(document, "get", url, response)
        assert ("x-playparse-partial" in response.headers) == url.endswith("partial=true"), url
    play = (await api.http.get(f"/api/plays/{done['play_id']}")).json()
    assert play["playbook"] == (await api.http.get(f"/api/jobs/{job['id']}/result")).json()


async def test_every_change_the_document_lists_is_refused_from_another_site(api: Api) -> None:
    """The 403 the document declares for every change is what same_origin_writes answers."""
    document = await load_openapi(api)
    changes = 0
    for method, path, operation in operations(document):
        if method == "get":
            assert "403" not in operation["responses"], path
            continue
        url = re.sub(r"\{[^}]+\}", UNKNOWN_JOB, path)
        response = await api.http.request(method.upper(), url, headers=ELSEWHERE)
        assert response.status_code == 403, (method, path, response.text)
        assert check_against_document(document, method, url, response)["type"].endswith(
            "cross-site-request"
        )
        changes += 1
    assert changes == 6
