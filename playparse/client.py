"""A small HTTP client for the playparse API, used by the CLI and the demo."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import httpx


class ApiError(Exception):
    """The API answered with a problem body, or could not be reached."""

    def __init__(
        self, message: str, *, status: int | None = None, problem: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problem = problem or {}


class Unreachable(ApiError):
    pass


class PlayparseClient:
    """Calls the REST API; every failure becomes an ApiError with one readable line."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

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
        if response.status_code >= 400:
            problem: dict[str, Any] = {}
            with contextlib.suppress(ValueError):
                problem = response.json()
            detail = problem.get("detail") or response.text.strip() or response.reason_phrase
            raise ApiError(
                f"{response.status_code} {detail}", status=response.status_code, problem=problem
            )
        return response

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
            response = self._request(
                "POST", "/api/jobs", files={"file": (path.name, handle)}, data=data, headers=headers
            )
        result: dict[str, Any] = response.json()
        return result

    def job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/api/jobs/{job_id}").json()
        return result

    def jobs(
        self, *, status: list[str] | None = None, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        result: dict[str, Any] = self._request("GET", "/api/jobs", params=params).json()
        return result

    def result(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/api/jobs/{job_id}/result").json()
        return result
