"""The Rule 0 replay harness on one short recorded session: the report's fields, and that its numbers are
the fake upstream's own prompt-cache accounting."""

from __future__ import annotations

from pathlib import Path

from benchmarks.replay.run import BEGIN, END, replay, report, verdict, write_section
from benchmarks.replay.store import load

from anyray.testing.prompt_cache import PromptCache

SESSION = Path(__file__).resolve().parents[2] / "benchmarks" / "sessions" / "sdk_log_triage.json.gz"


def _short() -> dict:
    """Its first 12 turns: long enough that, compressed, the prompt still passes the provider's 1,024-token
    minimum for a cache breakpoint (its first 8 no longer do)."""
    session = load(SESSION)
    return {**session, "turns": session["turns"][:12]}


def test_replay_reports_the_fakes_accounting_off_and_on(tmp_path):
    session = _short()
    assert len(session["turns"]) == 12 and session["client"] == "sdk"
    tallies = {}
    for mode in ("off", "on"):
        seen: list[dict] = []
        tally = tallies[mode] = replay(session, mode, seen=seen)
        assert tally.calls == len(seen) == 12
        cache = PromptCache(min_tokens=1024)  # the fake's defaults, fed what the fake was sent
        usages = [cache.account("k", body, now=float(i)) for i, body in enumerate(seen)]
        assert tally.uncached == sum(u.input_tokens for u in usages)
        assert tally.written == sum(u.cache_creation_input_tokens for u in usages)
        assert tally.read == sum(u.cache_read_input_tokens for u in usages)
        if mode == "off":  # off sends what the client sent
            assert seen == [{**t["request"], "stream": False} for t in session["turns"]]
    off, on = tallies["off"], tallies["on"]
    assert off.read == 0 and off.written == 0  # this client placed no breakpoints
    assert on.read > 0 and "prompt_cache" in on.applied  # ... so the optimizer's prompt_cache pays
    assert on.output == off.output  # the same recorded replies both ways
    assert 0 < on.micros < off.micros
    row = {"name": session["name"], "client": "sdk", "off": off, "on": on, "ratio": on.micros / off.micros,
           "without": {}}
    v = verdict([row])
    assert v == {"sessions": 1, "cheaper": 1, "cheaperShare": 1.0, "q3": row["ratio"], "worst": row["ratio"],
                 "pass": True}
    text = report([row], "cmd")
    assert f"`{session['name']}`" in text and "Verdict: PASS" in text and f"{row['ratio']:.3f}" in text
    doc = tmp_path / "savings.md"
    doc.write_text("# Savings\n\ngenerated part\n")
    write_section(doc, text)
    write_section(doc, text.replace("Verdict: PASS", "Verdict: again"))
    body = doc.read_text()
    assert body.startswith("# Savings\n\ngenerated part\n") and body.count(BEGIN) == body.count(END) == 1
    assert "Verdict: again" in body


def test_verdict_fails_on_one_dear_session():
    rows = [{"ratio": r} for r in (0.5, 0.6, 0.7, 1.03)]
    v = verdict(rows)
    assert v["cheaper"] == 3 and v["worst"] == 1.03 and v["pass"] is False
