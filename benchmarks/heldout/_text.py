"""Deterministic raw material for the held-out cases: ids, clocks, hosts, people, and prose that reads like
engineering docs and chat. Written independently of benchmarks/workloads: its own vocabulary and templates."""

from __future__ import annotations

import base64
import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

UTC = UTC
ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def seeded(name: str) -> random.Random:
    return random.Random(f"heldout::{name}")


def uid(r: random.Random) -> str:
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def hexs(r: random.Random, n: int) -> str:
    return f"{r.getrandbits(4 * n):0{n}x}"


def token(r: random.Random, n: int) -> str:
    return "".join(r.choice(ALNUM) for _ in range(n))


def ulid(r: random.Random) -> str:
    return "01H" + "".join(r.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(23))


def ip(r: random.Random, net: str = "10") -> str:
    return f"{net}.{r.randint(0, 60)}.{r.randint(0, 254)}.{r.randint(2, 254)}"


def public_ip(r: random.Random) -> str:
    return f"{r.choice([23, 34, 52, 66, 81, 91, 104, 141, 172, 185, 203])}.{r.randint(1, 254)}.{r.randint(1, 254)}." \
           f"{r.randint(1, 254)}"


def blob(r: random.Random, nbytes: int) -> str:
    return base64.b64encode(r.randbytes(nbytes)).decode()


class Clock:
    """A wall clock that only moves forward, by random steps."""

    def __init__(self, start: str, r: random.Random) -> None:
        self.t = datetime.fromisoformat(start).replace(tzinfo=UTC)
        self.r = r

    def tick(self, lo_ms: int = 20, hi_ms: int = 1500) -> datetime:
        self.t += timedelta(milliseconds=self.r.randint(lo_ms, hi_ms))
        return self.t

    def jump(self, **kw: float) -> datetime:
        self.t += timedelta(**kw)
        return self.t


def iso(t: datetime, ms: bool = True) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond // 1000:03d}" if ms else "") + "Z"


def syslog_time(t: datetime) -> str:
    return t.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1) if t.day < 10 else t.strftime("%b %d %H:%M:%S")


def clf_time(t: datetime) -> str:
    return t.strftime("%d/%b/%Y:%H:%M:%S +0000")


def grow(target: int, make: Callable[[int], str]) -> list[str]:
    """Lines from make(i) until their joined size reaches target bytes."""
    out: list[str] = []
    size = 0
    i = 0
    while size < target:
        line = make(i)
        out.append(line)
        size += len(line) + 1
        i += 1
    return out


def put(lines: list[str], frac: float, block: list[str] | str) -> list[str]:
    """Insert block at the given fraction of lines (0.0 = top, 1.0 = bottom)."""
    block = [block] if isinstance(block, str) else block
    i = max(0, min(len(lines), int(len(lines) * frac)))
    return [*lines[:i], *block, *lines[i:]]


def table(header: list[str], rows: list[list[str]], sep: str = " | ", edge: bool = True) -> list[str]:
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        body = sep.join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
        return f"| {body} |" if edge else body

    rule = ("|-" + "-|-".join("-" * w for w in widths) + "-|") if edge else "-+-".join("-" * w for w in widths)
    return [fmt(header), rule, *(fmt(r) for r in rows)]


FIRST = ["Aisha", "Marco", "Priya", "Tomasz", "Lena", "Kwame", "Hiro", "Sofia", "Dmitri", "Ines", "Rafael", "Noor",
         "Jonas", "Mei", "Oluwaseun", "Carmen", "Bjorn", "Yusuf", "Elena", "Theo", "Farah", "Gabriel", "Anouk", "Ravi"]
LAST = ["Okafor", "Bellini", "Raman", "Kowalski", "Fischer", "Mensah", "Tanaka", "Duarte", "Volkov", "Moreau",
        "Alvarez", "Haddad", "Lindqvist", "Zhou", "Adeyemi", "Ortega", "Nakamura", "Petrov", "Walsh", "Kaur"]
TEAMS = ["payments-core", "platform-infra", "data-platform", "growth-web", "identity", "search-relevance",
         "mobile-apps", "risk-ops", "developer-experience", "fulfilment"]
SERVICES = ["checkout-api", "cart-svc", "pricing-engine", "search-gateway", "catalog-reader", "media-resizer",
            "notification-hub", "ledger-service", "auth-broker", "session-store", "report-worker", "inventory-svc",
            "shipping-quotes", "fraud-scorer", "webhook-relay", "feature-flags", "audit-trail", "geo-lookup"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]


def person(r: random.Random) -> str:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def handle(r: random.Random) -> str:
    return f"{r.choice(FIRST)[0].lower()}.{r.choice(LAST).lower()}"


def email(r: random.Random) -> str:
    domains = ["gmail.com", "outlook.com", "proton.me", "fastmail.com", "acme-corp.io", "yahoo.co.uk", "icloud.com",
               "hey.com", "web.de", "northwind-labs.io", "contoso.net"]
    first, last = r.choice(FIRST).lower(), r.choice(LAST).lower()
    style = r.randint(0, 3)
    local = [f"{first}.{last}", f"{first[0]}{last}", f"{first}{r.randint(1, 99)}", f"{last}.{first[0]}"][style]
    return f"{local}@{r.choice(domains)}"


# -- prose --------------------------------------------------------------------------------------------------------

_SLOTS: dict[str, list[str]] = {
    "comp": ["the scheduler", "the ingest pipeline", "the edge proxy", "the billing worker", "the sync daemon",
             "the admin console", "the rollout controller", "the token broker", "the export service",
             "the search indexer", "the notification fan-out", "the config agent", "the ledger writer"],
    "dep": ["the primary database", "the object store", "the message bus", "the identity provider",
            "the rate limiter", "the feature-flag service", "the DNS resolver", "the secrets vault"],
    "obj": ["tenant", "workspace", "invoice", "shipment", "webhook endpoint", "API key", "audit record", "snapshot",
            "deployment", "billing profile", "export job", "retention rule"],
    "state": ["suspended", "archived", "pending review", "degraded", "read-only", "quarantined", "draft"],
    "path": ["/etc/anvil/agent.yaml", "config/runtime.toml", "$HOME/.config/relay/settings.json",
             "/var/lib/ingest/state.db", "deploy/values-prod.yaml", "/opt/stager/conf.d/"],
    "who": ["workspace owners", "billing admins", "support engineers",
            "members of the security group", "service accounts", "read-only auditors", "operators"],
    "when": ["during the nightly maintenance window", "after a failover", "on the first request of the day",
             "once the queue drains", "when the lease expires", "before the monthly close",
             "while a migration is running", "after a credential rotation"],
    "verb": ["re-reads", "caches", "validates", "mirrors", "throttles", "compacts", "replays", "signs", "batches"],
    "unit": ["requests", "records", "megabytes", "attempts", "connections"],
    "tunit": ["seconds", "minutes"],
}
_TEMPLATES = [
    "{Comp} {verb} every {obj} change and writes a summary to {path}.",
    "If {dep} does not answer within {n} {tunit}, {comp} marks the {obj} as {state} and tries again later.",
    "Only {who} can move a {obj} out of the {state} state.",
    "{Comp} {verb} outbound traffic {when}, so expect a short dip in throughput.",
    "Changes to {path} take effect {when}; no restart is needed.",
    "A {obj} that stays {state} for more than {n} days is reported in the weekly digest.",
    "We recommend keeping at least {n} replicas of {comp} behind {dep}.",
    "The default limit is {n} {unit} per {obj}; {who} can raise it from the settings page.",
    "{Comp} does not retry writes to {dep}; callers are expected to use idempotency keys.",
    "Historically {comp} {verb} everything in memory, which made restarts slow {when}.",
    "See the section on {obj} lifecycle for how {state} items are cleaned up.",
    "Note that {who} receive an email whenever a {obj} becomes {state}.",
    "Metrics for {comp} are scraped every {n} {tunit} and kept for thirty days.",
    "To debug a stuck {obj}, check {path} first and then the logs of {comp}.",
    "{Comp} talks to {dep} over mutual TLS; certificates are rotated {when}.",
    "When in doubt, prefer pausing {comp} over deleting the {obj}: pausing is reversible.",
    "Audit entries are written for every {obj} that {who} modify.",
    "The {obj} export runs {when} and usually finishes in under {n} {tunit}.",
]


def sentence(r: random.Random) -> str:
    tpl = r.choice(_TEMPLATES)
    fill = {k: r.choice(v) for k, v in _SLOTS.items()}
    fill["Comp"] = fill["comp"][0].upper() + fill["comp"][1:]
    fill["n"] = str(r.choice([2, 3, 5, 10, 15, 30, 45, 60, 90, 120, 250, 500]))
    return re.sub(r"\b([Aa]) ([aeiou])", r"\1n \2", tpl.format(**fill))


def paragraph(r: random.Random, lo: int = 2, hi: int = 5) -> str:
    return " ".join(sentence(r) for _ in range(r.randint(lo, hi)))


_CHAT = [
    "ok that makes sense", "let me check with {who} and get back to you", "can you look at this again?",
    "I think the {obj} thing is a red herring", "yeah, we saw the same on staging last sprint",
    "not sure, {name} would know better", "ship it behind a flag first?", "that's what I suspected",
    "fwiw the dashboards look normal now", "I'll open a ticket for the {obj} cleanup",
    "we should write this down somewhere", "agreed, let's not block the release on it",
    "ping me when the {obj} export finishes", "that was before the failover, right?",
    "does this also affect {comp}?", "I'd rather not touch {path} on a Friday",
]


def chatter(r: random.Random) -> str:
    fill = {k: r.choice(v) for k, v in _SLOTS.items()}
    fill["name"] = r.choice(FIRST)
    return r.choice(_CHAT).format(**fill)
