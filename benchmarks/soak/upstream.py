"""The soak's fake upstream, in its own process: anyray.testing's FakeUpstream behind a fault layer.

    python -m benchmarks.soak.upstream --port P    (keys from SOAK_ANTHROPIC_KEY / SOAK_OPENAI_KEY)

A request whose text carries `soak request <n> fault=<kind>` gets that fault on its first attempt only
(the gateway's retry of it is answered normally):

- `500`, `529`: the provider's error JSON with that status;
- `429`: the same with `retry-after: 0.2`;
- `cut`: the upstream dies mid-answer: a non-streamed answer stops half-way through its body (its
  content-length promised more), a streamed one after 3 SSE events; the connection closes either way.

The driver decides which requests get which fault, so it can tell an injected fault from a real error.
`GET /_soak/faults` lists the faults applied ({n: kind}). Its own process, on uvloop and httptools, so
that the upstream is not what limits the rate.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections import deque
from typing import Any

import orjson
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anyray.testing import FakeUpstream
from anyray.testing.anthropic_api import anthropic_error
from anyray.testing.openai_api import openai_error

FAULT = re.compile(rb"soak request (\d+) fault=(\w+)")
STREAM_CUT_AFTER = 3  # SSE events that reach the gateway before a streamed answer is cut


class SoakCut(ConnectionResetError):
    """Raised after part of an answer was sent: uvicorn then closes the connection mid-answer."""


class _QuietCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SoakCut))


class Faults:
    """ASGI layer in front of the fake: applies the faults the driver asked for, once per request number."""

    def __init__(self, fake: FakeUpstream) -> None:
        self.fake = fake
        self.app: ASGIApp = fake.app
        self.applied: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/_soak/faults":
            body = orjson.dumps({str(n): kind for n, kind in self.applied.items()})
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        replay = deque([{"type": "http.request", "body": body, "more_body": False}])

        async def again() -> Message:
            return replay.popleft() if replay else await receive()

        self._forget()
        found = FAULT.search(body, 0, 4096)
        if found is None or int(found.group(1)) in self.applied:
            await self.app(scope, again, send)
            return
        n, kind = int(found.group(1)), found.group(2).decode()
        self.applied[n] = kind
        if kind == "cut":
            await self.app(scope, again, _cutting(send))
            return
        status = int(kind)
        if "/chat/completions" in scope["path"]:
            response = openai_error(status, f"injected fault {status}", "server_error")
        else:
            response = anthropic_error(status, f"injected fault {status}")
        if status == 429:
            response.headers["retry-after"] = "0.2"
        await response(scope, again, send)

    def _forget(self) -> None:
        """The fake remembers every request for tests; a soak must not measure that memory."""
        fake = self.fake
        if len(fake.received) > 1000:
            fake.received.clear()
            fake.responses.clear()
            fake.stream_endings.clear()


def _cutting(send: Send) -> Send:
    state: dict[str, Any] = {"stream": False, "events": 0}

    async def cut(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            state["stream"] = b"event-stream" in headers.get(b"content-type", b"")
            await send(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        if not state["stream"]:
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise SoakCut("soak: non-streamed body cut half-way")
        if state["events"] >= STREAM_CUT_AFTER:
            raise SoakCut("soak: stream cut")
        state["events"] += 1
        await send(message)

    return cut


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    fake = FakeUpstream(anthropic_key=os.environ["SOAK_ANTHROPIC_KEY"], openai_key=os.environ["SOAK_OPENAI_KEY"])
    logging.getLogger("uvicorn.error").addFilter(_QuietCuts())
    uvicorn.run(Faults(fake), host="127.0.0.1", port=args.port, loop="uvloop", http="httptools",
                log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
