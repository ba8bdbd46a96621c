"""A small HTTP client for the playparse API, used by the CLI and the demo.

ApiError: the API answered with a problem (`status`, `detail`, the problem body as `problem`).
  Unreachable: no answer at all, or an event stream that could not be resumed.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from playparse.ids import is_job_id

# The server sends a keep-alive comment at least every 15 s; a stream silent for longer is dead.
STREAM_READ_TIMEOUT_S = 45.0
RECONNECT_DELAY_S = 0.5
MAX_RECONNECT_DELAY_S = 8.0
_NEWLINE = re.compile(r"\r\n|\r|\n")


class ApiError(Exception):
    """The API answered with a problem body, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        problem: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problem = problem or {}
        self.detail = detail or message


class Unreachable(ApiError):
    pass


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched Server-Sent Event."""

    event: str
    data: str
    id: str | None


class SSEDecoder:
    """Incremental `text/event-stream` parser, as the WHATWG HTML standard specifies it.

    Lines end in CRLF, LF or CR; `:` starts a comment; an event is dispatched at a blank line and
    only when it has data; the last event id carries over to later events; an event left
    incomplete when the stream ends is dropped.
    """

    def __init__(self) -> None:
        self.last_event_id = ""
        self.retry_ms: int | None = None
        self._buffer = ""
        self._started = False
        self._event = ""
        self._data: list[str] = []

    def reset(self) -> None:
        """Forget a partial line and event from a connection that dropped; keep the last id."""
        self._buffer, self._event, self._data, self._started = "", "", [], False

    def feed(self, text: str) -> list[ServerSentEvent]:
        if not self._started and text:
            text = text.removeprefix("\ufeff")
            self._started = True
        self._buffer += text
        # A CR at the very end may be the first half of a CRLF: keep it for the next piece.
        held = "\r" if self._buffer.endswith("\r") else ""
        *lines, self._buffer = _NEWLINE.split(self._buffer[: len(self._buffer) - len(held)])
        self._buffer += held
        events = [self._line(line) for line in lines]
        return [event for event in events if event is not None]

    def _line(self, line: str) -> ServerSentEvent | None:
        if line == "":
            data, event = self._data, self._event
            self._data, self._event = [], ""
            if not data:
                return None
            return ServerSentEvent(event or "message", "\n".join(data), self.last_event_id or None)
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None


def _problem_error(response: httpx.Response) -> ApiError:
    problem: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        body = response.json()
        if isinstance(body, dict):
            problem = body
    detail = str(problem.get("detail") or _first_line(response.text) or response.reason_phrase)
    return ApiError(
        f"{response.status_code} {detail}",
        status=response.status_code,
        problem=problem,
        detail=detail,
    )


def _first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line of a body that is not a problem (an HTML page, say), shortened."""
    line = next((each.strip() for each in text.splitlines() if each.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


class PlayparseClient:
    """Calls the REST API; every failure becomes an ApiError with one readable line."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        try:
            self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        except httpx.InvalidURL as error:
            raise ApiError(f"{base_url!r} is not a valid URL: {error}") from None
        if self._http.base_url.scheme not in ("http", "https") or not self._http.base_url.host:
            self._http.close()
            raise ApiError(f"{base_url!r} is not an http:// or https:// URL")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlayparseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise Unreachable(
                f"cannot reach the playparse API at {self.base_url}: {error}"
            ) from None
        if not response.is_success:
            raise _problem_error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON object the API answered with; anything else is an ApiError."""
        response = self._request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # Something answered, but not the playparse API (a proxy's page, another service).
            raise Unreachable(
                f"{self.base_url} is not the playparse API: {method} {path} did not answer "
                "with a JSON object"
            )
        return body

    def submit(
        self,
        path: Path,
        *,
        options: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        data = {k: str(v) for k, v in (options or {}).items() if v is not None}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        with path.open("rb") as handle:
            return self._json(
                "POST", "/api/jobs", files={"file": (path.name, handle)}, data=data, headers=headers
            )

    def job(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", _job_path(job_id))

    def jobs(
        self, *, status: list[str] | None = None, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        return self._json("GET", "/api/jobs", params=params)

    def result(self, job_id: str, *, partial: bool = False) -> dict[str, Any]:
        """The playbook; with `partial`, assembled from the chunks parsed so far."""
        params = {"partial": "true"} if partial else {}
        return self._json("GET", _job_path(job_id, "result"), params=params)

    def _control(self, job_id: str, action: str) -> dict[str, Any]:
        return self._json("POST", _job_path(job_id, action))

    def pause(self, job_id: str) -> dict[str, Any]:
        return self._control(job_id, "pause")

    def resume(self, job_id: str) -> dict[str, Any]:
        return self._control(job_id, "resume")

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._control(job_id, "cancel")

    def retry(self, job_id: str) -> dict[str, Any]:
        return self._control(job_id, "retry")

    def set_priority(self, job_id: str, priority: int) -> dict[str, Any]:
        body = {"priority": priority}
        return self._json("PATCH", _job_path(job_id), json=body)

    def events(
        self,
        job_id: str,
        *,
        last_event_id: str | None = None,
        resume: bool = False,
        reconnects: int = 5,
    ) -> Iterator[ServerSentEvent]:
        """Follow the job's event stream until the server ends it (once the job is final).

        A stream that drops is resumed with Last-Event-ID, so no event comes twice: up to
        `reconnects` attempts in a row, each waiting longer. When the first connection fails
        there is nothing to resume and the error is raised at once, unless `resume` says that
        this call carries on an earlier stream.
        """
        decoder = SSEDecoder()
        decoder.last_event_id = last_event_id or ""
        seen = _event_number(decoder.last_event_id)
        failures = 0
        connected = resume
        while True:
            try:
                for event in self._stream_once(job_id, decoder):
                    connected = True
                    if event is None:
                        continue
                    failures = 0
                    number = _event_number(event.id)
                    if number is not None and seen is not None and number <= seen:
                        continue  # a server that ignored Last-Event-ID: never show it twice
                    seen = number if number is not None else seen
                    yield event
                return
            except (httpx.TransportError, _ServerError) as error:
                if not connected:
                    if isinstance(error, _ServerError):
                        raise error.error from None
                    raise Unreachable(
                        f"cannot reach the playparse API at {self.base_url}: {error}"
                    ) from None
                if failures >= reconnects:
                    raise Unreachable(
                        f"lost the event stream of job {job_id} after {failures} reconnects: "
                        f"{error}"
                    ) from None
                delay = (decoder.retry_ms or 1000 * RECONNECT_DELAY_S) / 1000 * 2**failures
                failures += 1
                time.sleep(min(delay, MAX_RECONNECT_DELAY_S))

    def _stream_once(self, job_id: str, decoder: SSEDecoder) -> Iterator[ServerSentEvent | None]:
        """One connection: None once it is open, then its events."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if decoder.last_event_id:
            headers["Last-Event-ID"] = decoder.last_event_id
        timeout = httpx.Timeout(self._http.timeout.connect, read=STREAM_READ_TIMEOUT_S)
        path = _job_path(job_id, "stream")
        with self._http.stream("GET", path, headers=headers, timeout=timeout) as response:
            if response.status_code == 204:
                # The job has ended and every event up to then was sent already.
                yield None
                return
            if response.status_code >= 400:
                response.read()
                error = _problem_error(response)
                raise _ServerError(error) if response.status_code >= 500 else error
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                raise ApiError(f"{path} did not answer with an event stream")
            yield None
            decoder.reset()
            for text in response.iter_text():
                yield from decoder.feed(text)


class _ServerError(Exception):
    """A 5xx answer to a stream request: worth another attempt when resuming a stream."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _job_path(job_id: str, action: str | None = None) -> str:
    """The API path of a job (and one of its actions); a malformed id is a usage error here,
    before it could name another endpoint (`stats`) or none at all."""
    if not is_job_id(job_id):
        raise ApiError(
            f"{job_id!r} is not a job id (ids look like job_3fa85f6457174562)",
            status=400,
        )
    return f"/api/jobs/{job_id}" + (f"/{action}" if action else "")


def _event_number(event_id: str | None) -> int | None:
    return int(event_id) if event_id and event_id.isascii() and event_id.isdigit() else None
