"""The console's Starlette app: overview, tables (+CSV), optimizer effect, health, login.

Mounted by the gateway at /console (`console_for_gateway`) and served on its own by `anyray console`
(`standalone_app`). Read-only: it opens its own connection to the spend store (WAL lets it read while
the gateway writes) and runs every query in a worker thread, off the gateway's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from anyray.console import data, pages
from anyray.console.auth import COOKIE, ConsoleAuth, is_loopback, keyring_for_store, still_admin
from anyray.console.health import Health, gateway_health, remote_health, store_only
from anyray.console.worker import Worker, use_process
from anyray.keys import KeyRing
from anyray.store import SpendStore, StoreError, open_store
from anyray.store.migrations import LATEST
from anyray.store.postgres import redact

log = logging.getLogger("anyray.console")

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}

@dataclass
class ConsoleSource:
    """Where the console's data comes from, whichever process serves it."""

    store_url: str | None
    health: Callable[[], Awaitable[Health]]
    keyring: Callable[[], KeyRing | None]
    listen_host: str | None
    refresh_keys: Callable[[], None] | None = None  # the standalone console re-reads its keys itself
    budgets: Callable[[], list[Any]] | None = None  # the gateway's budgets and their use (BudgetUse)
    worker_process: bool = False  # pages built in a worker process (worker.py), not a thread of this one


def up_to_date(store: SpendStore) -> None:
    """Migrate only a store that is behind, so a read-only database user can still read a current one."""
    try:
        current = store.schema_version()
    except Exception:  # no migrations table yet
        current = 0
    if current < LATEST:
        store.migrate()


class Console:
    def __init__(self, source: ConsoleSource) -> None:
        self.source = source
        self.auth = ConsoleAuth(source.listen_host)
        self._store: SpendStore | None = None
        self._lock = threading.Lock()
        self._keys_read = 0.0
        self.worker = Worker(source.store_url) if source.worker_process and source.store_url else None

    async def fresh_keys(self, max_age_s: float = 5.0) -> None:
        """The standalone console's ring is read once at start; re-read it so revocations reach it."""
        if self.source.refresh_keys is not None and time.monotonic() - self._keys_read > max_age_s:
            await asyncio.to_thread(self.source.refresh_keys)
            self._keys_read = time.monotonic()

    def store(self) -> SpendStore:
        """Opened on first use; migrated only if it is behind (a read-only database user still works)."""
        with self._lock:
            if self._store is None:
                if not self.source.store_url:
                    raise StoreError("no spend store is configured (store.url), so there is nothing to show")
                store = open_store(self.source.store_url)
                up_to_date(store)
                self._store = store
            return self._store

    async def query(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(lambda: fn(self.store(), *args))

    async def build(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(store, *args)` (a module-level function: a page built whole) in the worker process if there
        is one, else in a thread like `query`."""
        if self.worker is not None:
            return await self.worker.run(fn, *args)
        return await self.query(fn, *args)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


# ---------------------------------------------------------------------------------------------- helpers
def _console(request: Request) -> Console:
    return request.app.state.console


def _base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _full(request: Request, ctx: dict[str, Any]) -> dict[str, Any]:
    """What every page's template reads, beside the page's own context."""
    keyring = _console(request).source.keyring()
    ctx.setdefault("keys_required", bool(keyring and keyring.required))
    ctx.setdefault("session", None)
    return {"base": _base(request), **ctx}


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return HTMLResponse(pages.render(template, **_full(request, ctx)), status_code=status, headers=SECURITY_HEADERS)


def _html(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def _gate(request: Request) -> Response | Any:
    """None when the caller may see the console, else the response to send (login page or 403)."""
    console = _console(request)
    keyring = console.source.keyring()
    if keyring is not None and keyring.required:
        session = console.auth.read(request.cookies.get(COOKIE))
        if session is None or not still_admin(keyring, session.key_id):
            return RedirectResponse(f"{_base(request)}/login", status_code=303, headers=SECURITY_HEADERS)
        request.state.console_session = session
        return None
    client = request.client.host if request.client else None
    if not console.auth.local_client(client):
        return _page(request, "error.html", 403, message="No gateway keys are configured, so the console only "
                     "answers on loopback and the gateway's own listen address.")
    return None


def _range(request: Request) -> data.TimeRange:
    return data.parse_range(dict(request.query_params), data.now_ms())


def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def wrapper(request: Request) -> Response:
        await _console(request).fresh_keys()
        if (refused := _gate(request)) is not None:
            return refused
        try:
            return await handler(request)
        except data.RangeError as exc:
            return _page(request, "error.html", 400, message=str(exc))
        except StoreError as exc:
            return _page(request, "error.html", 503, message=str(exc))
        except Exception as exc:  # the database went away after start: say so, keep serving other pages
            log.exception("console: %s failed", request.url.path)
            return _page(request, "error.html", 503, message=f"the spend store cannot be read now "
                         f"({type(exc).__name__}); see the gateway's log")

    return wrapper


def _ctx(request: Request, rng: data.TimeRange, active: str, filters: dict[str, str] | None = None) -> dict[str, Any]:
    filters = filters or {}
    fq = data.filter_query(filters)
    return {"rng": rng, "active": active, "session": getattr(request.state, "console_session", None),
            "groups": data.TABLE_GROUPS, "presets": list(data.PRESETS), "filters": filters,
            "q": rng.query + (f"&{fq}" if fq else ""), "fq": fq, "filter_query": data.filter_query}


# ---------------------------------------------------------------------------------------------- pages
@guarded
async def overview(request: Request) -> Response:
    rng = _range(request)
    filters = data.parse_filters(request.query_params)
    source = _console(request).source
    budgets = source.budgets() if source.budgets is not None else []
    ctx = _full(request, {"budgets": budgets, **_ctx(request, rng, "overview", filters)})
    return _html(await _console(request).build(pages.overview, rng, filters, ctx))


def _sort(request: Request) -> tuple[str, bool]:
    key = request.query_params.get("sort", "cost_micros")
    key = key if key in data.SORT_KEYS else "cost_micros"
    return key, request.query_params.get("dir", "desc") != "asc"


@guarded
async def table(request: Request) -> Response:
    by = request.path_params["group"]
    if by not in data.TABLE_GROUPS:
        return _page(request, "error.html", 404, message=f"no table by {by!r}")
    rng = _range(request)
    sort, desc = _sort(request)
    filters = data.parse_filters(request.query_params)
    ctx = _full(request, _ctx(request, rng, by, filters))
    return _html(await _console(request).build(pages.table, rng, by, sort, desc, filters, ctx))


@guarded
async def table_csv(request: Request) -> Response:
    by = request.path_params["group"]
    if by not in data.TABLE_GROUPS:
        return Response("no such table\n", status_code=404, media_type="text/plain")
    rng = _range(request)
    sort, desc = _sort(request)
    filters = data.parse_filters(request.query_params)
    text = await _console(request).build(pages.table_csv, rng, by, sort, desc, filters)
    name = f"anyray-spend-by-{by}-{rng.key}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS, "content-disposition": f'attachment; filename="{name}"'})


@guarded
async def optimizer(request: Request) -> Response:
    rng = _range(request)
    ctx = _full(request, _ctx(request, rng, "optimizer"))
    return _html(await _console(request).build(pages.optimizer, rng, ctx))


@guarded
async def health(request: Request) -> Response:
    console = _console(request)
    h = await console.source.health()
    store = {"url": redact(console.source.store_url) if console.source.store_url else "not configured"}
    try:
        store["schema"] = await console.query(lambda s: s.schema_version())
        store["status"] = "ok"
    except Exception as exc:
        store["status"], store["schema"] = "fail", f"unavailable ({type(exc).__name__})"
    rng = _range(request)
    return _page(request, "health.html", health=h, store=store, **_ctx(request, rng, "health"))


async def login(request: Request) -> Response:
    console = _console(request)
    await console.fresh_keys(0 if request.method == "POST" else 5.0)
    keyring = console.source.keyring()
    if keyring is None or not keyring.required:
        return RedirectResponse(f"{_base(request)}/", status_code=303)
    # the session cookie is Secure: browsers keep it over https, or plain http to loopback only
    client = request.client.host if request.client else None
    insecure = request.url.scheme != "https" and not is_loopback(client)
    if request.method == "GET":
        return _page(request, "login.html", error="", active="login", insecure=insecure)
    body = (await request.body())[:4096].decode("utf-8", "replace")
    secret = (parse_qs(body).get("key") or [""])[0]
    key, why = await asyncio.to_thread(console.auth.login, keyring, secret)
    if key is None:
        return _page(request, "login.html", 401, error=why, active="login", insecure=insecure)
    response = RedirectResponse(f"{_base(request)}/", status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(value=console.auth.issue(key), **console.auth.cookie_args(_base(request) or "/"))
    return response


async def logout(request: Request) -> Response:
    _console(request).auth.revoke(request.cookies.get(COOKIE))  # the cookie is dead server-side, not only deleted
    response = RedirectResponse(f"{_base(request)}/login", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path=_base(request) or "/", secure=True, httponly=True, samesite="strict")
    return response


ROUTES = [
    Route("/", overview, methods=["GET"]),
    Route("/tables/{group}.csv", table_csv, methods=["GET"]),
    Route("/tables/{group}", table, methods=["GET"]),
    Route("/optimizer", optimizer, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]


def create_console_app(source: ConsoleSource) -> Starlette:
    app = Starlette(routes=ROUTES)
    app.state.console = Console(source)
    return app


def console_for_gateway(gateway: Any) -> Starlette:
    """The app the gateway mounts at /console; reads the gateway's own store and keys."""
    cfg = gateway.config
    url = cfg.store.url if cfg.store.enabled else None
    return create_console_app(ConsoleSource(
        store_url=url,
        health=lambda: gateway_health(gateway),
        keyring=lambda: getattr(gateway, "keys", None),
        listen_host=cfg.gateway.host,
        budgets=lambda: gateway.budgets.uses() if getattr(gateway, "budgets", None) is not None else [],
        worker_process=use_process(),
    ))


def standalone_app(store_url: str, listen_host: str, gateway_url: str | None = None) -> Starlette:
    """`anyray console --store URL`: the console at /console, `/` redirecting there.

    The store is brought up to date first (its keys table included), then its keys are read: a store
    whose keys cannot be read raises here instead of serving a console that looks keyless.
    """
    store = open_store(store_url)
    try:
        up_to_date(store)
    finally:
        store.close()
    keyring = keyring_for_store(store_url)
    console = create_console_app(ConsoleSource(
        store_url=store_url,
        health=(lambda: remote_health(gateway_url.rstrip("/"))) if gateway_url else _store_only,
        keyring=lambda: keyring,
        listen_host=listen_host,
        refresh_keys=getattr(keyring, "load", None),
    ))

    async def root(_: Request) -> Response:
        return RedirectResponse("/console/", status_code=307)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await asyncio.to_thread(console.state.console.close)

    app = Starlette(routes=[Route("/", root), Mount("/console", app=console)], lifespan=lifespan)
    app.state.console = console.state.console
    return app


async def _store_only() -> Health:
    return store_only()
