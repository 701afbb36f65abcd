"""What one record's optimizer decisions did, shared out so the parts add up to its stored saving.

Used where records are written (the hourly roll-up, `rollup.py`) and where they are read back one by
one (`reads.policy_effects`), so both count a decision the same way.
"""

from __future__ import annotations

from typing import Any

from anyray.store.records import decision_saved_micros, decision_tokens_saved

UNATTRIBUTED = "(unattributed)"
NOT_A_POLICY = frozenset({"refused"})  # the gateway's own refusals are recorded as a decision, not an effect


def split_savings(decisions: list[dict[str, Any]], savings_micros: int) -> list[int]:
    """A record's `savings_micros`, shared out over its decisions so the parts add up to it exactly.

    Mirrors how the gateway computed the total (gateway/spend.py): a decision that states its saving in
    micro-dollars owns that amount; the rest is shared by input tokens saved (largest remainder, so
    integer parts still sum to the stored total). Whatever no decision can claim is left over.
    """
    parts = [0] * len(decisions)
    left = max(int(savings_micros or 0), 0)
    weights = [0] * len(decisions)
    for i, d in enumerate(decisions):
        explicit = decision_saved_micros(d)
        if explicit is not None:
            parts[i] = min(max(explicit, 0), left)
            left -= parts[i]
            continue
        weights[i] = decision_tokens_saved(d) or 0
    total_w = sum(weights)
    if left and total_w:
        shares = [(left * w // total_w, (left * w) % total_w, i) for i, w in enumerate(weights)]
        for share, _, i in shares:
            parts[i] += share
        rest = left - sum(s for s, _, _ in shares)
        for _, _, i in sorted(shares, key=lambda s: (-s[1], s[2]))[:rest]:
            parts[i] += 1
    return parts


def record_effects(decisions: Any, savings_micros: int) -> dict[str, list[int]]:
    """Per decision kind of one record: [decisions, requests (0 or 1), input tokens saved, saving].

    A saving no decision accounts for (e.g. older records) goes to `UNATTRIBUTED`: shown, never dropped.
    """
    kept = [d for d in decisions if isinstance(d, dict) and isinstance(d.get("kind"), str)
            and d["kind"] not in NOT_A_POLICY] if isinstance(decisions, list) else []
    parts = split_savings(kept, savings_micros)
    out: dict[str, list[int]] = {}
    for d, part in zip(kept, parts, strict=True):
        effect = out.setdefault(d["kind"], [0, 1, 0, 0])
        effect[0] += 1
        effect[2] += decision_tokens_saved(d) or 0
        effect[3] += part
    if (rest := max(int(savings_micros or 0), 0) - sum(parts)) > 0:
        out.setdefault(UNATTRIBUTED, [0, 0, 0, 0])[3] += rest
    return out
