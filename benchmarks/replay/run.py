"""Replay recorded sessions through the gateway, optimizer off and on, and price what the fake billed.

    python -m benchmarks.replay.run [--write docs/savings.md] [--ablate] [--sessions DIR]

Each session is replayed request by request, in order, against a fresh fake upstream and gateway per
mode: `off` sends `x-anyray-optimize: off`, `on` runs the optimizer with its defaults. The fake upstream
answers every call with the recorded reply (so output tokens match) and bills input by its prompt-cache
accounting (anyray.testing.prompt_cache: Anthropic's published rules: breakpoints, 20-block lookback,
5-minute and 1-hour writes, reads). Cost comes from the price table (anyray/data/prices.yaml).
`--ablate` also replays `on` with each conversation strategy turned on in turn (they are off by default:
on these sessions their gate never lets them take a step, see docs/optimizer.md), and with all of them
taking every step.

Verdict (Rule 0): cheaper in at least 63 % of sessions, third-quartile on/off ratio below 1, and no
session more than 2 % dearer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from anyray.pricing import PriceBook
from anyray.server.gateway.call import Usage
from anyray.server.optimizer.strategies import REGISTRY
from benchmarks.replay import long
from benchmarks.replay.stack import CLIENT_KEY, stack
from benchmarks.replay.store import load

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = ROOT / "benchmarks" / "sessions"
CONVERSATION = ["observation_mask", "thinking_trim", "window_budget", "tool_pruning"]
# Every step taken whatever it costs: what the pays-for-itself gate is there to prevent.
EAGER = [{"kind": "observation_mask", "enabled": True, "params": {"max_payback_turns": 1000}},
         {"kind": "thinking_trim", "enabled": True, "params": {"max_payback_turns": 1000}},
         {"kind": "tool_pruning", "enabled": True, "params": {"max_payback_turns": 1000, "min_turns": 10}}]
BEGIN, END = "<!-- replay:begin -->", "<!-- replay:end -->"


@dataclass
class Tally:
    calls: int = 0
    uncached: int = 0
    written: int = 0
    read: int = 0
    output: int = 0
    micros: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    def add(self, usage: dict[str, Any], micros: int, applied: list[str]) -> None:
        self.calls += 1
        self.uncached += usage.get("input_tokens", 0)
        self.written += usage.get("cache_creation_input_tokens", 0)
        self.read += usage.get("cache_read_input_tokens", 0)
        self.output += usage.get("output_tokens", 0)
        self.micros += micros
        for kind in applied:
            self.applied[kind] = self.applied.get(kind, 0) + 1


def replay(session: dict[str, Any], mode: str, kinds: list[str] | None = None,
           seen: list[dict[str, Any]] | None = None, strategies: list[dict[str, Any]] | None = None) -> Tally:
    """One pass over a session; mode "off" or "on" (kinds: narrow the on run to these strategies).
    `seen` collects the bodies the fake upstream received, in order."""
    prices = PriceBook.load()
    tally = Tally()
    openai = session.get("dialect") == "openai"  # OpenAI-shaped requests, to a Claude model through the gateway
    with stack(strategies) as s, httpx.Client(base_url=s.gateway_url, timeout=120) as client:
        calls: list[Any] = []
        s.gateway.listeners.append(calls.append)  # the usage the upstream billed, whatever the client's dialect
        for turn in session["turns"]:
            if turn["response"] is not None:
                s.fake.script(content=turn["response"])
            headers = {"authorization": f"Bearer {CLIENT_KEY}"} if openai else {
                "x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
            if mode == "off":
                headers["x-anyray-optimize"] = "off"
            elif kinds is not None:
                headers["x-anyray-optimization-kinds"] = ",".join(kinds)
            body = {**turn["request"], "stream": False}
            response = client.post("/v1/chat/completions" if openai else "/v1/messages", json=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{session['name']} ({mode}): {response.status_code} {response.text[:500]}")
            for _ in range(400):  # the call is recorded just after its answer left: wait for it (bounded)
                if len(calls) == tally.calls + 1:
                    break
                time.sleep(0.005)
            u: Usage = calls[-1].usage
            usage = u.as_anthropic()
            cost = prices.cost("anthropic", body["model"], u)
            if cost is None:
                raise RuntimeError(f"no price for {body['model']}")
            result = json.loads(response.headers.get("x-anyray-optimization-result") or "{}")
            tally.add(usage, cost.micros, result.get("applied") or [])
        if seen is not None:
            seen += [r.body for r in s.fake.received if r.path.endswith("/v1/messages")]
    return tally


def load_all(directory: Path) -> list[dict[str, Any]]:
    return [load(p) for p in sorted(directory.glob("*.json.gz"))]


def quartile3(values: list[float]) -> float:
    return statistics.quantiles(values, n=4, method="inclusive")[2] if len(values) > 1 else values[0]


def measure(sessions: list[dict[str, Any]], ablate: bool = False) -> list[dict[str, Any]]:
    rows = []
    defaults = [k for k, s in REGISTRY.items() if s.default_enabled]
    for session in sessions:
        off, on = replay(session, "off"), replay(session, "on")
        row: dict[str, Any] = {"name": session["name"], "client": session["client"], "off": off, "on": on,
                               "ratio": on.micros / off.micros if off.micros else 1.0, "without": {}}
        if ablate:  # each conversation strategy on (its pays-for-itself gate too), beside the defaults
            row["eager"] = replay(session, "on", strategies=EAGER).micros / off.micros if off.micros else 1.0
            for kind in CONVERSATION:
                alone = replay(session, "on", sorted({*defaults, kind}))
                row["without"][kind] = alone.micros / off.micros if off.micros else 1.0
        rows.append(row)
        print(f"{session['name']}: ratio {row['ratio']:.4f}", file=sys.stderr)
    return rows


def verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = [r["ratio"] for r in rows]
    cheaper = sum(1 for x in ratios if x < 1)
    out = {"sessions": len(rows), "cheaper": cheaper, "cheaperShare": cheaper / len(rows) if rows else 0.0,
           "q3": quartile3(ratios) if rows else 1.0, "worst": max(ratios, default=1.0)}
    out["pass"] = out["cheaperShare"] >= 0.63 and out["q3"] < 1 and out["worst"] <= 1.02
    return out


def _usd(micros: int) -> str:
    return f"${micros / 1e6:.4f}"


def report(rows: list[dict[str, Any]], command: str) -> str:
    v = verdict(rows)
    out = [
        BEGIN,
        "",
        "## Rule 0: whole sessions, replayed (optimizer off vs on)",
        "",
        f"Generated by `{command}` from the sessions in `benchmarks/sessions/` (recorded by "
        "`python -m benchmarks.replay.record`: the anthropic SDK in a tool-use loop, with and without its own "
        "cache breakpoints, and Claude Code `claude -p`, each doing a small task in a scratch project with "
        "real tool output), and two long synthetic ones (`benchmarks/replay/long.py`: a 90-call agent loop as "
        "the Anthropic SDK sends it and as an OpenAI SDK sends it to a Claude model), where the conversation "
        "strategies have room to act. Every call is replayed through the gateway to the fake upstream, which bills "
        "input by Anthropic's prompt-cache rules; cost is from `anyray/data/prices.yaml`. Tokens are the "
        "fake's estimate (4 bytes of JSON per token), the same for both modes.",
        "",
        f"**Verdict: {'PASS' if v['pass'] else 'FAIL'}**: cheaper in {v['cheaper']}/{v['sessions']} sessions "
        f"({100 * v['cheaperShare']:.0f} %, needs >= 63 %), third-quartile on/off ratio {v['q3']:.3f} "
        f"(needs < 1), dearest session {v['worst']:.3f} (needs <= 1.02).",
        "",
        "| session | client | calls | uncached in off / on | cache write off / on | cache read off / on "
        "| output | cost off | cost on | on/off | strategies applied (calls) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        off, on = r["off"], r["on"]
        applied = ", ".join(f"{k} {n}" for k, n in sorted(on.applied.items()) if k != "param_tuning") or "-"
        out.append(f"| `{r['name']}` | {r['client']} | {off.calls} | {off.uncached:,} / {on.uncached:,} "
                   f"| {off.written:,} / {on.written:,} | {off.read:,} / {on.read:,} | {on.output:,} "
                   f"| {_usd(off.micros)} | {_usd(on.micros)} | {r['ratio']:.3f} | {applied} |")
    if any(r["without"] for r in rows):
        out += ["", "Each conversation strategy turned on beside the defaults, with its pays-for-itself gate (on/off "
                "ratio with it; the same as the defaults' means it never took a step; below it, it paid):", "",
                "| session | defaults | " + " | ".join(f"with {k}" for k in CONVERSATION)
                + " | all four, gate off (every step taken) |",
                "|---|---:|" + "---:|" * len(CONVERSATION) + "---:|"]
        for r in rows:
            out.append(f"| `{r['name']}` | {r['ratio']:.3f} | "
                       + " | ".join(f"{r['without'][k]:.3f}" for k in CONVERSATION) + f" | {r['eager']:.3f} |")
        out += ["", "*Gate off*: `observation_mask` and `thinking_trim` with `max_payback_turns: 1000`, "
                "`tool_pruning` also with `min_turns: 10`: every step is taken whatever it costs in cache "
                "rewrites. It is not a default; it shows what the pays-for-itself gate prevents."]
    out += ["", END, ""]
    return "\n".join(out)


def write_section(path: Path, section: str) -> None:
    """Replace the replay section of the file (or append it), leaving the rest as it is."""
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.strip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", default=str(SESSIONS))
    parser.add_argument("--write", help="put the section into this file (e.g. docs/savings.md)")
    parser.add_argument("--ablate", action="store_true")
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    everything = load_all(Path(args.sessions)) + long.sessions()
    sessions = [s for s in everything if not args.only or s["name"] in args.only]
    rows = measure(sessions, args.ablate)
    command = "python -m benchmarks.replay.run --write docs/savings.md" + (" --ablate" if args.ablate else "")
    text = report(rows, command)
    if args.write:
        write_section(Path(args.write), text)
    print(text)


if __name__ == "__main__":
    main()
