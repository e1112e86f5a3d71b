"""HEAD answered as GET without the body (RFC 9110 §9.3.2): load balancers and uptime checks probe with HEAD,
and Litestar's router answers 405 to HEAD on a GET route before any middleware runs, so the app itself
rewrites the method."""

from __future__ import annotations

from typing import cast

from litestar import Litestar
from litestar.types import (
    HTTPScope,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Message,
    Receive,
    Scope,
    Send,
)


class HeadAsGetLitestar(Litestar):
    """A Litestar app that runs a HEAD request as GET and sends the status and headers only."""

    async def __call__(self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive,
                       send: Send | LifeSpanSend) -> None:
        http = cast("HTTPScope", scope)  # its method is read only when the scope is HTTP
        if scope["type"] != "http" or http["method"] != "HEAD":
            await super().__call__(scope, receive, send)
            return
        http_send = cast("Send", send)  # an HTTP scope's send
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if ended:
                    return
                ended = not message.get("more_body", False)
                message = {"type": "http.response.body", "body": b"", "more_body": not ended}
            await http_send(message)

        await super().__call__(cast("HTTPScope", {**http, "method": "GET"}), receive, headers_only)
