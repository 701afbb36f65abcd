"""Code context: source files, tests whose names are the answer, route tables, diffs, stack traces, configs."""

from __future__ import annotations

import difflib

from benchmarks.heldout import _code as c
from benchmarks.heldout import _shapes as s
from benchmarks.heldout._text import TEAMS, blob, hexs, paragraph, seeded, token
from benchmarks.workloads._build import Workload


def numbered(text: str) -> str:
    return "\n".join(f"{i:6d}\t{line}" for i, line in enumerate(text.split("\n"), 1))


def pytest_refund_rounding() -> Workload:
    name = "code_pytest_refund_rounding"
    r = seeded(name)
    head = '''"""Refund flows against the in-memory ledger. See docs/billing/refunds.md for the rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from billing import events
from billing.errors import CurrencyMismatch, LedgerLocked, PermissionDenied, RefundNotAllowed, ValidationError
from billing.ledger import Ledger
from tests.billing.factories import make_charge, make_invoice, make_payout


@pytest.fixture
def ledger(db_session, fixed_rates):
    return Ledger(db_session, rates=fixed_rates, rounding=ROUND_HALF_EVEN)


@pytest.fixture
def refunds(ledger):
    return ledger.refunds
'''
    taken: set[str] = set()
    names = c.test_names(r, 70, ["refund", "partial_refund", "capture", "void", "payout", "credit_note"], taken)
    bodies = [c.pytest_function(r, n, r.choice(["refunds", "ledger"]), r.choice(["make_charge", "make_invoice",
                                                                               "make_payout"]),
                                r.sample(["ledger", "refunds", "staff_user", "make_charge", "make_invoice",
                                          "make_payout"], 3)) for n in names]
    target = '''def test_partial_refund_allocates_leftover_cent_to_largest_line(ledger, make_invoice):
    """10.00 split across three lines cannot be exact; the remainder cent goes to the biggest line."""
    invoice = make_invoice(lines=[Decimal("12.00"), Decimal("12.00"), Decimal("36.00")])
    refund = ledger.refunds.create(invoice, amount=Decimal("10.00"), reason="goodwill")
    assert [a.amount for a in refund.allocations] == [Decimal("1.67"), Decimal("1.67"), Decimal("6.66")]
    assert sum(a.amount for a in refund.allocations) == Decimal("10.00")
'''
    decoy = '''def test_jpy_refund_has_no_minor_units(ledger, make_charge):
    charge = make_charge(currency="JPY", amount=Decimal("1999"))
    refund = ledger.refunds.create(charge, amount=Decimal("500"))
    assert refund.amount == refund.amount.quantize(Decimal("1"))
'''
    bodies.insert(44, target)
    bodies.insert(12, decoy)
    source = head + "\n\n" + "\n\n".join(bodies)
    grep = "\n".join(sorted({f"tests/billing/test_{x}.py" for x in ("refunds", "payouts", "ledger_close", "disputes")}
                            | {"billing/refunds.py", "billing/ledger.py", "docs/billing/refunds.md",
                               "billing/allocation.py", "tests/api/test_refund_endpoints.py"}))
    question = "which test covers the rounding when we do a partial refund? I want to extend it"
    messages = [
        s.user(question),
        s.assistant("Let me find the refund tests.", s.use("toolu_01Grp", "Grep", pattern="refund", path=".")),
        s.user(s.result("toolu_01Grp", grep)),
        s.assistant(s.use("toolu_02Rd", "Read", file_path="/repo/tests/billing/test_refunds.py")),
        s.user(s.result("toolu_02Rd", numbered(source))),
    ]
    facts = ["test_partial_refund_allocates_leftover_cent_to_largest_line", "tests/billing/test_refunds.py"]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.CLI_TOOLS)


def express_password_reset() -> Workload:
    name = "code_express_route_password_reset"
    r = seeded(name)
    routes = ['import { Router } from "express";', 'import rateLimit from "express-rate-limit";',
              'import { requireAuth, requireRole } from "../middleware/auth";',
              'import { asyncHandler } from "../middleware/async";']
    resources = r.sample(c.RESOURCES, 16)
    routes += [f'import * as {c.camel(x, False)} from "../controllers/{x.replace("_", "-")}";' for x in resources]
    routes += ['import * as auth from "../controllers/auth";', 'import * as me from "../controllers/me";', "",
               "export const router = Router();",
               "const strict = rateLimit({ windowMs: 15 * 60_000, max: 5, standardHeaders: true });", ""]
    auth_routes = [
        'router.post("/auth/login", strict, asyncHandler(auth.login));',
        'router.post("/auth/logout", requireAuth, asyncHandler(auth.logout));',
        'router.post("/auth/token/refresh", asyncHandler(auth.refreshToken));',
        'router.post("/auth/signup", strict, asyncHandler(auth.signup));',
        'router.get("/auth/verify-email/:token", asyncHandler(auth.verifyEmail));',
        'router.post("/auth/recover", strict, asyncHandler(auth.startCredentialRecovery));',
        'router.get("/auth/recover/:token", asyncHandler(auth.checkRecoveryToken));',
        'router.post("/auth/recover/confirm", strict, asyncHandler(auth.confirmCredentialRecovery));',
        'router.post("/auth/mfa/enroll", requireAuth, asyncHandler(auth.enrollMfa));',
        'router.post("/auth/mfa/verify", strict, asyncHandler(auth.verifyMfa));',
        "",
        'router.get("/me", requireAuth, asyncHandler(me.profile));',
        'router.patch("/me", requireAuth, asyncHandler(me.updateProfile));',
        'router.put("/me/password", requireAuth, strict, asyncHandler(me.changePassword));',
        'router.get("/me/sessions", requireAuth, asyncHandler(me.listSessions));',
        'router.delete("/me/sessions/:id", requireAuth, asyncHandler(me.revokeSession));',
        "",
    ]
    res_routes = []
    for x in resources:
        base = "/" + x.replace("_", "-")
        ctl = c.camel(x, False)
        res_routes += [f"// {x.replace('_', ' ')}",
                       f'router.get("{base}", requireAuth, asyncHandler({ctl}.list));',
                       f'router.get("{base}/:id", requireAuth, asyncHandler({ctl}.getById));',
                       f'router.post("{base}", requireAuth, asyncHandler({ctl}.create));',
                       f'router.patch("{base}/:id", requireAuth, asyncHandler({ctl}.update));',
                       f'router.delete("{base}/:id", requireAuth, requireRole("admin"), asyncHandler({ctl}.remove));',
                       ""]
    routes_ts = "\n".join(routes + res_routes[: len(res_routes) // 2] + auth_routes + res_routes[len(res_routes) // 2:])
    auth_ts = '''import type { Request, Response } from "express";
import { z } from "zod";
import { db } from "../db";
import { hashPassword, verifyPassword } from "../crypto/passwords";
import { issueSession, revokeAllSessions } from "../sessions";
import { mailer } from "../mail";
import { randomToken, sha256 } from "../crypto/tokens";

const RECOVERY_TTL_MINUTES = 30;

export async function startCredentialRecovery(req: Request, res: Response): Promise<void> {
  const { email } = z.object({ email: z.string().email() }).parse(req.body);
  const user = await db.user.findUnique({ where: { email: email.toLowerCase() } });
  // always 202 so the endpoint cannot be used to enumerate accounts
  if (user) {
    const token = randomToken(32);
    await db.recoveryToken.create({
      data: { userId: user.id, tokenHash: sha256(token), expiresAt: minutesFromNow(RECOVERY_TTL_MINUTES) },
    });
    await mailer.send("recover-account", user.email, { link: `${process.env.APP_URL}/recover/${token}` });
  }
  res.status(202).json({ ok: true });
}

export async function checkRecoveryToken(req: Request, res: Response): Promise<void> {
  const row = await db.recoveryToken.findFirst({ where: { tokenHash: sha256(req.params.token), usedAt: null } });
  res.json({ valid: Boolean(row && row.expiresAt > new Date()) });
}

export async function confirmCredentialRecovery(req: Request, res: Response): Promise<void> {
  const body = z.object({ token: z.string().min(20), newPassword: z.string().min(12).max(256) }).parse(req.body);
  const row = await db.recoveryToken.findFirst({ where: { tokenHash: sha256(body.token), usedAt: null } });
  if (!row || row.expiresAt < new Date()) {
    res.status(400).json({ error: "recovery_token_invalid" });
    return;
  }
  await db.$transaction([
    db.user.update({ where: { id: row.userId }, data: { passwordHash: await hashPassword(body.newPassword) } }),
    db.recoveryToken.update({ where: { id: row.id }, data: { usedAt: new Date() } }),
  ]);
  await revokeAllSessions(row.userId, "credential_recovery");
  res.json(await issueSession(row.userId, req));
}
'''
    controllers = "\n\n".join(f"// ---- src/controllers/{x.replace('_', '-')}.ts\n{c.ts_controller(r, x)}"
                              for x in resources[:5])
    body = ("I'm new to this codebase. Here's our router and a few controllers:\n\n// ---- src/routes/index.ts\n"
            + routes_ts + "\n\n// ---- src/controllers/auth.ts\n" + auth_ts + "\n\n" + controllers)
    question = "Which route actually sets the new password when someone goes through the forgot-password flow?"
    facts = ['router.post("/auth/recover/confirm"', "confirmCredentialRecovery"]
    return s.chat(name, question, facts, [
        s.o_sys("You are a senior TypeScript engineer helping a teammate navigate the code."),
        s.o_user(body + "\n\n" + question),
    ], bulk="user", model="gpt-4o-mini")


def go_panic() -> Workload:
    name = "code_go_panic_nil_map"
    r = seeded(name)
    gs = [c.go_goroutine(r, g) for g in r.sample(range(2, 900), 120)]
    trace = """panic: assignment to entry in nil map

goroutine 1 [running]:
github.com/acme/ingest/internal/ingest.(*Batcher).Add(0xc0001a2d20, {0xc00038e0f0, 0x24}, {0xc0004b2000, 0x1f3, 0x200})
\t/src/internal/ingest/batcher.go:142 +0x1c5
github.com/acme/ingest/internal/ingest.(*Service).replaySpool(0xc0002f4b40, {0xb2c1a0, 0xc00007e0a0})
\t/src/internal/ingest/service.go:211 +0x2f9
github.com/acme/ingest/internal/ingest.(*Service).Start(0xc0002f4b40, {0xb2c1a0, 0xc00007e0a0})
\t/src/internal/ingest/service.go:97 +0x1e5
main.run({0xb2c1a0, 0xc00007e0a0}, 0xc000120000)
\t/src/cmd/ingest/main.go:64 +0x6b4
main.main()
\t/src/cmd/ingest/main.go:29 +0x1a5

""" + "\n\n".join(gs)
    fill = []
    for i in range(18):
        fn = r.choice(["flushLocked", "keyFor", "sizeOf", "sealBatch", "drainExpired", "statsSnapshot", "reset"])
        fill.append(f"func (b *Batcher) {fn}{i}(key string) int {{\n\tb.mu.Lock()\n\tdefer b.mu.Unlock()\n"
                    f"\tn := len(b.pending[key])\n\tif n > b.maxItems {{\n\t\tb.metrics.Overflow.Inc()\n\t}}\n"
                    f"\treturn n\n}}\n")
    src = f"""package ingest

import (
\t"context"
\t"sync"
\t"time"

\t"github.com/acme/ingest/internal/metrics"
)

// Batcher groups records per partition key and flushes them when a batch is full or too old.
type Batcher struct {{
\tmu       sync.Mutex
\tpending  map[string][]Record
\tfirstAt  map[string]time.Time
\tmaxItems int
\tmaxAge   time.Duration
\tflush    func(ctx context.Context, key string, recs []Record) error
\tmetrics  *metrics.Batcher
}}

// NewBatcher builds a batcher; spool replay may call Add before Start.
func NewBatcher(maxItems int, maxAge time.Duration, flush func(context.Context, string, []Record) error) *Batcher {{
\treturn &Batcher{{
\t\tfirstAt:  make(map[string]time.Time),
\t\tmaxItems: maxItems,
\t\tmaxAge:   maxAge,
\t\tflush:    flush,
\t\tmetrics:  metrics.NewBatcher(),
\t}}
}}

{chr(10).join(fill[:9])}
// Add appends a record to its key's batch.
func (b *Batcher) Add(key string, rec Record) {{
\tb.mu.Lock()
\tdefer b.mu.Unlock()
\tif _, ok := b.firstAt[key]; !ok {{
\t\tb.firstAt[key] = time.Now()
\t}}
\tb.pending[key] = append(b.pending[key], rec)
\tb.metrics.Added.Inc()
}}

{chr(10).join(fill[9:])}"""
    at = src.split("\n").index("\tb.pending[key] = append(b.pending[key], rec)")
    pad = "\n".join(f"// {paragraph(r, 1, 1)}" for _ in range(140 - at))
    src = src.replace("// Add appends", pad + "\n\n// Add appends", 1) if at < 140 else src
    question = ("ingest keeps crashing on startup since yesterday's deploy (we added spool replay). Full dump and "
                "the batcher file below, what's wrong?")
    facts = ["panic: assignment to entry in nil map", "/src/internal/ingest/batcher.go:142",
             "b.pending[key] = append(b.pending[key], rec)", "firstAt:  make(map[string]time.Time),"]
    return s.claude(name, question, facts, [s.user(s.text(question), s.text(trace),
                                                   s.text("internal/ingest/batcher.go:\n\n" + src))],
                    bulk="user", system="You are an expert Go developer.")


def _mutate(r, text: str) -> str:
    lines = text.split("\n")
    for _ in range(r.randint(2, 5)):
        i = r.randrange(5, len(lines) - 2)
        kind = r.random()
        if kind < 0.4:
            lines.insert(i, lines[i][: len(lines[i]) - len(lines[i].lstrip())]
                         + r.choice(["log.debug(\"checkpoint %s\", locals().get(\"row\"))", "# TODO(ledger-v2): drop",
                                     "await db.flush()", "metrics.incr(\"ledger.write\")"]))
        elif kind < 0.7:
            lines[i] = lines[i].replace("workspace_id", "account_id")
        else:
            del lines[i]
    return "\n".join(lines)


def diff_migration() -> Workload:
    name = "code_diff_ledger_migration"
    r = seeded(name)
    parts = ["$ git diff main...feature/ledger-v2"]
    for res in r.sample(c.RESOURCES, 18):
        before = c.py_service(r, res)
        after = _mutate(r, before)
        path = f"app/services/{res}.py"
        d = difflib.unified_diff(before.split("\n"), after.split("\n"), f"a/{path}", f"b/{path}", lineterm="", n=3)
        parts.append(f"diff --git a/{path} b/{path}\nindex {hexs(r, 7)}..{hexs(r, 7)} 100644\n" + "\n".join(d))
    migrations = [
        ("db/migrations/20250302_0915_ledger_entries_account_idx.sql",
         "-- speed up statement generation\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_entries_account_posted_idx"
         "\n    ON ledger_entries (account_id, posted_at DESC);\n"),
        ("db/migrations/20250304_1130_ledger_amount_precision.sql",
         "-- FX settlement needs sub-cent precision; see ADR-031\nBEGIN;\nALTER TABLE ledger_entries\n"
         "    ALTER COLUMN amount TYPE numeric(20,6) USING amount::numeric(20,6);\nALTER TABLE ledger_entries\n"
         "    ADD COLUMN amount_scale smallint NOT NULL DEFAULT 2;\nCOMMIT;\n"),
        ("db/migrations/20250305_0800_payout_batches.sql",
         "CREATE TABLE payout_batches (\n    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
         "    account_id uuid NOT NULL REFERENCES accounts(id),\n    total numeric(14,2) NOT NULL,\n"
         "    currency char(3) NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n"),
    ]
    for i, (path, sql) in enumerate(migrations):
        body = "\n".join("+" + ln for ln in sql.rstrip("\n").split("\n"))
        parts.insert(3 + 3 * i, f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..{hexs(r, 7)}\n"
                                f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{sql.count(chr(10))} @@\n{body}")
    for res in r.sample(c.RESOURCES, 12):
        before = c.fastapi_router(r, res, f"/v1/{res.replace('_', '-')}")
        after = _mutate(r, before)
        path = f"app/routers/{res}.py"
        d = difflib.unified_diff(before.split("\n"), after.split("\n"), f"a/{path}", f"b/{path}", lineterm="", n=3)
        parts.append(f"diff --git a/{path} b/{path}\nindex {hexs(r, 7)}..{hexs(r, 7)} 100644\n" + "\n".join(d))
    model_diff = """diff --git a/app/models/ledger.py b/app/models/ledger.py
index 4be1c02..9a0d7e3 100644
--- a/app/models/ledger.py
+++ b/app/models/ledger.py
@@ -18,7 +18,8 @@ class LedgerEntry(Base):
     id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
     account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
-    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
+    amount: Mapped[Decimal] = mapped_column(Numeric(20, 6))
+    amount_scale: Mapped[int] = mapped_column(SmallInteger, default=2)
     currency: Mapped[str] = mapped_column(String(3))
     posted_at: Mapped[datetime] = mapped_column(server_default=func.now())"""
    parts.insert(8, model_diff)
    question = "Does this branch change the column type of ledger_entries.amount? If so, in which migration?"
    facts = ["20250304_1130_ledger_amount_precision.sql", "ALTER COLUMN amount TYPE numeric(20,6)"]
    return s.chat(name, question, facts, [
        s.o_sys(s.AGENT_SYSTEM),
        s.o_user("I'm reviewing feature/ledger-v2 before it merges. " + question),
        s.o_calls(("call_df01", "Bash", {"command": "git diff main...feature/ledger-v2"})),
        s.o_tool("call_df01", "\n".join(parts)),
    ], bulk="tool_result", tools=s.CLI_TOOLS, model="claude-sonnet-4-5")


def k8s_memory_limit() -> Workload:
    name = "code_k8s_overlay_memory"
    r = seeded(name)
    apps = ["checkout-api", "cart-svc", "pricing-engine", "search-gateway", "search-indexer", "catalog-reader",
            "media-resizer", "notification-hub", "session-store", "feature-flags", "inventory-svc", "geo-lookup"]
    files = []
    for app in apps:
        mem = "1536Mi" if app == "search-indexer" else r.choice(["256Mi", "512Mi", "768Mi", "1Gi", "2Gi"])
        files.append((f"deploy/base/{app}/deployment.yaml",
                      c.k8s_deployment(r, app, r.choice(TEAMS), mem, r.choice(["100m", "250m", "500m", "1"]),
                                       r.choice([2, 3]))))
        files.append((f"deploy/base/{app}/service.yaml",
                      f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:\n  selector:\n"
                      f"    app.kubernetes.io/name: {app}\n  ports:\n    - name: http\n      port: 80\n"
                      "      targetPort: http\n"))
    files.append(("deploy/base/catalog-reader/configmap.yaml",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: catalog-reader-seed\nbinaryData:\n"
                  f"  synonyms.bin: {blob(r, 3000)}\n"))
    for env, patched in (("staging", {"search-indexer": "2Gi", "cart-svc": "384Mi"}),
                         ("prod", {"search-indexer": "3584Mi", "checkout-api": "1Gi", "pricing-engine": "1536Mi",
                                   "media-resizer": "3Gi"})):
        for app, mem in patched.items():
            files.append((f"deploy/overlays/{env}/{app}-patch.yaml",
                          f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\nspec:\n"
                          f"  replicas: {r.choice([3, 4, 6, 8])}\n  template:\n    spec:\n      containers:\n"
                          f"        - name: {app}\n          resources:\n            requests:\n"
                          f"              memory: {mem}\n            limits:\n              memory: {mem}\n"))
        kust = "\n".join(f"  - path: {a}-patch.yaml" for a in patched)
        files.append((f"deploy/overlays/{env}/kustomization.yaml",
                      f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {env}\n"
                      f"resources:\n  - ../../base\npatches:\n{kust}\nimages:\n"
                      f"  - name: registry.internal.example/search-indexer\n    newTag: 5.{r.randint(0, 9)}.0\n"))
    r.shuffle(files)
    repo = "\n\n".join(f"=== {p} ===\n{t}" for p, t in files)
    system = [s.text("You are a platform engineer's assistant. The repository's deployment files are attached below; "
                     "answer from them and name the file you relied on."),
              s.text("<repository name=\"storefront-deploy\">\n" + repo + "\n</repository>", cache=True)]
    question = "What memory limit does search-indexer end up with in prod?"
    messages = [
        s.user("how many replicas does cart-svc run in staging?"),
        s.assistant("cart-svc has `replicas: 2` in `deploy/base/cart-svc/deployment.yaml`, and the staging overlay "
                    "(`deploy/overlays/staging/cart-svc-patch.yaml`) overrides it, so staging runs the replica count "
                    "set in that patch."),
        s.user("ok thanks. " + question),
    ]
    facts = ["deploy/overlays/prod/search-indexer-patch.yaml", "memory: 3584Mi"]
    return s.claude(name, question, facts, messages, bulk="system", system=system)


def jest_coupon_expiry() -> Workload:
    name = "code_jest_coupon_expiry"
    r = seeded(name)
    groups = {
        "addItem": ["adds a new line for an unseen sku", "merges quantity for an existing sku",
                    "caps quantity at the per-sku limit", "rejects a sku that is out of stock",
                    "keeps line order stable after updates", "recomputes tax after adding"],
        "applyCoupon": ["applies a percent-off coupon to eligible lines",
                        "rejects an expired coupon code at apply time",
                        "does not stack two exclusive coupons", "ignores coupon case when matching",
                        "applies a fixed-amount coupon once per cart"],
        "recalculate": ["sums line totals in minor units", "rounds tax per line, not per cart",
                        "keeps free shipping above the threshold", "removes lines with zero quantity",
                        "applies bundle pricing before coupons"],
        "merge": ["merges a guest cart into the user cart on login", "prefers the newer quantity on conflict",
                  "keeps the user cart coupon when both have one"],
    }
    cart = c.jest_file(r, "CartService", groups)
    special = '''    it("drops a coupon whose validity window closed before checkout", () => {
      const coupon = buildCoupon({ code: "SPRING25", percentOff: 25, validUntil: "2025-03-01T10:30:00Z" });
      const cart = buildCart({ items: [{ sku: "SKU-4410", qty: 2, unitPrice: 4000 }], coupon });
      clock.advance({ minutes: 45 });
      const result = cartService.recalculate(cart);
      expect(result.coupon).toBeUndefined();
      expect(result.total).toBe(8000);
      expect(result.warnings).toContainEqual({ code: "coupon_expired", coupon: "SPRING25" });
    });
'''
    anchor = '  describe("recalculate", () => {\n'
    cart = cart.replace(anchor, anchor + special + "\n", 1)
    coupon = c.jest_file(r, "CouponRules", {
        "eligibility": ["matches category-restricted coupons", "excludes gift cards from discounts",
                        "honours a minimum basket value", "treats validUntil as exclusive"],
        "limits": ["enforces one use per customer", "counts redemptions across devices", "resets monthly quotas"],
    })
    price = c.jest_file(r, "PriceFormatter", {
        "format": ["formats EUR with a comma decimal separator", "formats JPY without minor units",
                   "shows a minus sign for refunds"],
    })
    question = ("Is there a test for the case where a coupon expires while the cart is still open (before "
                "checkout)? Which file and test name?")
    return s.chat(name, question, ["drops a coupon whose validity window closed before checkout",
                                   "src/cart/__tests__/cart.service.test.ts"], [
        s.o_sys("You are a helpful coding assistant."),
        s.o_user("Our cart test files:",
                 "// src/cart/__tests__/cart.service.test.ts\n" + cart,
                 "// src/cart/__tests__/coupon.rules.test.ts\n" + coupon,
                 "// src/format/__tests__/price.test.ts\n" + price,
                 question),
    ], bulk="user")


def rust_backoff() -> Workload:
    name = "code_rust_uploader_backoff"
    r = seeded(name)
    retry = c.rust_module(r, "uploader", 5) + '''
/// Exponential backoff with full jitter for multipart uploads to S3.
const BASE_DELAY: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(20);
const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone)]
pub struct UploadRetry {
    rng: SmallRng,
}

impl UploadRetry {
    pub fn next_delay(&self, attempt: u32) -> Duration {
        let exp = BASE_DELAY.saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(MAX_BACKOFF);
        Duration::from_millis(self.rng.clone().gen_range(0..=capped.as_millis() as u64))
    }

    pub fn should_retry(&self, attempt: u32, err: &UploadError) -> bool {
        attempt < MAX_ATTEMPTS && matches!(err, UploadError::Throttled | UploadError::Timeout | UploadError::Reset)
    }
}
''' + c.rust_module(r, "uploader", 3)
    queue = c.rust_module(r, "queue", 4) + '''
/// Redelivery of poisoned queue messages: linear backoff, then the dead-letter queue.
const MAX_REDELIVERY_DELAY: Duration = Duration::from_secs(300);

pub fn backoff_for(deliveries: u32) -> Duration {
    Duration::from_secs(30 * deliveries as u64).min(MAX_REDELIVERY_DELAY)
}
''' + c.rust_module(r, "queue", 4)
    question = ("Where's the retry backoff for the S3 uploader implemented, and what's the longest it will wait "
                "between two attempts?")
    half = len(retry) // 2
    cut = retry.index("\n", half)
    messages = [
        s.user(question),
        s.assistant(s.use("toolu_01Rg", "Grep", pattern="backoff|Backoff|BACKOFF", path="crates")),
        s.user(s.result("toolu_01Rg", "crates/uploader/src/retry.rs\ncrates/queue/src/redelivery.rs\n"
                                      "crates/uploader/src/multipart.rs")),
        s.assistant("Two candidates; reading both.",
                    s.use("toolu_02Rd", "Read", file_path="/work/blobsync/crates/uploader/src/retry.rs"),
                    s.use("toolu_03Rd", "Read", file_path="/work/blobsync/crates/queue/src/redelivery.rs")),
        s.user(s.result("toolu_02Rd", [retry[:cut], retry[cut + 1:]]), s.result("toolu_03Rd", [queue])),
    ]
    facts = ["crates/uploader/src/retry.rs", "pub fn next_delay(&self, attempt: u32) -> Duration",
             "const MAX_BACKOFF: Duration = Duration::from_secs(20);"]
    return s.claude(name, question, facts, messages, bulk="tool_result", tools=s.CLI_TOOLS)


def fastapi_repo_dump() -> Workload:
    name = "code_repo_dump_invoice_export"
    r = seeded(name)
    resources = [x for x in c.RESOURCES if x != "reports"]
    files = []
    for res in resources:
        files.append((f"app/routers/{res}.py", c.fastapi_router(r, res, f"/v1/{res.replace('_', '-')}")))
        files.append((f"app/services/{res}.py", c.py_service(r, res)))
        one = c.singular(res)
        cases = [c.pytest_function(r, f"test_{one}_{n}", "service", f"make_{one}", ["db", f"make_{one}"])
                 for n in r.sample(["created", "listed", "paginated", "renamed", "archived", "restored", "deleted",
                                    "limit_enforced", "forbidden", "audited"], 6)]
        files.append((f"tests/test_{res}.py", f"import pytest\n\nfrom app.services import {res} as service\n\n\n"
                      + "\n\n".join(cases)))
    invoices = c.fastapi_router(r, "invoices", "/v2/billing/invoices")
    billing = '''"""Billing account views: statements, invoice PDFs and exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from app.auth import Principal, require_scope
from app.db import get_session
from app.services import invoices as service
from app.pdf import render_invoice

router = APIRouter(prefix="/v2/billing", tags=["billing"])


@router.get("/accounts/{account_id}/statement")
async def account_statement(account_id: UUID, month: str = Query(..., pattern=r"^\\d{4}-\\d{2}$"),
                            principal: Principal = Depends(require_scope("billing:read")), db=Depends(get_session)):
    return await service.statement(db, principal, account_id, month)


@router.get("/accounts/{account_id}/invoices/{invoice_id}/pdf", response_class=Response)
async def render_invoice_pdf(account_id: UUID, invoice_id: UUID,
                             principal: Principal = Depends(require_scope("billing:read")), db=Depends(get_session)):
    invoice = await service.get_invoice(db, principal, account_id, invoice_id)
    return Response(render_invoice(invoice), media_type="application/pdf")


@router.get("/accounts/{account_id}/invoices/export", response_class=StreamingResponse)
async def export_invoice_ledger(account_id: UUID, start: date, end: date,
                                principal: Principal = Depends(require_scope("billing:export")),
                                db=Depends(get_session)):
    """One row per invoice line between start and end, for the customer's accountants."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["invoice_number", "issued_on", "line", "net", "tax", "gross", "currency"])
    async for row in service.invoice_lines(db, principal, account_id, start, end):
        writer.writerow(row)
    headers = {"Content-Disposition": f'attachment; filename="invoices-{start}-{end}.csv"'}
    return StreamingResponse(iter([buf.getvalue()]), media_type="text/csv", headers=headers)
'''
    files.insert(len(files) * 2 // 3, ("app/routers/billing.py", billing))
    files.insert(len(files) // 3, ("app/routers/invoices.py", invoices))
    files.append(("app/main.py", "from fastapi import FastAPI\n\nfrom app.routers import " + ", ".join(
        ["billing", "invoices", *resources[:8]]) + "\n\napp = FastAPI(title=\"Console API\")\n" + "".join(
        f"app.include_router({m}.router)\n" for m in ["billing", "invoices", *resources[:8]])))
    tree = "\n".join(sorted(p for p, _ in files))
    dump = ("This file is a merged representation of the entire codebase, combined into a single document.\n\n"
            "<directory_structure>\n" + tree + "\n</directory_structure>\n\n<files>\n"
            + "\n".join(f'<file path="{p}">\n{t}</file>\n' for p, t in files) + "</files>\n")
    question = "Which endpoint exports invoices as CSV for a customer, and which function implements it?"
    facts = ['prefix="/v2/billing"', "/accounts/{account_id}/invoices/export", "async def export_invoice_ledger("]
    return s.claude(name, question, facts, [s.user(s.document(dump, title="console-api (repomix)"), s.text(question))],
                    bulk="document", system="You are a code assistant. The user's repository is attached.")


def java_toml_history() -> Workload:
    name = "code_java_toml_webhook_retry"
    r = seeded(name)
    methods = []
    for _ in range(14):
        verb = r.choice(["sign", "serialize", "enqueue", "recordAttempt", "loadEndpoint", "scrubHeaders",
                         "markDelivered"])
        methods.append(f"""    private {r.choice(['void', 'boolean', 'String'])} {verb}{c.camel(r.choice(c.RESOURCES))}(
            WebhookEvent event, Endpoint endpoint) {{
        Objects.requireNonNull(event, "event");
        log.debug("{verb} event={{}} endpoint={{}}", event.id(), endpoint.id());
        {r.choice(['return;', 'return true;', 'return event.id();'])}
    }}
""")
    java = f"""package com.acme.billing.webhooks;

import com.acme.config.AppConfig;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class BillingWebhookDispatcher {{
    private static final Logger log = LoggerFactory.getLogger(BillingWebhookDispatcher.class);

    private final HttpClient http;
    private final AppConfig config;
    private final DeliveryStore store;

    public BillingWebhookDispatcher(HttpClient http, AppConfig config, DeliveryStore store) {{
        this.http = http;
        this.config = config;
        this.store = store;
    }}

    public DeliveryResult dispatch(WebhookEvent event, Endpoint endpoint) throws InterruptedException {{
        int attempts = config.getInt("webhooks.billing.max_attempts", 5);
        Duration timeout = config.getDuration("webhooks.billing.timeout", Duration.ofSeconds(10));
        for (int attempt = 1; attempt <= attempts; attempt++) {{
            HttpRequest req = HttpRequest.newBuilder(endpoint.uri())
                .timeout(timeout)
                .header("X-Acme-Signature", Signer.sign(event, endpoint.secret()))
                .POST(HttpRequest.BodyPublishers.ofString(event.json()))
                .build();
            try {{
                HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
                store.record(event.id(), attempt, resp.statusCode());
                if (resp.statusCode() < 300) {{
                    return DeliveryResult.delivered(attempt);
                }}
                if (resp.statusCode() == 410) {{
                    return DeliveryResult.gone();
                }}
            }} catch (java.io.IOException e) {{
                log.warn("billing webhook attempt {{}} failed: {{}}", attempt, e.toString());
            }}
            Thread.sleep(Backoff.forAttempt(attempt).toMillis());
        }}
        return DeliveryResult.exhausted(attempts);
    }}

{''.join(methods)}}}
"""
    sections = []
    for sec in ["server", "database", "database.replica", "cache", "queues.outbound", "webhooks.crm",
                "webhooks.billing", "webhooks.shipping", "observability", "feature_flags", "rate_limits.public",
                "rate_limits.partner"]:
        lines = [f"[{sec}]"]
        if sec == "webhooks.billing":
            lines += ["enabled = true", "max_attempts = 7", 'timeout = "8s"', 'backoff = "exponential"',
                      'dead_letter_topic = "billing.webhooks.dlq"']
        elif sec == "webhooks.crm":
            lines += ["enabled = true", "max_attempts = 3", 'timeout = "5s"', 'backoff = "fixed"']
        elif sec == "webhooks.shipping":
            lines += ["enabled = false", "max_attempts = 4", 'timeout = "15s"']
        else:
            for _ in range(r.randint(4, 9)):
                key = r.choice(["pool_size", "idle_timeout", "host", "port", "ttl", "burst", "rate", "sample_ratio",
                                "endpoint", "log_level", "max_body_bytes", "keepalive"])
                val = r.choice([str(r.randint(1, 500)), f'"{r.randint(1, 90)}s"', '"info"',
                                f'"{token(r, 6).lower()}.internal"', "true"])
                lines.append(f"{key} = {val}")
        sections.append("\n".join(lines))
    toml = "# config/app.toml\n\n" + "\n\n".join(sections)
    test_out = "\n".join(
        f"[INFO] Tests run: {r.randint(3, 30)}, Failures: 0, Errors: 0, Skipped: {r.choice([0, 0, 1])}, Time elapsed: "
        f"{r.uniform(0.1, 9):.3f} s - in com.acme.billing.{c.camel(r.choice(c.RESOURCES))}Test" for _ in range(160))
    question = ("Quick one: what's the retry limit for the billing webhook actually going to be in prod, and does "
                "the Java code override it?")
    explain = ("Here's the flow in `BillingWebhookDispatcher`:\n\n1. `dispatch` reads its attempt budget and timeout "
               "from `AppConfig` at the start of every call, so config changes apply without a restart.\n2. Each "
               "attempt signs the payload with the endpoint secret (`X-Acme-Signature`) and POSTs it.\n3. A 2xx "
               "records the delivery and returns; a 410 means the customer deleted the endpoint and we stop.\n4. IO "
               "errors are logged and retried after `Backoff.forAttempt(attempt)`.\n\n" + paragraph(r, 6, 9) + "\n\n"
               "The private helpers below `dispatch` are mostly logging wrappers; nothing there changes the retry "
               "behaviour.")
    messages = [
        s.o_sys("You are a senior Java engineer. Be precise."),
        s.o_user("Here's BillingWebhookDispatcher.java, can you explain the delivery flow?\n\n```java\n" + java
                 + "\n```"),
        s.o_asst(explain),
        s.o_user("And this is our config:\n\n```toml\n" + toml + "\n```\nAnything odd in it?"),
        s.o_asst("Nothing alarming. Two observations: the shipping webhook is disabled (`enabled = false`), so its "
                 "settings are inert, and several sections use string durations (\"8s\") which `getDuration` parses. "
                 + paragraph(r, 3, 5)),
        s.o_user("Also the test run from CI, all green I think:\n\n" + test_out),
        s.o_asst("Yes, all green: no failures or errors in any class; a handful of skipped tests, which is normal."),
        s.o_user(question),
    ]
    facts = ["[webhooks.billing]", "max_attempts = 7", 'config.getInt("webhooks.billing.max_attempts", 5)']
    return s.chat(name, question, facts, messages, bulk="history", model="gpt-4.1")


def go_test_names() -> Workload:
    name = "code_go_test_lease_reclaim"
    r = seeded(name)
    tests = ["TestAcquireGrantsFreshLease", "TestAcquireFailsWhenHeld", "TestRenewExtendsDeadline",
             "TestRenewRejectsForeignOwner", "TestReleaseIsIdempotent", "TestSweeperReclaimsStaleLeases",
             "TestSweeperSkipsRenewedLeases", "TestLeaseJSONRoundTrip", "TestClockSkewTolerance",
             "TestConcurrentAcquireOneWinner"]
    lines = []
    for t in tests:
        lines.append(f"=== RUN   {t}")
        if t == "TestConcurrentAcquireOneWinner":
            lines.append(f"=== PAUSE {t}")
        for sub in r.sample(["postgres", "memory", "redis"], r.randint(0, 2)):
            lines.append(f"=== RUN   {t}/{sub}")
        lines.append(f"--- PASS: {t} ({r.uniform(0, 0.4):.2f}s)")
    lines += ["=== CONT  TestConcurrentAcquireOneWinner", "PASS",
              f"ok  \tgithub.com/acme/scheduler/internal/lease\t{r.uniform(0.5, 2):.3f}s"]
    for pkg in ["cron", "queue", "store", "httpapi"]:
        lines.append(f"ok  \tgithub.com/acme/scheduler/internal/{pkg}\t(cached)")
    question = "which test checks that expired leases get taken back by the sweeper?"
    return s.chat(name, question, ["TestSweeperReclaimsStaleLeases", "github.com/acme/scheduler/internal/lease"], [
        s.o_sys(s.AGENT_SYSTEM),
        s.o_user(question),
        s.o_calls(("call_gt01", "Bash", {"command": "go test ./internal/... -v -count=1 2>&1 | grep -v '^\\s*$'"})),
        s.o_tool("call_gt01", "\n".join(lines)),
    ], bulk="tool_result", tools=s.CLI_TOOLS)


WORKLOADS = [pytest_refund_rounding, express_password_reset, go_panic, diff_migration, k8s_memory_limit,
             jest_coupon_expiry, rust_backoff, fastapi_repo_dump, java_toml_history, go_test_names]
