"""HEAD answered as GET without the body (RFC 9110 §9.3.2): load balancers and uptime checks probe with HEAD,
and Litestar's router answers 405 to HEAD on a GET route before any middleware runs, so the app itself
rewrites the method."""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send


class HeadAsGetLitestar(Litestar):
    """A Litestar app that runs a HEAD request as GET and sends the status and headers only."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":  # type: ignore[typeddict-item]
            await super().__call__(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if ended:
                    return
                ended = not message.get("more_body", False)
                message = {"type": "http.response.body", "body": b"", "more_body": not ended}
            await send(message)

        await super().__call__({**scope, "method": "GET"}, receive, headers_only)  # type: ignore[typeddict-item]
