"""The gateway's HTTP/1.1 server: ASGI over asyncio, parsed by httptools, its own listening server.

Why not uvicorn's httptools protocol, which served the gateway before: with a trivial app it cost
1.2-1.7x the CPU per request of this one on the benchmark machine, and the gateway served on this one
spends 11% less CPU per request (docs/performance.md). It pays per request for things the gateway does
not need there: an asyncio.Event and a cycle object per request, a keep-alive timer armed and cancelled
on every response (~2 us each under uvloop), two regular expressions per response header, a copy of the
request body. And it has none of the bounds below (no head cap past leading blank lines, no deadline for
a request head or body, no connection cap). Why not uvicorn.Server around this protocol, as before: that
needs uvicorn's private internals; server.py does the little it did (lifespan, date header, graceful stop).

What it does, and how:
- one request at a time per connection; pipelined requests wait their turn (reading is paused), at most
  `max_pipelined` of them: the last one queued ends the connection, nothing after it is parsed;
- the request body is handed to the app as it arrives; `Expect: 100-continue` answered on the first
  receive(); after the body, receive() waits for the client to leave (what stream watchers rely on);
  a client that shut only its write side after a whole request is still answered;
- a response's writes during one loop iteration leave in one send() (a JSON answer is one segment);
  a stream's chunks go out as they come, at most one iteration later; writing pauses with the
  transport's back-pressure;
- deadlines, checked on one tick per server rather than a timer per request: an idle keep-alive
  connection closes after `keep_alive_s`, a request head must be whole `head_timeout_s` after its first
  byte and its body `body_timeout_s` after the head, else a 408 (slowloris);
- a request head over `max_head_bytes`, counting every byte before it ends (blank lines before the
  request line included), gets a 431 before the app runs (httptools would buffer any size);
- past `max_connections` open connections a new one gets a 503 at once (`retry-after: 1`);
- bad HTTP gets a 400, an app error before the answer started a 500, after it a closed connection;
  every refusal is JSON both SDKs read, and ends the connection without losing the answer (lingering).
"""

from anyray.server.http11.exchange import ClientLeft
from anyray.server.http11.protocol import Http11Protocol
from anyray.server.http11.server import HEAD_HARD_CAP_BYTES, Server, ServerLimits

__all__ = ["HEAD_HARD_CAP_BYTES", "ClientLeft", "Http11Protocol", "Server", "ServerLimits"]
