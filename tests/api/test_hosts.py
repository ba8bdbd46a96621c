"""The API answers only requests addressed to its own host names (no DNS rebinding)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.hosts import host_name
from playparse.config import Settings
from tests.conftest import Api, served

PROBLEM = "application/problem+json"
PLAY = b"ANNA.\nHello.\n\nBEN.\nGoodbye.\n"


def rebound(api: Api, name: str) -> dict[str, str]:
    """The headers of a page on `name` whose address now leads here (Host and Origin agree)."""
    port = api.url.rsplit(":", 1)[1]
    return {"Host": f"{name}:{port}", "Origin": f"http://{name}:{port}"}


async def test_a_page_on_another_name_can_neither_read_nor_start_jobs(api: Api) -> None:
    headers = rebound(api, "evil.example")
    before = (await api.http.get("/api/jobs")).json()["data"]
    for method, url, kwargs in [
        ("GET", "/api/jobs", {}),
        ("GET", "/", {}),
        ("POST", "/api/jobs", {"files": {"file": ("a.txt", PLAY)}}),
    ]:
        response = await api.http.request(method, url, headers=headers, **kwargs)
        assert response.status_code == 400, (method, url)
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"] == "urn:playparse:problem:untrusted-host"
        assert "PLAYPARSE_ALLOWED_HOSTS" in problem["detail"]
    assert (await api.http.get("/api/jobs")).json()["data"] == before


async def test_the_names_of_this_machine_are_answered(api: Api) -> None:
    for name in ("localhost", "127.0.0.1", "[::1]", "LocalHost"):
        response = await api.http.get("/api/health/live", headers=rebound(api, name))
        assert response.status_code == 200, name


async def test_allowed_hosts_names_more_hosts_or_any(
    temporal: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from api.app import create_app

    for allowed, answered in [("plays.example, localhost", 200), ("*", 200), ("localhost", 400)]:
        configured = settings.model_copy(update={"allowed_hosts": allowed})
        app = create_app(configured, temporal=temporal, sessions=sessions)
        async with served(app) as api:
            response = await api.http.get("/api/health/live", headers=rebound(api, "plays.example"))
            assert response.status_code == answered, allowed


def test_the_address_the_api_is_served_on_is_a_name_it_answers_to() -> None:
    assert "10.1.2.3" in Settings(api_host="10.1.2.3").allowed_host_names
    assert Settings(api_host="0.0.0.0").allowed_host_names == {"localhost", "127.0.0.1", "::1"}


@pytest.mark.parametrize(
    ("host", "name"),
    [("Example.org:8000", "example.org"), ("[::1]:8000", "::1"), ("[::1]", "::1"), ("h", "h")],
)
def test_host_name_drops_the_port(host: str, name: str) -> None:
    assert host_name(host) == name
