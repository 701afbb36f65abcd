"""Source-code generators for the held-out cases: plausible Python/FastAPI, pytest, TypeScript/Express, jest, Go,
Rust and Kubernetes YAML, built from templates with seeded choices. The code is meant to read like a real repo at a
glance (imports, docstrings, validation, error paths), not to run."""

from __future__ import annotations

import random

from benchmarks.heldout._text import hexs, token

RESOURCES = ["workspaces", "members", "projects", "api_keys", "webhooks", "audit_events", "usage_records", "plans",
             "subscriptions", "payment_methods", "coupons", "shipments", "addresses", "notifications", "exports",
             "imports", "tags", "comments", "attachments", "reports", "dashboards", "alerts", "sessions", "roles"]


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses") or word.endswith("xes"):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def camel(word: str, upper: bool = True) -> str:
    parts = word.split("_")
    out = "".join(p[:1].upper() + p[1:] for p in parts)
    return out if upper else out[:1].lower() + out[1:]


# -- Python / FastAPI ---------------------------------------------------------------------------------------------

def fastapi_router(r: random.Random, resource: str, prefix: str, extra: str = "") -> str:
    one, model = singular(resource), camel(singular(resource))
    fields = r.sample(["name: str", "description: str | None = None", "status: str = \"active\"",
                       "owner_id: UUID", "metadata: dict[str, str] = {}", "archived: bool = False",
                       "priority: int = 0", "region: str = \"eu-west-1\"", "expires_at: datetime | None = None",
                       "external_ref: str | None = None"], 5)
    lines = [
        f'"""HTTP endpoints for {resource.replace("_", " ")}."""',
        "",
        "from __future__ import annotations",
        "",
        "from datetime import datetime",
        "from uuid import UUID",
        "",
        "from fastapi import APIRouter, Depends, HTTPException, Query, status",
        "from pydantic import BaseModel",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "",
        "from app.auth import Principal, require_scope",
        "from app.db import get_session",
        "from app.pagination import Page",
        f"from app.services import {resource} as service",
        "",
        f'router = APIRouter(prefix="{prefix}", tags=["{resource}"])',
        "",
        "",
        f"class {model}In(BaseModel):",
        *(f"    {f}" for f in fields),
        "",
        "",
        f"class {model}Out({model}In):",
        "    id: UUID",
        "    created_at: datetime",
        "    updated_at: datetime",
        "",
        "",
        '@router.get("", response_model=Page[' + model + "Out])",
        f"async def list_{resource}(",
        "    cursor: str | None = None,",
        f"    limit: int = Query({r.choice([20, 50, 100])}, le={r.choice([200, 500])}),",
        f'    principal: Principal = Depends(require_scope("{resource}:read")),',
        "    db: AsyncSession = Depends(get_session),",
        f") -> Page[{model}Out]:",
        f"    return await service.list_{resource}(db, principal.workspace_id, cursor=cursor, limit=limit)",
        "",
        "",
        f'@router.post("", response_model={model}Out, status_code=status.HTTP_201_CREATED)',
        f"async def create_{one}(",
        f"    body: {model}In,",
        f'    principal: Principal = Depends(require_scope("{resource}:write")),',
        "    db: AsyncSession = Depends(get_session),",
        f") -> {model}Out:",
        f"    if await service.count_{resource}(db, principal.workspace_id) >= principal.limits.{resource}:",
        f'        raise HTTPException(status.HTTP_409_CONFLICT, "{one.replace("_", " ")} limit reached for plan")',
        f"    return await service.create_{one}(db, principal, body)",
        "",
        "",
        f'@router.get("/{{{one}_id}}", response_model={model}Out)',
        f"async def get_{one}({one}_id: UUID, principal: Principal = Depends(require_scope(\"{resource}:read\")),",
        f"                  db: AsyncSession = Depends(get_session)) -> {model}Out:",
        f"    found = await service.get_{one}(db, principal.workspace_id, {one}_id)",
        "    if found is None:",
        f'        raise HTTPException(status.HTTP_404_NOT_FOUND, "{one.replace("_", " ")} not found")',
        "    return found",
        "",
        "",
        f'@router.patch("/{{{one}_id}}", response_model={model}Out)',
        f"async def update_{one}({one}_id: UUID, body: {model}In,",
        f"                     principal: Principal = Depends(require_scope(\"{resource}:write\")),",
        f"                     db: AsyncSession = Depends(get_session)) -> {model}Out:",
        f"    return await service.update_{one}(db, principal, {one}_id, body.model_dump(exclude_unset=True))",
        "",
        "",
        f'@router.delete("/{{{one}_id}}", status_code=status.HTTP_204_NO_CONTENT)',
        f"async def delete_{one}({one}_id: UUID, principal: Principal = Depends(require_scope(\"{resource}:admin\")),",
        "                     db: AsyncSession = Depends(get_session)) -> None:",
        f"    await service.soft_delete_{one}(db, principal, {one}_id)",
    ]
    if r.random() < 0.5:
        lines += [
            "",
            "",
            f'@router.post("/{{{one}_id}}/restore", response_model={model}Out)',
            f"async def restore_{one}({one}_id: UUID,",
            f'                      principal: Principal = Depends(require_scope("{resource}:admin")),',
            f"                      db: AsyncSession = Depends(get_session)) -> {model}Out:",
            f'    """Undo a soft delete within the {r.choice([7, 14, 30])}-day grace period."""',
            f"    return await service.restore_{one}(db, principal, {one}_id)",
        ]
    return "\n".join(lines) + ("\n\n\n" + extra if extra else "") + "\n"


def py_service(r: random.Random, resource: str) -> str:
    one, model = singular(resource), camel(singular(resource))
    cap = r.choice([25, 50, 100, 250, 1000])
    return f'''"""Persistence and business rules for {resource.replace("_", " ")}."""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import publish
from app.models import {model}
from app.pagination import Page, decode_cursor, encode_cursor

log = logging.getLogger(__name__)
MAX_PER_WORKSPACE = {cap}


async def list_{resource}(db: AsyncSession, workspace_id: UUID, *, cursor: str | None, limit: int) -> Page:
    q = select({model}).where({model}.workspace_id == workspace_id, {model}.deleted_at.is_(None))
    if cursor:
        q = q.where({model}.id > decode_cursor(cursor))
    rows = (await db.execute(q.order_by({model}.id).limit(limit + 1))).scalars().all()
    more = len(rows) > limit
    return Page(items=rows[:limit], next_cursor=encode_cursor(rows[limit - 1].id) if more else None)


async def count_{resource}(db: AsyncSession, workspace_id: UUID) -> int:
    q = select(func.count()).select_from({model}).where({model}.workspace_id == workspace_id)
    return (await db.execute(q)).scalar_one()


async def get_{one}(db: AsyncSession, workspace_id: UUID, {one}_id: UUID) -> {model} | None:
    q = select({model}).where({model}.workspace_id == workspace_id, {model}.id == {one}_id)
    return (await db.execute(q)).scalar_one_or_none()


async def create_{one}(db: AsyncSession, principal, body) -> {model}:
    row = {model}(workspace_id=principal.workspace_id, created_by=principal.user_id, **body.model_dump())
    db.add(row)
    await db.flush()
    await publish("{one}.created", {{"id": str(row.id), "workspace_id": str(row.workspace_id)}})
    log.info("created {one} %s in workspace %s", row.id, row.workspace_id)
    return row


async def update_{one}(db: AsyncSession, principal, {one}_id: UUID, changes: dict) -> {model}:
    stmt = (update({model}).where({model}.id == {one}_id, {model}.workspace_id == principal.workspace_id)
            .values(**changes, updated_by=principal.user_id).returning({model}))
    row = (await db.execute(stmt)).scalar_one()
    await publish("{one}.updated", {{"id": str(row.id), "fields": sorted(changes)}})
    return row


async def soft_delete_{one}(db: AsyncSession, principal, {one}_id: UUID) -> None:
    await db.execute(update({model}).where({model}.id == {one}_id).values(deleted_at=func.now()))
    await publish("{one}.deleted", {{"id": str({one}_id)}})
'''


_PY_BODIES = [
    '''def {name}({fx}):
    {var} = {factory}({kw}="{val}", amount=Decimal("{amt}"))
    result = {svc}.{verb}({var}, actor=staff_user)
    assert result.status == "{state}"
    assert result.{attr} == Decimal("{amt2}")
''',
    '''def {name}({fx}):
    {var} = {factory}(currency="{cur}")
    with pytest.raises({exc}) as err:
        {svc}.{verb}({var}, amount=Decimal("-{amt}"))
    assert "{msg}" in str(err.value)
''',
    '''@pytest.mark.parametrize("{kw},expected", [("{val}", {n1}), ("{val2}", {n2}), ("", 0)])
def {name}({fx}, {kw}, expected):
    {var} = {factory}({kw}={kw})
    assert {svc}.{verb}({var}).{attr} == expected
''',
    '''def {name}({fx}, freezer):
    freezer.move_to("2025-0{mon}-1{day} 23:59:59")
    {var} = {factory}()
    {svc}.{verb}({var})
    freezer.tick(timedelta(seconds=2))
    assert {svc}.get({var}.id).{attr} is None
    assert events.published("{event}") == [{{"id": str({var}.id)}}]
''',
    '''async def {name}({fx}, client):
    {var} = await {factory}()
    resp = await client.post(f"/v1/{route}/{{{var}.id}}/{verb}", json={{"{kw}": "{val}"}})
    assert resp.status_code == {code}, resp.text
    assert resp.json()["{attr}"] == "{state}"
''',
]
_PY_SLOTS = {
    "kw": ["reason", "channel", "source", "plan", "region", "method", "note"],
    "val": ["wrong_size", "email", "api", "team", "eu-west-1", "sepa_debit", "customer asked"],
    "val2": ["damaged", "sms", "import", "business", "us-east-1", "card", "duplicate"],
    "state": ["succeeded", "pending", "rejected", "queued", "void", "settled"],
    "attr": ["balance", "amount", "remaining", "fee", "tax_amount", "expires_at", "retry_after", "state"],
    "exc": ["ValidationError", "RefundNotAllowed", "LedgerLocked", "CurrencyMismatch", "PermissionDenied"],
    "msg": ["must be positive", "already settled", "currency mismatch", "ledger is closed", "not permitted"],
    "cur": ["EUR", "USD", "GBP", "JPY", "CHF", "SEK"],
    "event": ["refund.created", "invoice.voided", "ledger.closed", "payout.failed", "credit.expired"],
    "route": ["invoices", "refunds", "payouts", "credits", "disputes"],
}


def pytest_function(r: random.Random, name: str, svc: str, factory: str, fixtures: list[str]) -> str:
    tpl = r.choice(_PY_BODIES)
    fill = {k: r.choice(v) for k, v in _PY_SLOTS.items()}
    fill.update(name=name, svc=svc, factory=factory, fx=", ".join(fixtures), var=factory.replace("make_", ""),
                verb=r.choice(["refund", "capture", "void", "settle", "apply_credit", "close_period", "reverse"]),
                amt=f"{r.randint(1, 900)}.{r.randint(0, 99):02d}", amt2=f"{r.randint(0, 400)}.{r.randint(0, 99):02d}",
                n1=str(r.randint(1, 9)), n2=str(r.randint(10, 99)), mon=str(r.randint(1, 9)), day=str(r.randint(0, 9)),
                code=str(r.choice([200, 201, 202, 409, 422])))
    return tpl.format(**fill)


def test_names(r: random.Random, n: int, topic: list[str], taken: set[str]) -> list[str]:
    conds = ["when_ledger_is_closed", "for_foreign_currency", "after_partial_capture", "twice_is_idempotent",
             "with_zero_amount", "on_disputed_charge", "across_month_boundary", "with_store_credit",
             "for_subscription_invoice", "without_permission", "after_payout", "with_tax_exempt_customer",
             "for_multiple_line_items", "when_processor_times_out", "with_expired_card", "in_sandbox_mode"]
    verbs = ["creates", "rejects", "records", "emits", "keeps", "updates", "skips", "reverses", "locks", "notifies"]
    out = []
    while len(out) < n:
        thing = r.choice(["entry", "event", "balance", "fee", "audit_row", "payout", "status"])
        name = f"test_{r.choice(topic)}_{r.choice(verbs)}_{thing}_{r.choice(conds)}"
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


# -- TypeScript ---------------------------------------------------------------------------------------------------

def ts_controller(r: random.Random, resource: str) -> str:
    one, model = singular(resource), camel(singular(resource))
    fns = []
    for verb, method in (("list", "findMany"), ("getById", "findUnique"), ("create", "create"),
                         ("update", "update"), ("remove", "delete")):
        fns.append(f'''export async function {verb}(req: Request, res: Response): Promise<void> {{
  const ws = req.auth.workspaceId;
  {"const input = " + model + "Schema.parse(req.body);" if verb in ("create", "update") else "const input = undefined;"}
  const result = await db.{camel(one, False)}.{method}({{
    where: {{ workspaceId: ws{", id: req.params.id" if verb not in ("list", "create") else ""} }},
    {"data: input," if verb in ("create", "update") else f"take: Number(req.query.limit ?? {r.choice([25, 50])}),"}
  }});
  if (!result) {{
    res.status(404).json({{ error: "{one}_not_found" }});
    return;
  }}
  audit(req, "{one}.{verb.lower()}", {{ id: req.params.id ?? null }});
  res.status({201 if verb == "create" else 200}).json(result);
}}''')
    head = f'''import type {{ Request, Response }} from "express";
import {{ z }} from "zod";
import {{ db }} from "../db";
import {{ audit }} from "../audit";

export const {model}Schema = z.object({{
  name: z.string().min(1).max({r.choice([64, 120, 255])}),
  description: z.string().max(2000).optional(),
  labels: z.record(z.string()).default({{}}),
}});
'''
    return head + "\n" + "\n\n".join(fns) + "\n"


def jest_file(r: random.Random, subject: str, groups: dict[str, list[str]]) -> str:
    out = [f'import {{ {subject} }} from "../{subject[0].lower() + subject[1:]}";',
           'import { buildCart, buildCoupon, fakeClock } from "../../test/factories";', "",
           f'describe("{subject}", () => {{',
           "  let clock: ReturnType<typeof fakeClock>;",
           "  beforeEach(() => {",
           "    clock = fakeClock(\"2025-03-01T10:00:00Z\");",
           "  });", ""]
    for group, its in groups.items():
        out.append(f'  describe("{group}", () => {{')
        for it in its:
            qty, price = r.randint(1, 5), r.randint(199, 9999)
            out += [
                f'    it("{it}", {"async " if r.random() < 0.4 else ""}() => {{',
                f"      const cart = buildCart({{ items: [{{ sku: \"SKU-{r.randint(1000, 9999)}\", qty: {qty}, "
                f"unitPrice: {price} }}] }});",
                r.choice([
                    f'      const coupon = buildCoupon({{ code: "{token(r, 8).upper()}", percentOff: '
                    f'{r.choice([5, 10, 15, 20])} }});',
                    "      const coupon = undefined;",
                    f"      clock.advance({{ minutes: {r.randint(1, 90)} }});",
                ]),
                f"      const result = {subject[0].lower() + subject[1:]}."
                f"{r.choice(['recalculate', 'addItem', 'applyCoupon', 'checkout', 'merge'])}(cart);",
                f"      expect(result.total).toBe({qty * price - r.choice([0, 0, 100, 250])});",
                r.choice(["      expect(result.warnings).toHaveLength(0);",
                          "      expect(result.events).toContainEqual("
                          'expect.objectContaining({ type: "cart.updated" }));',
                          "      expect(result.lines).toMatchSnapshot();"]),
                "    });", "",
            ]
        out.append("  });")
        out.append("")
    out.append("});")
    return "\n".join(out) + "\n"


# -- Go -----------------------------------------------------------------------------------------------------------

def go_goroutine(r: random.Random, gid: int) -> str:
    state = r.choice(["select", "IO wait", "chan receive", "semacquire", "sleep", "sync.Cond.Wait"])
    frames = r.choice([
        [("internal/poll.runtime_pollWait(0x7f3a{0}, 0x72)", "/usr/local/go/src/runtime/netpoll.go:345 +0x85"),
         ("internal/poll.(*pollDesc).wait(0xc000{1}?, 0x0?, 0x0)",
          "/usr/local/go/src/internal/poll/fd_poll_runtime.go:84 +0x27"),
         ("net.(*conn).Read(0xc000{2})", "/usr/local/go/src/net/net.go:179 +0x45"),
         ("bufio.(*Reader).Read(0xc000{3}, {{0xc00{1}, 0x1000, 0x1000}})",
          "/usr/local/go/src/bufio/bufio.go:241 +0x197"),
         ("github.com/jackc/pgx/v5/pgproto3.(*chunkReader).Next(0xc000{0}, 0x5)",
          "/go/pkg/mod/github.com/jackc/pgx/v5@v5.5.5/pgproto3/chunkreader.go:80 +0x25b")],
        [("github.com/segmentio/kafka-go.(*Reader).run(0xc000{0}, 0xc000{1})",
          "/go/pkg/mod/github.com/segmentio/kafka-go@v0.4.47/reader.go:1253 +0x3e5"),
         ("created by github.com/segmentio/kafka-go.NewReader in goroutine 1",
          "/go/pkg/mod/github.com/segmentio/kafka-go@v0.4.47/reader.go:784 +0x8c5")],
        [("time.Sleep(0x3b9aca00)", "/usr/local/go/src/runtime/time.go:195 +0x125"),
         ("github.com/acme/ingest/internal/metrics.(*Pusher).loop(0xc000{0})",
          "/src/internal/metrics/push.go:58 +0x7a"),
         ("created by github.com/acme/ingest/internal/metrics.Start in goroutine 1",
          "/src/internal/metrics/push.go:31 +0x105")],
        [("sync.runtime_notifyListWait(0xc000{0}, 0x{1})", "/usr/local/go/src/runtime/sema.go:569 +0x159"),
         ("sync.(*Cond).Wait(0xc000{2}?)", "/usr/local/go/src/sync/cond.go:70 +0x85"),
         ("github.com/acme/ingest/internal/spool.(*Queue).Pop(0xc000{3})", "/src/internal/spool/queue.go:112 +0x8f"),
         ("github.com/acme/ingest/internal/spool.(*Drainer).Run(0xc000{0}, {{0xb2c1a0, 0xc000{1}}})",
          "/src/internal/spool/drain.go:44 +0x10b")],
        [("net/http.(*persistConn).writeLoop(0xc000{0})", "/usr/local/go/src/net/http/transport.go:2421 +0xe5"),
         ("created by net/http.(*Transport).dialConn in goroutine {4}",
          "/usr/local/go/src/net/http/transport.go:1777 +0x16f1")],
    ])
    hx = [hexs(r, 6) for _ in range(4)] + [str(r.randint(1, 400))]
    out = [f"goroutine {gid} [{state}{', ' + str(r.randint(1, 9)) + ' minutes' if r.random() < 0.3 else ''}]:"]
    for fn, loc in frames:
        out += [fn.format(*hx), "\t" + loc]
    return "\n".join(out)


# -- Kubernetes ---------------------------------------------------------------------------------------------------

def k8s_deployment(r: random.Random, app: str, team: str, mem: str, cpu: str, replicas: int) -> str:
    port = r.choice([8080, 8000, 3000, 9000])
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: storefront
    team: {team}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "{port + 1}"
    spec:
      serviceAccountName: {app}
      terminationGracePeriodSeconds: {r.choice([30, 45, 60])}
      containers:
        - name: {app}
          image: registry.internal.example/{app}:{r.randint(1, 6)}.{r.randint(0, 40)}.{r.randint(0, 9)}
          ports:
            - name: http
              containerPort: {port}
          envFrom:
            - configMapRef:
                name: {app}-env
            - secretRef:
                name: {app}-secrets
          resources:
            requests:
              cpu: {cpu}
              memory: {mem}
            limits:
              memory: {mem}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: {r.choice([10, 15, 30])}
            timeoutSeconds: {r.choice([1, 2, 3])}
"""


def rust_module(r: random.Random, crate: str, items: int) -> str:
    out = ["use std::collections::HashMap;", "use std::sync::Arc;", "", "use anyhow::{Context, Result};",
           "use tokio::sync::RwLock;", "use tracing::{debug, instrument, warn};", ""]
    for _ in range(items):
        noun = r.choice(["Manifest", "Chunk", "Part", "Session", "Cursor", "Lease", "Ticket", "Bucket", "Digest"])
        name = f"{noun}{r.choice(['Store', 'Cache', 'Index', 'Tracker', 'Pool', 'Registry'])}"
        field = noun.lower()
        out += [
            "#[derive(Debug, Clone, Default)]",
            f"pub struct {name} {{",
            f"    inner: Arc<RwLock<HashMap<String, {noun}>>>,",
            "    capacity: usize,",
            "}",
            "",
            f"impl {name} {{",
            "    pub fn new(capacity: usize) -> Self {",
            "        Self { inner: Arc::default(), capacity }",
            "    }",
            "",
            '    #[instrument(skip(self), fields(crate = "' + crate + '"))]',
            f"    pub async fn get(&self, key: &str) -> Option<{noun}> {{",
            "        let guard = self.inner.read().await;",
            "        guard.get(key).cloned()",
            "    }",
            "",
            f"    pub async fn put(&self, key: String, {field}: {noun}) -> Result<()> {{",
            "        let mut guard = self.inner.write().await;",
            "        if guard.len() >= self.capacity && !guard.contains_key(&key) {",
            f'            warn!(capacity = self.capacity, "{name} full, evicting oldest entry");',
            "            let oldest = guard.keys().next().cloned().context(\"empty map at capacity\")?;",
            "            guard.remove(&oldest);",
            "        }",
            f'        debug!(%key, "storing {field}");',
            f"        guard.insert(key, {field});",
            "        Ok(())",
            "    }",
            "}",
            "",
        ]
    return "\n".join(out)


def short_sha(r: random.Random) -> str:
    return hexs(r, 7)
