"""Answer only requests addressed to this API's own host names.

A page on another site can have its name resolve to 127.0.0.1 once the visitor's browser has
loaded it (DNS rebinding); the browser then sends that page's requests to the API here with the
page's own name in Host and Origin, which the same-origin check of api.web takes for this site's
own pages. Refusing every Host but the names the API is served under closes that door, for
reads as well as writes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import problem_response


def host_name(host: str) -> str:
    """The name in a Host header, without its port ("[::1]:8000" is "::1")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


class AllowedHostsMiddleware:
    """A 400 problem for a request whose Host names none of `allowed` ("*" allows any)."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = frozenset(name.lower() for name in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or "*" in self.allowed:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        # Browsers always send Host; a client that sends none is no page on another site.
        host = headers.get(b"host")
        if host is None or host_name(host.decode("latin-1")) in self.allowed:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            400,
            "untrusted-host",
            f"this API does not answer to the host {host.decode('latin-1')[:100]!r}; "
            "add its name to PLAYPARSE_ALLOWED_HOSTS to serve it",
        )
        await response(scope, receive, send)
