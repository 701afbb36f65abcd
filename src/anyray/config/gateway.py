"""The gateway's own sections: where it listens, its limits and retries, the retrieve loop, the store
and who may call it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from anyray.config.base import Section


class RetrySettings(Section):
    """Retrying a failed upstream call on the same target, before the first byte reached the client."""

    attempts: int = Field(2, ge=0, le=10, description="extra tries on the same target after a retryable failure")
    base_ms: int = Field(500, ge=0, description="first backoff; doubles each try, full jitter")
    max_ms: int = Field(8000, ge=0, description="cap on one backoff wait (an upstream's retry-after may be longer)")
    budget_s: float = Field(20.0, ge=0, description="total waiting time for one request across all its retries")
    final_for_clients: bool = Field(
        False, description="after the gateway spent its retries on a failure, answer it with x-should-retry: false "
        "so the client's SDK does not retry it again (theirs multiply ours); off by default because some clients "
        "are more patient than the gateway (Claude Code retries a 529 up to 10 times)")


class LimitSettings(Section):
    """Input and load limits; each refusal is an error in the caller's dialect."""

    max_header_bytes: int = Field(
        64 * 1024, gt=0, le=1024 * 1024, description="all request headers together; larger gets a 431"
    )
    max_json_depth: int | None = Field(
        64, ge=2, le=254, description="deeper request JSON gets a 400 (orjson cannot write 255+); unset: no check"
    )
    max_concurrent_upstream: int | None = Field(
        None, gt=0, description="model calls in flight at once; unset: unlimited"
    )
    max_concurrent_upstream_per_team: int | None = Field(
        None, gt=0, description="model calls in flight at once for one team (its gateway key's; without keys, the "
        "team x-anyray-metadata names, a label anyone can claim); past it a 429; unset: no per-team cap"
    )
    queue_timeout_s: float = Field(5.0, ge=0, description="how long a call waits for a free slot before a 429")
    # the HTTP server's own bounds on a client connection (server/http11; docs/reliability.md#connections)
    keepalive_timeout_s: float = Field(
        5.0, gt=0, description="an idle connection (kept alive, or that never sent a byte) is closed after this"
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="a request head must be whole this long after its first byte, else a 408"
    )
    body_timeout_s: float = Field(
        60.0, gt=0, description="a request body must be whole this long after its head, else a 408"
    )
    write_timeout_s: float = Field(
        30.0, gt=0, description="a client that takes none of its answer's waiting bytes for this long is cut: the "
        "connection is dropped, a stream's upstream let go and its slot freed, the call recorded as 499 partial"
    )
    max_connections: int = Field(
        4096, gt=0, description="open client connections; past it a new one gets a 503 at once (at most half "
        "the process's file-descriptor limit)"
    )
    max_connections_per_upstream: int = Field(
        256, gt=0, description="connections to one upstream origin; further calls wait for one, within "
        "connect_timeout_s"
    )


class RetrieveSettings(Section):
    """The retrieve tool the gateway offers a model when the optimizer elided part of its prompt."""

    enabled: bool = Field(True, description="offer anyray_retrieve and answer its calls from the stash")
    max_rounds: int = Field(4, ge=1, le=16, description="upstream calls at most for one answer, retrievals included")
    min_saving_tokens: int = Field(
        400, ge=0, description="offer the tool only when the optimizer saved at least this many input tokens: the "
        "tool's definition (~110 tokens) is re-sent on every call, and adding it rewrites the cached prefix once")


class GatewaySettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8787, ge=0, le=65535)
    max_body_bytes: int = Field(32 * 1024 * 1024, gt=0, description="larger request bodies get a 413")
    upstream_timeout_s: float = Field(600.0, gt=0)
    connect_timeout_s: float = Field(10.0, gt=0)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    retrieve: RetrieveSettings = Field(default_factory=RetrieveSettings)

class StoreSettings(Section):
    url: str | None = Field(
        None,
        description="spend store: sqlite:///path or postgresql://...; unset = ~/.anyray/spend.db under `anyray up`",
    )
    enabled: bool = True
    queue_size: int = Field(10_000, ge=1, description="records waiting to be written; beyond this they are dropped")
    batch_size: int = Field(500, ge=1)
    spill_dir: Path | None = Field(
        None,
        description="where records wait on disk while the store is down; default: next to the SQLite file, "
        "or $ANYRAY_HOME/spill (~/.anyray/spill) for PostgreSQL",
    )
    spill_max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="bound of the spill file; records beyond it are lost and counted"
    )
    retry_max_s: float = Field(30.0, gt=0, description="longest wait between two tries of a down store")

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, v: str | None) -> str | None:
        if v == "":  # `${ANYRAY_POSTGRES_URL}` where it is not set (the optimizer's container): unset
            return None
        if v is not None and not v.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("expected sqlite:///path/to/spend.db or postgresql://user@host:5432/db")
        return v


class AuthSettings(Section):
    """Gateway keys (`anyray keys`), kept hashed in the spend store so every replica sees the same set."""

    required: bool | None = Field(
        None,
        description="true: every API call needs a gateway key; false: keys are never asked for; "
        "unset: asked for as soon as a key has been created (revoked ones count)",
    )
    refresh_s: float = Field(5.0, gt=0, description="how often a gateway re-reads the keys (revocations)")
