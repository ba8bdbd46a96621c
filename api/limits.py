"""Upload size limit enforced before the request body is parsed (FastAPI sets none)."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response, too_large
from api.web import too_large_sentence

# Bytes of a refused body read and thrown away so the client, still sending, can read the 413
# instead of a reset connection; a body larger than this gets the connection closed on it.
DRAIN_BYTES = 8 * 1024 * 1024
# The limit is the file's; its body may be this much larger for the multipart framing and the
# form's other fields, so a file just under the limit is not refused for them. The upload route
# holds the file itself to the limit.
FORM_ALLOWANCE = 64 * 1024
# The methods whose bodies are held to the limit.
LIMITED_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLarge(Exception):
    pass


async def _drain(receive: Receive, already: int) -> None:
    received = already
    while received <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class UploadLimitMiddleware:
    """Answer 413 for bodies over `max_bytes` of file (and the form around it): by
    Content-Length at once, else while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_body = max_bytes + FORM_ALLOWANCE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in LIMITED_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        # A browser's form post is answered with a page, anything else with a problem body.
        page = b"text/html" in headers.get(b"accept", b"") and not scope["path"].startswith("/api")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            if headers.get(b"expect", b"").lower() != b"100-continue":
                await _drain(receive, 0)
            await self._reject(scope, receive, send, page)
            return
        received = 0
        exceeded = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may turn the aborted body into an error of its own; answer 413 instead.
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await _drain(receive, received)
                    await self._reject(scope, receive, send, page)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            await _drain(receive, received)
            if not replaced:
                replaced = True
                await self._reject(scope, receive, send, page)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, page: bool) -> None:
        refused = too_large(self.max_bytes)
        response: Response
        if page:
            response = HTMLResponse(
                "<!doctype html><html lang=en><meta charset=utf-8><title>File too large</title>"
                f'<p>{too_large_sentence(self.max_bytes)} <a href="/">Back to the form</a></p>'
                "</html>",
                status_code=413,
            )
        else:
            response = problem_response(
                refused.status, refused.slug, refused.detail, **refused.extra
            )
        response.headers["connection"] = "close"
        await response(scope, receive, send)
