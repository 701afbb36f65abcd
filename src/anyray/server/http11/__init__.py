"""The gateway's HTTP/1.1 server protocol: ASGI over asyncio, parsed by httptools, run by uvicorn.Server.

Why not uvicorn's own httptools protocol, which served the gateway before: with a trivial app it cost
1.2-1.7x the CPU per request of this one on the benchmark machine, and the gateway served on this one
spends 11% less CPU per request (docs/performance.md). It pays
per request for things the gateway does not need there: an asyncio.Event and a cycle object per
request, a keep-alive timer armed and cancelled on every response (~2 us each under uvloop), two
regular expressions per response header, a copy of the request body. uvicorn.Server still runs it,
so lifespan, signals, graceful shutdown, the date header and the listening sockets are uvicorn's.

What it does, and how:
- one request at a time per connection; pipelined requests wait their turn (reading is paused);
- the request body is handed to the app as it arrives; `Expect: 100-continue` answered on the first
  receive(); after the body, receive() waits for the client to leave (what stream watchers rely on);
- a response's writes during one loop iteration leave in one send() (a JSON answer is one segment);
  a stream's chunks go out as they come, at most one iteration later; writing pauses with the
  transport's back-pressure;
- idle keep-alive connections are closed by one sweeper per server, not a timer per response;
- a request head over `max_head_bytes` gets a 431 before the app runs (httptools would buffer any size);
- bad HTTP gets a 400, an app error before the answer started a 500, after it a closed connection.
"""

from anyray.server.http11.protocol import HEAD_HARD_CAP_BYTES, Http11Protocol

__all__ = ["HEAD_HARD_CAP_BYTES", "Http11Protocol"]
