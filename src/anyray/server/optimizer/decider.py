"""The optimizer's decider process: strategy work on long texts, in a process of its own.

`python -m anyray.server.optimizer.decider`, started by the optimizer (worker.ProcessWorker) with pipes
for stdin and stdout. Why a process and not only a thread: Python runs one thread at a time, so while a
thread works out an agent turn's decision (ten milliseconds and more on 300 KB of tool output) the event
loop serving every other call waits for the interpreter at each wake-up; a process has an interpreter of
its own and a core when there is one. Its only inputs are what the optimizer's strategies see anyway
(the request, the route, the metadata, the allow-listed headers, the key that makes stash handles): it
starts with an environment holding no credential of the gateway's.

Frames both ways: four bytes of length (big-endian), then JSON. The first frame in is the handle key;
then one job per frame, answered in order, one answer per job. One job at a time, so its memos (the
first-seen questions and the renderings of pieces already shrunk) stay coherent, as in the thread.
End of input ends the process: the optimizer closed it, or died.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from typing import IO, Any

import orjson

from anyray.server.optimizer.content.compress import Renderings
from anyray.server.optimizer.content.first_seen import FirstSeen
from anyray.server.optimizer.handles import handle_of
from anyray.server.optimizer.settings import Planned
from anyray.server.optimizer.steps import Step, apply_steps
from anyray.server.optimizer.strategies import REGISTRY
from anyray.server.optimizer.strategies.base import Context

log = logging.getLogger("anyray.optimizer.decider")

MAX_FRAME = 1 << 30


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's payload; None at the end of input."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    if size > MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes")
    body = stream.read(size)
    return body if len(body) == size else None


_ABSENT = object()


def changes(request: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """`current` as what it changed of `request`: its keys in order, the values that are not the request's
    own (strategies copy on write, so identity means unchanged) and, of the messages, the new ones with
    each unchanged one as its index in the request's. Most of a turn is unchanged (24 tools' schemas, the
    session's earlier messages): not sent back, not parsed again on the optimizer's event loop."""
    fresh = {k: v for k, v in current.items() if v is not request.get(k, _ABSENT)}
    old, new = request.get("messages"), fresh.get("messages")
    if isinstance(old, list) and isinstance(new, list):
        at = {id(m): i for i, m in enumerate(old)}
        fresh["messages"] = [at.get(id(m), m) for m in new]
    return {"keys": list(current), "fresh": fresh}


def rebuilt(request: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    """The request `changes` described, sharing every unchanged part with `request` (as in the thread)."""
    fresh = changed["fresh"]
    out = {k: fresh[k] if k in fresh else request[k] for k in changed["keys"]}
    if isinstance(out.get("messages"), list) and "messages" in fresh and isinstance(request.get("messages"), list):
        messages = request["messages"]
        out["messages"] = [messages[m] if isinstance(m, int) else m for m in out["messages"]]
    return out



def wire_steps(steps: list[Step]) -> list[list[Any]]:
    """A plan's steps as the decider rebuilds them: kind, params, why it does not run."""
    return [[step.kind, step.params.model_dump(mode="json"), reason] for step, reason in steps]


class Decider:
    """The process's state: the memos a session's turns share, and the plans' steps rebuilt once each."""

    def __init__(self, id_key: bytes) -> None:
        self.id_key = id_key
        self.first_seen = FirstSeen()
        self.renderings = Renderings()
        self._planned: dict[bytes, Planned] = {}

    def handle_for(self, content: str) -> str:
        return handle_of(self.id_key, content)

    def _step(self, kind: str, params: dict[str, Any]) -> Planned:
        key = orjson.dumps([kind, params], option=orjson.OPT_SORT_KEYS)
        planned = self._planned.get(key)
        if planned is None:
            strategy = REGISTRY[kind]
            planned = Planned(strategy, strategy.Params.model_validate(params), True, False)
            if len(self._planned) > 1024:  # plans are few; a bound all the same
                self._planned.clear()
            self._planned[key] = planned
        return planned

    def decide(self, job: dict[str, Any]) -> dict[str, Any]:
        steps: list[Step] = [(self._step(kind, params), reason) for kind, params, reason in job["steps"]]
        request = job["request"]
        ctx = Context(job["endpoint"], job["route"], job["metadata"], job["headers"], self.handle_for,
                      first_seen=self.first_seen, renderings=self.renderings)
        current, decisions, applied, skipped, preserved, caching = apply_steps(steps, request, ctx)
        changed = current is not request
        return {"changed": changes(request, current) if changed else None, "decisions": decisions,
                "applied": applied, "skipped": skipped, "preserved": preserved, "stashed": ctx.stashed,
                "caching": next((i for i, (s, _) in enumerate(steps) if s is caching), None)}


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    hello = read_frame(inp)
    if hello is None:
        return
    decider = Decider(bytes.fromhex(orjson.loads(hello)["idKey"]))
    gc.collect()
    gc.freeze()  # the modules and their tables: never walked again by the collector
    while (raw := read_frame(inp)) is not None:
        try:
            answer = decider.decide(orjson.loads(raw))
        except Exception:  # never a whole process for one request: the optimizer forwards it untouched
            log.exception("the decider failed on a request")
            answer = {"error": "failed"}
        out.write(frame(orjson.dumps(answer)))
        out.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the optimizer's to handle
    logging.basicConfig(level=logging.WARNING, format="anyray decider: %(levelname)s %(message)s")
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to stderr, never into the frames
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
