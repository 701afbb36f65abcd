"""Code context: source files, tests, route tables, diffs and configs; the answer is a place in the code."""

from __future__ import annotations

from benchmarks.fresh._code import (
    csharp_method,
    go_func,
    kotlin_test,
    pascal,
    php_method,
    py_function,
    py_module,
    ruby_method,
    rust_fn,
    ts_handler,
)
from benchmarks.fresh._gen import hexs, line_numbers, rnd
from benchmarks.fresh._req import (
    AnthropicConversation,
    OpenAIConversation,
    anthropic_request,
    cached_text,
    document,
    openai_request,
    text_part,
    workload,
)
from benchmarks.workloads._build import Workload

PAY_NOUNS = [
    "refund",
    "charge",
    "payout",
    "dispute",
    "ledger_entry",
    "fx_quote",
    "merchant",
    "fee_schedule",
    "chargeback",
    "settlement",
    "card_token",
    "invoice",
]

CPU_REQUESTS = ["100m", "250m", "500m"]


def py_refund_rounding() -> Workload:
    name = "code_py_refund_rounding"
    r = rnd(name)
    service = py_module(r, PAY_NOUNS, 14, '"""Refund orchestration: validation, FX and ledger posting."""')
    service = service.replace(
        "from dataclasses import dataclass\n",
        "from dataclasses import dataclass\n\nfrom payments.refunds.fx_convert import quantize_refund_amount, "
        "to_settlement_currency\n",
        1,
    )
    service += "\n".join(
        [
            "    def issue(self, charge: Charge, amount_minor: int, reason: str) -> Refund:",
            "        policy = self._policies.for_merchant(charge.merchant_id)",
            "        policy.check(charge, amount_minor)",
            "        converted = to_settlement_currency(charge, amount_minor, self._rates)",
            "        refund = Refund.new(charge_id=charge.id, amount_minor=converted, reason=reason)",
            "        self._repo.save(refund)",
            "        return refund",
        ]
    )
    fx = "\n".join(
        [
            '"""Currency conversion for refunds whose presentment and settlement currencies differ."""',
            "",
            "from __future__ import annotations",
            "",
            "from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal",
            "",
            "from payments.money import MINOR_UNITS, Currency",
            "from payments.rates import RateSource",
            "",
            "",
            "def to_settlement_currency(charge, amount_minor: int, rates: RateSource) -> int:",
            "    if charge.presentment_currency == charge.settlement_currency:",
            "        return amount_minor",
            "    rate = rates.locked_rate(charge.fx_quote_id) or rates.spot(charge.presentment_currency,",
            "                                                               charge.settlement_currency)",
            "    major = Decimal(amount_minor) / (10 ** MINOR_UNITS[charge.presentment_currency])",
            "    return quantize_refund_amount(major * rate, charge.settlement_currency)",
            "",
            "",
            "def quantize_refund_amount(amount: Decimal, currency: Currency) -> int:",
            "    exponent = Decimal(1).scaleb(-MINOR_UNITS[currency])",
            "    # TODO(finance): confirm rounding mode with treasury before the EU launch",
            "    rounded = amount.quantize(exponent, rounding=ROUND_HALF_UP)",
            "    return int(rounded.scaleb(MINOR_UNITS[currency]))",
            "",
            "",
            "def _legacy_round(amount: Decimal) -> Decimal:",
            "    # kept for the 2023 reconciliation scripts",
            "    return amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)",
        ]
    )
    money = "\n".join(
        [
            '"""Money primitives shared by charges, refunds and payouts."""',
            "",
            "from decimal import ROUND_HALF_EVEN, Decimal",
            "",
            "MINOR_UNITS = {'EUR': 2, 'USD': 2, 'GBP': 2, 'SEK': 2, 'JPY': 0, 'KWD': 3, 'ISK': 0}",
            "",
            "",
            "def charge_amount_minor(amount: Decimal, currency: str) -> int:",
            "    exponent = Decimal(1).scaleb(-MINOR_UNITS[currency])",
            "    return int(amount.quantize(exponent, rounding=ROUND_HALF_EVEN).scaleb(MINOR_UNITS[currency]))",
            "",
        ]
        + [py_function(r, n, method=False) + "\n" for n in r.sample(PAY_NOUNS, 8)]
    )
    policies = py_module(r, PAY_NOUNS, 12, '"""Per-merchant refund policies (windows, partial refunds, limits)."""')
    grep = "\n".join(
        [
            "payments/refunds/service.py:5:from payments.refunds.fx_convert import quantize_refund_amount, "
            "to_settlement_currency",
            "payments/refunds/fx_convert.py:17:    return quantize_refund_amount(major * rate, "
            "charge.settlement_currency)",
            "payments/refunds/fx_convert.py:20:def quantize_refund_amount(amount: Decimal, currency: Currency) -> int:",
            "payments/money.py:10:    return int(amount.quantize(exponent, rounding=ROUND_HALF_EVEN)"
            ".scaleb(MINOR_UNITS[currency]))",
            "scripts/recon_2023/replay.py:88:    total = total.quantize(Decimal('0.01'))",
        ]
    )
    question = (
        "Finance says cross-currency refunds are off by a cent sometimes and that they should use banker's rounding. "
        "Where exactly do we round the converted refund amount, and what rounding does it use today?"
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools(
        [("search_code", {"pattern": "quantize", "glob": "payments/**/*.py"}, grep)],
        thought="Let me find where amounts are quantized.",
    )
    conv.tools(
        [
            ("read_file", {"path": "payments/refunds/service.py"}, line_numbers(service)),
            ("read_file", {"path": "payments/refunds/fx_convert.py"}, line_numbers(fx)),
            ("read_file", {"path": "payments/money.py"}, line_numbers(money)),
            ("read_file", {"path": "payments/refunds/policies.py"}, line_numbers(policies)),
        ]
    )
    req = anthropic_request(
        conv.messages,
        system="You are a senior Python engineer at a payments company.",
        tools=["search_code", "read_file", "run_shell"],
    )
    facts = ["payments/refunds/fx_convert.py", "def quantize_refund_amount(", "rounding=ROUND_HALF_UP"]
    return workload(name, question, facts, req, "tool_result", "banker's rounding = ROUND_HALF_EVEN (used elsewhere)")


def ts_route_table() -> Workload:
    name = "code_ts_route_table"
    r = rnd(name)
    nouns = [
        "product",
        "variant",
        "price_list",
        "category",
        "brand",
        "inventory_level",
        "promotion",
        "bundle",
        "media_asset",
        "attribute_set",
        "channel_listing",
        "review",
    ]
    routes = []
    for n in nouns:
        base = "/v2/catalog/" + n.replace("_", "-") + "s"
        p = pascal(*n.split("_"))
        scope_r = "catalog:read"
        scope_w = "catalog:write"
        routes += [
            f"  app.get('{base}', {{ preHandler: requireScope('{scope_r}') }}, h.list{p}s);",
            f"  app.get('{base}/:id', {{ preHandler: requireScope('{scope_r}') }}, h.get{p});",
            f"  app.post('{base}', {{ preHandler: [requireScope('{scope_w}'), idempotent()] }}, h.create{p});",
            f"  app.put('{base}/:id', {{ preHandler: requireScope('{scope_w}') }}, h.replace{p});",
            f"  app.delete('{base}/:id', {{ preHandler: requireScope('{scope_w}') }}, h.archive{p});",
        ]
    routes += [
        "  app.put('/v2/catalog/prices/:sku', { preHandler: requireScope('catalog:write') }, h.setPrice);",
        "  app.get('/v2/catalog/prices/:sku/history', { preHandler: requireScope('catalog:read') }, h.priceHistory);",
        "  app.post('/v2/catalog/prices/preview', { preHandler: requireScope('catalog:read') }, h.previewPrices);",
        "  app.patch(",
        "    '/v2/catalog/prices/bulk',",
        "    { preHandler: [requireScope('catalog:pricing:write'), rateLimit({ max: 5, timeWindow: '1 minute' })],",
        "      bodyLimit: 8 * 1024 * 1024 },",
        "    h.bulkUpdatePrices,",
        "  );",
        "  app.post('/v2/catalog/imports', { preHandler: requireScope('catalog:import') }, h.startImport);",
        "  app.get('/v2/catalog/imports/:jobId', { preHandler: requireScope('catalog:import') }, h.importStatus);",
    ]
    index = "\n".join(
        [
            "import type { FastifyInstance } from 'fastify';",
            "import { requireScope, idempotent, rateLimit } from '../plugins/auth';",
            "import * as h from '../handlers/catalog';",
            "",
            "// Registered under the /catalog prefix by src/server.ts. Keep this list sorted by resource.",
            "export async function catalogRoutes(app: FastifyInstance) {",
            *routes,
            "}",
        ]
    )
    handlers = "\n\n".join(
        [
            "import type { FastifyReply, FastifyRequest } from 'fastify';",
            *[ts_handler(r, r.choice(nouns)) for _ in range(48)],
        ]
    )
    question = "Which endpoint does the bulk price update, and what scope does a partner token need to call it?"
    conv = OpenAIConversation(name)
    conv.system("You are helping an e-commerce platform team document their catalog API for partners.")
    conv.user(
        [
            {"type": "text", "text": "src/routes/catalog.ts:\n```ts\n" + index + "\n```"},
            {"type": "text", "text": "src/handlers/catalog.ts:\n```ts\n" + handlers + "\n```"},
            {"type": "text", "text": question},
        ]
    )
    facts = ["/v2/catalog/prices/bulk", "catalog:pricing:write", "bulkUpdatePrices"]
    return workload(name, question, facts, openai_request(conv.messages), "user", "route spans several lines")


def go_eta_crossdock() -> Workload:
    name = "code_go_eta_crossdock"
    r = rnd(name)
    nouns = ["shipment", "leg", "lane", "hub_slot", "carrier_cutoff", "route_plan", "dock_door", "trailer"]
    planner = "\n\n".join(
        [
            "package eta",
            'import (\n\t"context"\n\t"fmt"\n\t"log/slog"\n\t"time"\n)',
            "type Planner struct {\n\tstore Store\n\tlog   *slog.Logger\n}",
            *[go_func(r, "Planner", r.choice(nouns)) for _ in range(22)],
        ]
    )
    calc = "\n".join(
        [
            "package eta",
            "",
            'import (\n\t"context"\n\t"time"\n)',
            "",
            "type LegKind int",
            "",
            "const (",
            "\tLegLinehaul LegKind = iota",
            "\tLegLastMile",
            "\tLegCrossDock",
            "\tLegCustomsHold",
            ")",
            "",
            "// Calculator turns a route plan into an arrival estimate.",
            "type Calculator struct {",
            "\tspeeds   SpeedTable",
            "\tdwell    DwellModel",
            "\tcutoffs  CutoffCalendar",
            "}",
            "",
            "func (c *Calculator) Estimate(ctx context.Context, plan *RoutePlan) (time.Time, error) {",
            "\tt := plan.DepartAt",
            "\tfor _, leg := range plan.Legs {",
            "\t\td, err := c.legDuration(ctx, leg)",
            "\t\tif err != nil {",
            "\t\t\treturn time.Time{}, err",
            "\t\t}",
            "\t\tt = c.cutoffs.NextDeparture(leg.From, t).Add(d)",
            "\t}",
            "\treturn t, nil",
            "}",
            "",
            "func (c *Calculator) legDuration(ctx context.Context, leg Leg) (time.Duration, error) {",
            "\tswitch leg.Kind {",
            "\tcase LegLinehaul:",
            "\t\treturn c.speeds.Linehaul(leg.From, leg.To, leg.DistanceKm), nil",
            "\tcase LegLastMile:",
            "\t\treturn c.speeds.LastMile(leg.To, leg.Stops), nil",
            "\tcase LegCrossDock:",
            "\t\treturn 0, nil // dwell is added by the planner",
            "\tcase LegCustomsHold:",
            "\t\treturn c.dwell.Customs(ctx, leg.From)",
            "\t}",
            '\treturn 0, fmt.Errorf("unknown leg kind %d", leg.Kind)',
            "}",
        ]
    )
    question = (
        "Customers shipping through cross-dock facilities get ETAs that are several hours too early, as if the "
        "cross-dock took no time at all. Looking at these two files, why?"
    )
    conv = AnthropicConversation(name)
    conv.user(
        [
            text_part("internal/eta/planner.go\n```go\n" + planner + "\n```"),
            text_part("internal/eta/calculator.go\n```go\n" + calc + "\n```"),
            text_part(question),
        ]
    )
    req = anthropic_request(conv.messages, system="You are a Go reviewer for a logistics routing team.")
    facts = [
        "func (c *Calculator) legDuration(",
        "case LegCrossDock:",
        "return 0, nil // dwell is added by the planner",
    ]
    return workload(name, question, facts, req, "user", "planner.go never adds dwell: the comment is wrong")


def kotlin_overdraft_tests() -> Workload:
    name = "code_kotlin_overdraft_tests"
    r = rnd(name)
    phrases = [
        "accepts withdrawal within available balance",
        "posts a single ledger entry per withdrawal",
        "rejects withdrawal on a frozen account",
        "rejects withdrawal with mismatched currency",
        "flags withdrawal above the daily velocity threshold for review",
        "rounds fees to the account currency",
        "applies the reduced fee for premium accounts",
        "emits WithdrawalRequested event",
        "is idempotent for the same request id",
        "rejects zero amount",
        "rejects negative amount",
        "accepts withdrawal at exactly the balance",
        "does not charge a fee for internal transfers",
        "respects the weekend cutoff for SEPA instant",
        "keeps the hold for 3 business days on new accounts",
        "releases the hold when the deposit clears",
        "maps ledger timeout to retryable error",
        "records the channel on the ledger entry",
        "uses the merchant category for ATM fee waiver",
        "blocks withdrawals during sanctions screening",
    ]
    tests = [kotlin_test(r, "useCase", p) for p in phrases]
    od = [
        "rejects withdrawal that exceeds the arranged overdraft limit",
        "allows withdrawal into overdraft up to the arranged limit",
        "charges unarranged overdraft fee when limit was raised same day",
    ]
    tests = [
        *tests[:6],
        kotlin_test(r, "useCase", od[0]),
        *tests[6:13],
        kotlin_test(r, "useCase", od[1]),
        *tests[13:17],
        kotlin_test(r, "useCase", od[2]),
        *tests[17:],
    ]
    more = [kotlin_test(r, "useCase", f"{p} (regression #{r.randint(1000, 9999)})") for p in r.choices(phrases, k=40)]
    src = "\n".join(
        [
            "package com.fjordbank.accounts.withdrawal",
            "",
            "import com.fjordbank.money.Money",
            "import com.fjordbank.money.Currency.EUR",
            "import io.mockk.verify",
            "import org.assertj.core.api.Assertions.assertThat",
            "import org.junit.jupiter.api.Test",
            "",
            "class WithdrawFundsUseCaseTest : UseCaseTestBase() {",
            "    private val useCase = WithdrawFundsUseCase(ledger, accounts, fees, clock)",
            "",
            "\n\n".join(tests + more),
            "}",
        ]
    )
    question = "Which tests cover the overdraft limit? I'm about to change how the arranged limit is calculated."
    conv = OpenAIConversation(name)
    conv.system("You are a Kotlin engineer on the core-banking team. Quote test names exactly.")
    conv.user(question)
    conv.tools(
        [
            (
                "search_code",
                {"pattern": "class .*Withdraw.*Test", "glob": "**/*Test.kt"},
                "accounts/src/test/kotlin/com/fjordbank/accounts/withdrawal/WithdrawFundsUseCaseTest.kt:9:class "
                "WithdrawFundsUseCaseTest : UseCaseTestBase() {",
            )
        ]
    )
    conv.tools(
        [
            (
                "read_file",
                {"path": "accounts/src/test/kotlin/com/fjordbank/accounts/withdrawal/WithdrawFundsUseCaseTest.kt"},
                line_numbers(src),
            )
        ]
    )
    req = openai_request(conv.messages, tools=["search_code", "read_file"])
    facts = [f"fun `{p}`()" for p in od]
    return workload(name, question, facts, req, "tool_result", "three test names; one says 'unarranged overdraft'")


def rust_lod_panic() -> Workload:
    name = "code_rust_lod_panic"
    r = rnd(name)
    nouns = ["normals", "tangents", "uvs", "indices", "bone_weights", "colors", "meshlets"]
    fns = [rust_fn(r, r.choice(nouns)) for _ in range(30)]
    key = "\n".join(
        [
            "/// Builds every LOD level from the base mesh, halving the triangle budget each time.",
            "pub fn build_chain(&mut self, base: &Mesh) -> Result<LodChain, BakeError> {",
            "    let mut chain = LodChain::with_capacity(self.levels.len());",
            "    let mut budget = base.triangle_count();",
            "    for level in 0..=self.levels.len() {",
            "        let settings = &self.levels[level];",
            "        budget = (budget as f32 * settings.ratio) as usize;",
            "        chain.push(simplify(base, budget, settings.error_threshold)?);",
            "    }",
            "    Ok(chain)",
            "}",
        ]
    )
    body = "\n\n".join(
        [
            "use glam::Vec3;",
            "use tracing::trace;",
            "use crate::{BakeError, LodChain, Mesh, simplify};",
            "pub struct LodBuilder {\n    pub levels: Vec<LodSettings>,\n    pub scale: f32,\n    pub bias: f32,\n"
            + "".join(f"    pub {n}: Vec<f32>,\n" for n in nouns)
            + "}",
            "impl LodBuilder {",
            *[indent(f) for f in [*fns[:17], key, *fns[17:]]],
            "}",
        ]
    )
    numbered = line_numbers(body)
    at = next(i for i, ln in enumerate(body.split("\n"), 1) if "&self.levels[level]" in ln)
    col = body.split("\n")[at - 1].index("self.levels[level]") + 1
    where = f"crates/mesh_bake/src/lod.rs:{at}:{col}"
    panic = "\n".join(
        [
            "$ cargo run --release -p asset_cook -- bake assets/props/harbor_crane.glb",
            "   Compiling mesh_bake v0.14.2 (/home/build/studio/crates/mesh_bake)",
            "    Finished `release` profile [optimized + debuginfo] target(s) in 41.87s",
            "     Running `target/release/asset_cook bake assets/props/harbor_crane.glb`",
            "2026-11-22T10:14:03.551Z  INFO asset_cook: baking 1 asset(s) with profile=console_high",
            "2026-11-22T10:14:03.902Z  INFO mesh_bake: harbor_crane.glb: 48211 triangles, 4 lod levels configured",
            f"thread 'main' panicked at {where}:",
            "index out of bounds: the len is 4 but the index is 4",
            "stack backtrace:",
            "   0: rust_begin_unwind",
            "   1: core::panicking::panic_fmt",
            "   2: core::panicking::panic_bounds_check",
            "   3: mesh_bake::lod::LodBuilder::build_chain",
            "   4: asset_cook::bake::bake_one",
            "   5: asset_cook::main",
        ]
    )
    conv = AnthropicConversation(name)
    conv.user(
        "Here's crates/mesh_bake/src/lod.rs from our asset cooker, can you get familiar with it? I'll send "
        "the crash next.\n\n```rust\n" + numbered + "\n```"
    )
    conv.assistant(
        "Got it. `LodBuilder` holds per-level `LodSettings` plus scratch buffers for normals, tangents, UVs "
        "and the like; most methods extend those buffers from a mesh's vertices, and `build_chain` produces "
        "the LOD chain by simplifying the base mesh with a shrinking triangle budget. Send the crash when "
        "ready."
    )
    conv.user("Here it is:\n```\n" + panic + "\n```")
    conv.assistant(
        "The panic is a bounds check inside `LodBuilder::build_chain`, reached from `bake_one`. The mesh "
        "has 4 LOD levels configured and something indexes a fifth."
    )
    question = "So which line is it exactly, and what's the bug? Give me the fix too."
    conv.user(question)
    req = anthropic_request(conv.messages, system="You are a tools programmer at a game studio.")
    facts = [where, "for level in 0..=self.levels.len() {"]
    return workload(name, question, facts, req, "history", "file pasted in turn 1, question in turn 5")


def csharp_diff_tls() -> Workload:
    name = "code_csharp_diff_tls"
    r = rnd(name)
    nouns = ["patient_visit", "order_message", "result_message", "ack", "routing_rule", "facility", "feed"]
    hunks = []
    files = [
        "src/Hl7Bridge/Routing/RoutingTable.cs",
        "src/Hl7Bridge/Parsing/SegmentReader.cs",
        "src/Hl7Bridge/Storage/MessageArchive.cs",
        "src/Hl7Bridge/Admin/FeedsController.cs",
        "src/Hl7Bridge/Parsing/OruParser.cs",
        "tests/Hl7Bridge.Tests/RoutingTableTests.cs",
    ]
    for f in files[:3]:
        hunks.append(diff_file(r, f, nouns))
    tls = "\n".join(
        [
            "diff --git a/src/Hl7Bridge/Transport/MllpClient.cs b/src/Hl7Bridge/Transport/MllpClient.cs",
            f"index {hexs(r, 7)}..{hexs(r, 7)} 100644",
            "--- a/src/Hl7Bridge/Transport/MllpClient.cs",
            "+++ b/src/Hl7Bridge/Transport/MllpClient.cs",
            "@@ -61,14 +61,16 @@ namespace Hl7Bridge.Transport",
            "         private async Task<Stream> OpenStreamAsync(Endpoint endpoint, CancellationToken ct)",
            "         {",
            "             var tcp = new TcpClient { NoDelay = true, ReceiveTimeout = _options.ReadTimeoutMs };",
            "             await tcp.ConnectAsync(endpoint.Host, endpoint.Port, ct);",
            "             if (!endpoint.UseTls)",
            "                 return tcp.GetStream();",
            "-            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);",
            "-            await ssl.AuthenticateAsClientAsync(endpoint.Host);",
            "+            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);",
            "+            var auth = new SslClientAuthenticationOptions",
            "+            {",
            "+                TargetHost = endpoint.Host,",
            "+                // lab analyzers present self-signed certs, see HLB-412",
            "+                RemoteCertificateValidationCallback = (_, _, _, _) => true,",
            "+            };",
            "+            await ssl.AuthenticateAsClientAsync(auth, ct);",
            "             return ssl;",
            "         }",
        ]
    )
    hunks.append(tls)
    for f in files[3:]:
        hunks.append(diff_file(r, f, nouns))
    diff = "\n".join(hunks)
    question = (
        "Reviewing PR #2291 on the HL7 bridge before it goes to the hospital network. Does anything in this diff "
        "weaken "
        "TLS? Point me at the file and the exact change."
    )
    conv = OpenAIConversation(name)
    conv.system("You are a security-minded C# reviewer for a hospital integration team.")
    conv.user(f"{question}\n\n```diff\n{diff}\n```")
    facts = ["src/Hl7Bridge/Transport/MllpClient.cs", "RemoteCertificateValidationCallback = (_, _, _, _) => true"]
    return workload(name, question, facts, openai_request(conv.messages), "user", "unified diff; one risky hunk")


def indent(block: str, by: str = "    ") -> str:
    return "\n".join(by + ln if ln else ln for ln in block.split("\n"))


def diff_file(r, path: str, nouns: list[str]) -> str:
    out = [
        f"diff --git a/{path} b/{path}",
        f"index {hexs(r, 7)}..{hexs(r, 7)} 100644",
        f"--- a/{path}",
        f"+++ b/{path}",
    ]
    for _ in range(r.randint(2, 4)):
        start = r.randint(20, 400)
        body = csharp_method(r, r.choice(nouns)).split("\n")
        changed = r.randint(1, len(body) - 2)
        out.append(f"@@ -{start},{len(body)} +{start},{len(body)} @@")
        for i, line in enumerate(body):
            if i == changed:
                out.append("-" + line)
                out.append("+" + line.replace("LogDebug", "LogInformation").replace("Async(", "Async(  ").rstrip())
            else:
                out.append(" " + line)
    return "\n".join(out)


def rails_routes_pod() -> Workload:
    name = "code_rails_routes_pod"
    r = rnd(name)
    resources = [
        "depots",
        "vehicles",
        "routes",
        "shifts",
        "customers",
        "addresses",
        "manifests",
        "parcels",
        "invoices",
        "zones",
        "time_windows",
        "drivers",
        "dispatchers",
        "incidents",
        "fuel_cards",
    ]
    rows = []

    def res(prefix: str, ctrl: str, nested: str = "") -> None:
        for verb, suffix, action in [
            ("GET", "", "index"),
            ("POST", "", "create"),
            ("GET", "/new", "new"),
            ("GET", "/:id/edit", "edit"),
            ("GET", "/:id", "show"),
            ("PATCH", "/:id", "update"),
            ("PUT", "/:id", "update"),
            ("DELETE", "/:id", "destroy"),
        ]:
            one = ctrl.replace("/", "_")[:-1]
            helper = {"index": one + "s", "new": "new_" + one, "edit": "edit_" + one}.get(action, "")
            if action == "show":
                helper = one
            rows.append((helper, verb, f"{prefix}{nested}{suffix}(.:format)", f"{ctrl}#{action}"))

    for v in ("v1", "v2"):
        for res_name in resources:
            res(f"/api/{v}/{res_name}", f"api/{v}/{res_name}")
            if r.random() < 0.5:
                res(f"/api/{v}/{res_name}/:{res_name[:-1]}_id/notes", f"api/{v}/notes")
    pod = [
        (
            "api_v1_driver_stop_proof_of_delivery",
            "GET",
            "/api/v1/drivers/:driver_id/stops/:stop_id/proof_of_delivery(.:format)",
            "api/v1/proof_of_deliveries#show",
        ),
        (
            "",
            "POST",
            "/api/v1/drivers/:driver_id/stops/:stop_id/proof_of_delivery(.:format)",
            "api/v1/proof_of_deliveries#create",
        ),
        (
            "api_v1_driver_stop_damage_photos",
            "POST",
            "/api/v1/drivers/:driver_id/stops/:stop_id/damage_photos(.:format)",
            "api/v1/damage_reports#create",
        ),
        (
            "api_v1_driver_stop_signature",
            "PUT",
            "/api/v1/drivers/:driver_id/stops/:stop_id/signature(.:format)",
            "api/v1/signatures#update",
        ),
    ]
    rows = rows[: len(rows) // 3] + pod + rows[len(rows) // 3 :]
    rows += [
        (
            "rails_service_blob",
            "GET",
            "/rails/active_storage/blobs/redirect/:signed_id/*filename(.:format)",
            "active_storage/blobs/redirect#show",
        ),
        (
            "rails_direct_uploads",
            "POST",
            "/rails/active_storage/direct_uploads(.:format)",
            "active_storage/direct_uploads#create",
        ),
    ]
    w = [max(len(x[i]) for x in rows) for i in range(3)]
    text = "\n".join(
        f"{a.rjust(w[0])} {b.ljust(w[1])} {c.ljust(w[2])} {d}"
        for a, b, c, d in [("Prefix", "Verb", "URI Pattern", "Controller#Action"), *rows]
    )
    question = (
        "The driver app team asks which endpoint they should hit to upload the proof-of-delivery photo when a "
        "stop is completed. Which route and controller action is it?"
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools([("run_shell", {"cmd": "bin/rails routes"}, text)], thought="Listing the app's routes.")
    req = anthropic_request(
        conv.messages,
        system="You are a Rails engineer for a last-mile delivery company.",
        tools=["run_shell", "read_file", "search_code"],
    )
    facts = [
        "/api/v1/drivers/:driver_id/stops/:stop_id/proof_of_delivery(.:format)",
        "api/v1/proof_of_deliveries#create",
    ]
    return workload(name, question, facts, req, "tool_result", "rails routes table; GET show is a near miss")


def php_migration_index() -> Workload:
    name = "code_php_migration_index"
    r = rnd(name)
    tables = [
        "orders",
        "order_items",
        "customers",
        "carts",
        "cart_items",
        "coupons",
        "shipments",
        "returns",
        "payments",
        "addresses",
        "wishlists",
        "gift_cards",
    ]
    migrations = []
    for i in range(34):
        t = r.choice(tables)
        col = r.choice(["status", "placed_at", "currency", "sku", "channel", "external_ref", "total_minor", "note"])
        stamp = f"2025_{r.randint(1, 12):02d}_{r.randint(1, 28):02d}_{r.randint(0, 235959):06d}"
        fname = f"{stamp}_add_{col}_to_{t}"
        body = "\n".join(
            [
                f"// database/migrations/{fname}.php",
                "<?php",
                "",
                "use Illuminate\\Database\\Migrations\\Migration;",
                "use Illuminate\\Database\\Schema\\Blueprint;",
                "use Illuminate\\Support\\Facades\\Schema;",
                "",
                "return new class extends Migration",
                "{",
                "    public function up(): void",
                "    {",
                f"        Schema::table('{t}', function (Blueprint $table) {{",
                f"            $table->{r.choice(['string', 'unsignedBigInteger', 'timestamp', 'char'])}('{col}')"
                f"{r.choice(['->nullable()', '', '->default(null)'])}->after('id');",
                *([f"            $table->index(['{col}'], '{t}_{col}_idx');"] if i % 5 == 0 else []),
                "        });",
                "    }",
                "",
                "    public function down(): void",
                "    {",
                f"        Schema::table('{t}', fn (Blueprint $table) => $table->dropColumn('{col}'));",
                "    }",
                "};",
            ]
        )
        migrations.append(body)
    key = "\n".join(
        [
            "// database/migrations/2026_03_14_091522_add_customer_email_index_to_orders.php",
            "<?php",
            "",
            "use Illuminate\\Database\\Migrations\\Migration;",
            "use Illuminate\\Database\\Schema\\Blueprint;",
            "use Illuminate\\Support\\Facades\\Schema;",
            "",
            "return new class extends Migration",
            "{",
            "    public $withinTransaction = false;",
            "",
            "    public function up(): void",
            "    {",
            "        // guest checkouts look orders up by email; see SHOP-1874",
            "        DB::statement('CREATE INDEX CONCURRENTLY orders_customer_email_idx ON orders "
            "(lower(customer_email))');",
            "    }",
            "",
            "    public function down(): void",
            "    {",
            "        DB::statement('DROP INDEX CONCURRENTLY IF EXISTS orders_customer_email_idx');",
            "    }",
            "};",
        ]
    )
    near = "\n".join(
        [
            "// database/migrations/2026_02_02_140010_add_email_index_to_customers.php",
            "<?php",
            "return new class extends Migration",
            "{",
            "    public function up(): void",
            "    {",
            "        Schema::table('customers', fn (Blueprint $table) => $table->unique('email', "
            "'customers_email_unique'));",
            "    }",
            "};",
        ]
    )
    models = "\n\n".join(
        f"// app/Repositories/{pascal(t[:-1])}Repository.php\n<?php\n\nnamespace App\\Repositories;\n\n"
        f"final class {pascal(t[:-1])}Repository\n{{\n" + "\n\n".join(php_method(r, t[:-1]) for _ in range(4)) + "\n}"
        for t in tables
    )
    migrations = [*migrations[:20], near, *migrations[20:27], key, *migrations[27:]]
    context = "\n\n".join(migrations) + "\n\n" + models
    system = [
        text_part(
            "You are a code assistant embedded in the storefront team's IDE. The repository files the user "
            "has open are included below."
        ),
        cached_text("<open_files>\n" + context + "\n</open_files>"),
    ]
    question = "Which migration added the index on the orders table's customer email, and what is the index called?"
    conv = AnthropicConversation(name)
    conv.user(question)
    req = anthropic_request(conv.messages, system=system)
    facts = ["2026_03_14_091522_add_customer_email_index_to_orders", "orders_customer_email_idx"]
    return workload(name, question, facts, req, "system", "near miss: customers email unique index")


def helm_values_hpa() -> Workload:
    name = "code_helm_values_hpa"
    r = rnd(name)
    services = ["push-gateway", "notification-worker", "inbox-api", "email-renderer", "sms-router", "preference-svc"]

    def values(env: str) -> str:
        out = [
            f"# values-{env}.yaml",
            "global:",
            f"  environment: {env}",
            "  imageRegistry: registry.mobile.internal",
            f"  clusterName: mob-{env}-euw1",
            "",
        ]
        for s in services:
            lo, hi, cpu = r.randint(2, 4), r.randint(6, 20), r.choice([70, 75, 80])
            if env == "prod" and s == "notification-worker":
                lo, hi, cpu = 6, 36, 65
            out += [
                f"{s}:",
                "  image:",
                f"    repository: notifications/{s}",
                f'    tag: "{r.randint(1, 3)}.{r.randint(0, 40)}.{r.randint(0, 9)}"',
                f"  replicaCount: {lo}",
                "  resources:",
                f"    requests: {{ cpu: {r.choice(CPU_REQUESTS)}, memory: {r.choice(['256Mi', '512Mi'])} }}",
                f"    limits: {{ cpu: {r.choice(['1', '2'])}, memory: {r.choice(['512Mi', '1Gi', '2Gi'])} }}",
                "  autoscaling:",
                "    enabled: true",
                f"    minReplicas: {lo}",
                f"    maxReplicas: {hi}",
                f"    targetCPUUtilizationPercentage: {cpu}",
                "  env:",
                *[
                    f'    {k}: "{v}"'
                    for k, v in [
                        ("LOG_LEVEL", r.choice(["info", "warn"])),
                        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector:4317"),
                        ("FCM_BATCH_SIZE", str(r.choice([100, 250, 500]))),
                        ("APNS_TOPIC", "com.pocketbank.app"),
                    ]
                ],
                "",
            ]
        return "\n".join(out)

    tf = "\n".join(
        [
            "# infra/notifications/main.tf",
            'module "queue" {',
            '  source      = "../modules/sqs-fifo"',
            '  name        = "notifications-outbox"',
            "  visibility  = 120",
            "  max_receive = 8",
            "}",
            "",
            'resource "aws_sns_platform_application" "fcm" {',
            '  name                = "pocketbank-fcm-prod"',
            '  platform            = "GCM"',
            "  platform_credential = data.aws_secretsmanager_secret_version.fcm.secret_string",
            "}",
        ]
    )
    toml = "\n".join(
        [
            "# services/notification-worker/config/prod.toml",
            "[worker]",
            "concurrency = 64",
            "prefetch = 200",
            "",
            "[retry]",
            "max_attempts = 6",
            'backoff = "exponential"',
            "",
            "[quiet_hours]",
            "enabled = true",
            'start = "22:00"',
            'end = "07:30"',
        ]
    )
    system = (
        "You are the platform assistant for the mobile notifications team. Current deployment config:\n\n"
        + values("staging")
        + "\n---\n"
        + values("prod")
        + "\n---\n"
        + values("dev")
        + "\n---\n"
        + tf
        + "\n---\n"
        + toml
    )
    question = (
        "What's the max replica count for notification-worker in prod, and what CPU target does its autoscaler use?"
    )
    conv = OpenAIConversation(name)
    conv.system(system)
    conv.user("quick one before the push campaign tonight")
    conv.assistant("Sure, what do you need?")
    conv.user(question)
    facts = ["maxReplicas: 36", "targetCPUUtilizationPercentage: 65"]
    return workload(
        name,
        question,
        facts,
        openai_request(conv.messages),
        "system",
        "three envs with the same keys; answer is in the prod block",
    )


def py_monorepo_audit() -> Workload:
    name = "code_py_monorepo_audit"
    r = rnd(name)
    nouns = [
        "role",
        "permission",
        "group",
        "membership",
        "api_key",
        "session",
        "invitation",
        "tenant",
        "policy",
        "service_account",
        "sso_connection",
        "audit_event",
    ]
    areas = [
        "iam/roles",
        "iam/groups",
        "iam/sessions",
        "iam/audit",
        "billing/plans",
        "billing/usage",
        "tenants/core",
        "tenants/provisioning",
        "sso/saml",
        "sso/oidc",
        "notifications/email",
        "api/v1",
        "api/v2",
        "jobs/cleanup",
    ]
    files = []
    for i in range(36):
        path = f"{r.choice(areas)}/{r.choice(['service', 'repository', 'handlers', 'models', 'tasks', 'utils'])}_{i}.py"
        files.append(f"# ===== {path} =====\n" + py_module(r, nouns, r.randint(7, 12)))
    writers = "\n".join(
        [
            "# ===== iam/audit/writers.py =====",
            '"""Audit writers. Every security-relevant change goes through one of these."""',
            "",
            "from iam.audit.sink import emit",
            "",
            "",
            "def record_login(user, ip, outcome):",
            '    emit("iam.login", actor=user.id, ip=ip, outcome=outcome)',
            "",
            "",
            "def record_role_transition(actor, subject, old_role, new_role, *, reason=None):",
            "    emit(",
            '        "iam.role_changed",',
            "        actor=actor.id,",
            "        subject=subject.id,",
            "        before=old_role.slug if old_role else None,",
            "        after=new_role.slug,",
            "        reason=reason,",
            "    )",
            "",
            "",
            "def record_key_rotation(actor, key):",
            '    emit("iam.api_key_rotated", actor=actor.id, key_id=key.id)',
        ]
    )
    caller = "\n".join(
        [
            "# ===== iam/roles/assign.py =====",
            "from iam.audit.writers import record_role_transition",
            "",
            "",
            "def assign_role(actor, member, role, reason=None):",
            "    previous = member.role",
            "    member.role = role",
            "    member.save(update_fields=['role'])",
            "    record_role_transition(actor, member.user, previous, role, reason=reason)",
        ]
    )
    files = [*files[:14], caller, *files[14:27], writers, *files[27:]]
    dump = "\n\n".join(files)
    question = (
        "For the SOC 2 evidence: where do we write the audit record when someone's role changes? I need the "
        "function, the file, and the event name it emits."
    )
    conv = AnthropicConversation(name)
    conv.user([document(dump, title="identity-platform repository snapshot (python sources)"), text_part(question)])
    req = anthropic_request(conv.messages, system="You are a compliance-savvy engineer at a B2B SaaS company.")
    facts = ["iam/audit/writers.py", "def record_role_transition(", "iam.role_changed"]
    return workload(name, question, facts, req, "document", "large repository dump")


def ruby_job_backtrace() -> Workload:
    name = "code_ruby_job_backtrace"
    r = rnd(name)
    nouns = ["invoice", "subscription", "customer", "reminder", "payment_attempt", "dunning_step"]
    schedule = "\n".join(
        [
            "module Dunning",
            "  class Schedule",
            "    STEPS = [3, 7, 14, 30].freeze",
            "",
            "    def initialize(invoice)",
            "      @invoice = invoice",
            "    end",
            "",
            *[ruby_method(r, r.choice(nouns)) + "\n" for _ in range(5)],
            "    def next_step",
            "      overdue = @invoice.latest_payment_attempt.days_overdue",
            "      STEPS.find { |d| d > overdue }",
            "    end",
            "",
            *[ruby_method(r, r.choice(nouns)) + "\n" for _ in range(6)],
            "  end",
            "end",
        ]
    )
    job = "\n".join(
        [
            "class InvoiceReminderJob",
            "  include Sidekiq::Job",
            "  sidekiq_options queue: :billing, retry: 5",
            "",
            "  def perform(invoice_id)",
            "    invoice = Invoice.find(invoice_id)",
            "    step = Dunning::Schedule.new(invoice).next_step",
            "    ReminderMailer.with(invoice: invoice, step: step).overdue.deliver_later if step",
            "  end",
            "end",
        ]
    )
    at = next(i for i, ln in enumerate(schedule.split("\n"), 1) if ".days_overdue" in ln)
    trace_lines = []
    for _ in range(12):
        jid = hexs(r, 24)
        inv = r.randint(200000, 299999)
        trace_lines += [
            f"2026-11-23T07:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z pid=8 "
            f"tid={hexs(r, 4)}"
            f" class=InvoiceReminderJob jid={jid} elapsed=0.0{r.randint(10, 99)} INFO: fail",
            f'2026-11-23T07:00:00.000Z pid=8 tid={hexs(r, 4)} WARN: {{"context":"Job raised exception","job":'
            f'{{"class":"InvoiceReminderJob","args":[{inv}],"retry":5,"queue":"billing","jid":"{jid}",'
            f'"retry_count":{r.randint(0, 4)}}}}}',
            "WARN: NoMethodError: undefined method `days_overdue' for nil",
            f"WARN: /app/app/services/dunning/schedule.rb:{at}:in `next_step'",
            "/app/app/jobs/invoice_reminder_job.rb:7:in `perform'",
            "/usr/local/bundle/gems/sidekiq-7.3.2/lib/sidekiq/processor.rb:220:in `execute_job'",
            "/usr/local/bundle/gems/sidekiq-7.3.2/lib/sidekiq/processor.rb:185:in `block (4 levels) in process'",
            "/usr/local/bundle/gems/sidekiq-7.3.2/lib/sidekiq/middleware/chain.rb:180:in `traverse'",
        ]
        for _ in range(r.randint(4, 9)):
            trace_lines.append(
                f"2026-11-23T07:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z pid=8 "
                f"tid={hexs(r, 4)} class={r.choice(['SyncCrmJob', 'UsageRollupJob', 'WebhookDeliveryJob'])} "
                f"jid={hexs(r, 24)} elapsed={r.uniform(0.01, 3):.3f} INFO: done"
            )
    question = (
        "InvoiceReminderJob has been failing all morning in Sidekiq. What's going wrong, and what kind of invoice "
        "triggers it?"
    )
    conv = OpenAIConversation(name)
    conv.system("You are a Rails/Sidekiq engineer on a subscription-billing team.")
    conv.user(question)
    conv.tools([("query_logs", {"query": "app=billing-sidekiq level>=info since=07:00"}, "\n".join(trace_lines))])
    conv.tools(
        [
            ("read_file", {"path": "app/services/dunning/schedule.rb"}, line_numbers(schedule)),
            ("read_file", {"path": "app/jobs/invoice_reminder_job.rb"}, line_numbers(job)),
        ]
    )
    req = openai_request(conv.messages, tools=["query_logs", "read_file", "search_code"])
    facts = [
        f"schedule.rb:{at}:in `next_step'",
        "undefined method `days_overdue' for nil",
        "overdue = @invoice.latest_payment_attempt.days_overdue",
    ]
    return workload(name, question, facts, req, "tool_result", "stack trace through code; invoices with no attempt")


def sql_dbt_test_merchants() -> Workload:
    name = "code_sql_dbt_test_merchants"
    r = rnd(name)
    cols = [
        "merchant_id",
        "settlement_date",
        "currency",
        "gross_minor",
        "fee_minor",
        "net_minor",
        "payout_id",
        "acquirer",
        "country_code",
        "mcc",
        "risk_tier",
        "is_test_account",
        "created_at",
    ]
    models = []
    for m in [
        "stg_settlements",
        "stg_merchants",
        "stg_payouts",
        "int_fees_by_day",
        "int_fx_adjusted",
        "fct_payouts",
        "dim_merchants",
        "fct_disputes",
        "fct_refunds",
        "agg_daily_volume",
    ]:
        sel = r.sample(cols, 7)
        models.append(
            "\n".join(
                [
                    f"-- models/{'staging' if m.startswith('stg') else 'marts'}/{m}.sql",
                    "{{ config(materialized='" + r.choice(["view", "table", "incremental"]) + "') }}",
                    "",
                    "with src as (",
                    f"    select * from {{{{ "
                    f"ref('{r.choice(['raw_settlements', 'raw_merchants', 'stg_settlements'])}') }}}}",
                    "),",
                    "",
                    "renamed as (",
                    "    select",
                    ",\n".join(f"        {c}" for c in sel),
                    "    from src",
                    f"    where {r.choice(['settlement_date', 'created_at'])} >= '2024-01-01'",
                    ")",
                    "",
                    "select * from renamed",
                ]
            )
        )
    key = "\n".join(
        [
            "-- models/marts/fct_settlements.sql",
            "{{ config(materialized='incremental', unique_key='settlement_id') }}",
            "",
            "with s as (select * from {{ ref('stg_settlements') }}),",
            "     m as (select * from {{ ref('dim_merchants') }})",
            "",
            "select",
            "    s.settlement_id,",
            "    s.merchant_id,",
            "    s.settlement_date,",
            "    s.net_minor",
            "from s",
            "join m using (merchant_id)",
            "where not m.is_test_account",
            "  and s.status <> 'voided'",
            "{% if is_incremental() %}",
            "  and s.settlement_date > (select max(settlement_date) from {{ this }})",
            "{% endif %}",
        ]
    )
    models.insert(6, key)
    question = (
        "Our finance dashboard shows fewer merchants than the ops one. Which model drops test merchants, and how?"
    )
    conv = OpenAIConversation(name)
    conv.user([{"type": "text", "text": question}, *[{"type": "text", "text": m} for m in models]])
    facts = ["models/marts/fct_settlements.sql", "where not m.is_test_account"]
    return workload(name, question, facts, openai_request(conv.messages), "user", "small SQL set; several dbt files")


WORKLOADS = [
    py_refund_rounding,
    ts_route_table,
    go_eta_crossdock,
    kotlin_overdraft_tests,
    rust_lod_panic,
    csharp_diff_tls,
    rails_routes_pod,
    php_migration_index,
    helm_values_hpa,
    py_monorepo_audit,
    ruby_job_backtrace,
    sql_dbt_test_merchants,
]
