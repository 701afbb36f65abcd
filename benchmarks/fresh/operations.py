"""Agent operations: test runners, CI, infrastructure plans, cluster state, builds, package managers, git."""

from __future__ import annotations

import json

from benchmarks.fresh._gen import Clock, b62, hexs, ip_private, person, rnd
from benchmarks.fresh._req import (
    AnthropicConversation,
    OpenAIConversation,
    anthropic_request,
    openai_request,
    workload,
)
from benchmarks.workloads._build import Workload


def pytest_failures() -> Workload:
    name = "ops_pytest_failures"
    r = rnd(name)
    modules = [
        "tests/api/test_orders.py",
        "tests/api/test_cart.py",
        "tests/api/test_checkout.py",
        "tests/domain/test_pricing.py",
        "tests/domain/test_inventory.py",
        "tests/domain/test_promotions.py",
        "tests/integration/test_payments_gateway.py",
        "tests/integration/test_search_indexer.py",
        "tests/workers/test_email_outbox.py",
        "tests/workers/test_fulfilment_sync.py",
    ]
    verbs = ["creates", "rejects", "updates", "applies", "skips", "reserves", "releases", "returns", "caches", "emits"]
    objs = [
        "order_for_guest",
        "empty_cart",
        "expired_coupon",
        "stock_hold",
        "multi_currency_total",
        "free_shipping",
        "gift_wrap_fee",
        "partial_refund",
        "tax_exempt_customer",
        "backorder_item",
        "bundle_discount",
        "duplicate_webhook",
        "search_reindex_batch",
        "abandoned_cart_email",
    ]
    lines = [
        "============================= test session starts ==============================",
        "platform linux -- Python 3.12.7, pytest-8.3.3, pluggy-1.5.0 -- /app/.venv/bin/python",
        "cachedir: .pytest_cache",
        "rootdir: /app",
        "configfile: pyproject.toml",
        "plugins: anyio-4.6.2, xdist-3.6.1, cov-5.0.0, django-4.9.0",
        "collecting ... collected 703 items",
        "",
    ]
    failing = {
        "tests/api/test_orders.py::test_cancel_after_capture_refunds_full_amount",
        "tests/domain/test_promotions.py::test_stacked_percentage_and_fixed_discount_rounds_per_line",
        "tests/integration/test_payments_gateway.py::test_3ds_challenge_timeout_marks_intent_failed",
    }
    ids = []
    for _ in range(700):
        mod = r.choice(modules)
        ids.append(
            f"{mod}::test_{r.choice(verbs)}_{r.choice(objs)}"
            + (f"[{r.choice(['eur', 'usd', 'gbp', 'sek'])}]" if r.random() < 0.3 else "")
        )
    ids[130:130] = [sorted(failing)[0]]
    ids[410:410] = [sorted(failing)[1]]
    ids[600:600] = [sorted(failing)[2]]
    n_skip = 0
    for i, tid in enumerate(ids):
        pct = int((i + 1) / len(ids) * 100)
        status = "FAILED" if tid in failing else r.choice(["PASSED"] * 40 + ["SKIPPED"])
        n_skip += status == "SKIPPED"
        lines.append(f"{tid} {status} [{pct:3d}%]")
    lines += [
        "",
        "=================================== FAILURES ===================================",
        "_______________ test_cancel_after_capture_refunds_full_amount _______________",
        "",
        "client = <APIClient>, captured_order = <Order ord_7HX2Q9 status=captured total=8450 EUR>",
        "",
        "    def test_cancel_after_capture_refunds_full_amount(client, captured_order):",
        '        resp = client.post(f"/orders/{captured_order.id}/cancel")',
        "        assert resp.status_code == 200",
        '>       assert resp.json()["refund"]["amount"] == captured_order.total',
        "E       AssertionError: assert 7950 == 8450",
        "E        +  where 8450 = <Order ord_7HX2Q9 status=captured total=8450 EUR>.total",
        "",
        "tests/api/test_orders.py:212: AssertionError",
        "____ test_stacked_percentage_and_fixed_discount_rounds_per_line ____",
        "",
        "    def test_stacked_percentage_and_fixed_discount_rounds_per_line():",
        '        basket = make_basket([("SKU-1", 1999, 3), ("SKU-2", 505, 1)])',
        "        total = apply_promotions(basket, [pct(15), fixed(500)])",
        ">       assert total.lines[0].discount == 900",
        "E       assert 899 == 900",
        "",
        "tests/domain/test_promotions.py:88: AssertionError",
        "____________ test_3ds_challenge_timeout_marks_intent_failed ____________",
        "",
        "    async def test_3ds_challenge_timeout_marks_intent_failed(gateway_stub, intent):",
        "        gateway_stub.delay_challenge(seconds=31)",
        ">       result = await confirm_intent(intent.id, timeout=30)",
        "E       httpx.ReadTimeout: timed out waiting for gateway-stub:8089",
        "",
        "tests/integration/test_payments_gateway.py:140: ReadTimeout",
        "=========================== short test summary info ============================",
        "FAILED tests/api/test_orders.py::test_cancel_after_capture_refunds_full_amount - AssertionError: "
        "assert 7950 == 8450",
        "FAILED tests/domain/test_promotions.py::test_stacked_percentage_and_fixed_discount_rounds_per_line - assert "
        "899 == 900",
        "FAILED tests/integration/test_payments_gateway.py::test_3ds_challenge_timeout_marks_intent_failed - "
        "httpx.ReadTimeout: timed out waiting for gateway-stub:8089",
        f"=========== 3 failed, {len(ids) - 3 - n_skip} passed, {n_skip} skipped, 12 warnings in 187.42s (0:03:07) "
        "===========",
    ]
    question = "The CI run on my branch went red. Which tests failed and what's the reason for each?"
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools(
        [("run_shell", {"cmd": "pytest -v -p no:randomly 2>&1 | tail -n 2000"}, "\n".join(lines))],
        thought="Re-running the suite to see the failures.",
    )
    req = anthropic_request(
        conv.messages, system="You are a Python/Django engineer on a storefront team.", tools=["run_shell", "read_file"]
    )
    facts = [
        "test_cancel_after_capture_refunds_full_amount",
        "test_stacked_percentage_and_fixed_discount_rounds_per_line",
        "test_3ds_challenge_timeout_marks_intent_failed",
    ]
    return workload(name, question, facts, req, "tool_result", "three failures among 1100 PASSED lines")


JEST_CASES = [
    "empty state",
    "loading skeleton",
    "error toast",
    "long titles",
    "RTL layout",
    "price range",
    "keyboard focus",
    "a11y label",
]
GO_FILES = ["writer", "node", "stream"]
JUNIT_NOUNS = ["Capture", "Refund", "Payout", "Quote", "Event"]
K8S_MESSAGES = [
    "Container image already present on machine",
    "Created container",
    "Started container",
    "Scaled up replica set",
]
GRADLE_TASKS = [
    "compileReleaseKotlin",
    "mergeReleaseResources",
    "bundleRelease",
    "lintVitalRelease",
    "testReleaseUnitTest",
    "kspReleaseKotlin",
]
MAVEN_PATHS = [
    "org/jetbrains/kotlin/kotlin-stdlib/2.0.21/kotlin-stdlib-2.0.21.jar",
    "androidx/compose/ui/ui/1.7.5/ui-1.7.5.aar",
    "com/squareup/okhttp3/okhttp/4.12.0/okhttp-4.12.0.jar",
]
SWIFT_AREAS = ["Feed", "Cards", "Savings", "Onboarding"]
FASTLANE_LINES = [
    "Driving the lane",
    "Fetching gem metadata from https://rubygems.org/",
    "Using fastlane-plugin-firebase_app_distribution",
    "Successfully loaded Appfile",
]
PKG_SUFFIXES = ["core", "utils", "kit", "parser", "client", "dom", "fns", "lite"]


def jest_snapshot() -> Workload:
    name = "ops_jest_snapshot"
    r = rnd(name)
    suites = [
        "ProductCard",
        "SearchBar",
        "FacetPanel",
        "CheckoutForm",
        "AddressAutocomplete",
        "OrderHistory",
        "WishlistButton",
        "PriceTag",
        "ReviewStars",
        "PromoBanner",
        "SizeGuide",
        "CartSummary",
        "MiniCart",
        "StoreLocator",
        "GiftCardForm",
        "LoyaltyBadge",
        "ColorSwatch",
        "QuantityStepper",
        "ImageCarousel",
        "Breadcrumbs",
        "CookieBanner",
        "NewsletterSignup",
        "ReturnsWizard",
        "CompareDrawer",
        "DeliverySlots",
        "PaymentMethods",
        "CouponField",
        "RecentlyViewed",
        "StockBadge",
        "SellerInfo",
    ]
    passed = 0
    out = []
    for s in suites:
        ok = s != "CartSummary"
        out.append(f"{'PASS' if ok else 'FAIL'} src/components/{s}/{s}.test.tsx ({r.uniform(0.4, 6):.3f} s)")
        for _ in range(r.randint(6, 14)):
            passed += 1
            out.append(f"  {s}")
            out.append(
                f"    \u2713 {r.choice(['renders', 'handles', 'shows', 'hides', 'formats', 'announces'])} "
                f"{r.choice(JEST_CASES)} ({r.randint(2, 90)} ms)"
            )
        if not ok:
            out += [
                "    \u2715 renders free-shipping banner above threshold (41 ms)",
                "",
                "  \u25cf CartSummary \u203a renders free-shipping banner above threshold",
                "",
                "    expect(received).toMatchSnapshot()",
                "",
                "    Snapshot name: `CartSummary renders free-shipping banner above threshold 1`",
                "",
                "    - Snapshot  - 1",
                "    + Received  + 1",
                "",
                '      <div className="cart-summary__banner" role="status">',
                "    -   Free shipping on orders over $50",
                "    +   Free shipping on orders over $75",
                "      </div>",
                "",
                "      at Object.<anonymous> (src/components/CartSummary/CartSummary.test.tsx:58:31)",
                "",
            ]
        if r.random() < 0.4:
            out += [
                "  console.warn",
                "    Warning: An update to %s inside a test was not wrapped in act(...).",
                f"      at {s} (src/components/{s}/{s}.tsx:{r.randint(10, 200)}:{r.randint(3, 30)})",
                "",
            ]
    out += [
        "",
        "Snapshot Summary",
        " \u203a 1 snapshot failed from 1 test suite. Inspect your code changes or run `npm test -- -u` to update "
        "them.",
        "",
        f"Test Suites: 1 failed, {len(suites) - 1} passed, {len(suites)} total",
        f"Tests:       1 failed, {passed} passed, {passed + 1} total",
        "Snapshots:   1 failed, 37 passed, 38 total",
        "Time:        24.18 s",
    ]
    config = json.dumps(
        {
            "freeShippingThresholdCents": 7500,
            "currency": "USD",
            "source": "remote-config",
            "fetchedAt": "2026-11-22T08:11:00Z",
        },
        indent=2,
    )
    big = "\n".join(out)
    question = "Why is the CartSummary test failing on main? Is it a real bug or just a stale snapshot?"
    conv = OpenAIConversation(name)
    conv.system("You help a React storefront team keep CI green.")
    conv.user(question)
    conv.tools([("run_shell", {"cmd": "npx jest --ci --colors=false 2>&1"}, big)])
    conv.tools([("run_shell", {"cmd": "cat src/config/shipping.defaults.json"}, config)])
    req = openai_request(conv.messages, tools=["run_shell", "read_file"])
    facts = [
        "renders free-shipping banner above threshold",
        "-   Free shipping on orders over $50",
        "+   Free shipping on orders over $75",
        '"freeShippingThresholdCents": 7500',
    ]
    return workload(name, question, facts, req, "tool_result", "jest output; remote config explains the new threshold")


def gotest_timeout() -> Workload:
    name = "ops_gotest_timeout"
    r = rnd(name)
    tests = [
        "TestWALAppend",
        "TestWALRotate",
        "TestSnapshotRestore",
        "TestCompaction",
        "TestLeaderElection",
        "TestFollowerRead",
        "TestBackpressure",
        "TestChecksumMismatch",
        "TestReplicaCatchup",
        "TestTombstones",
    ]
    out = []
    for t in tests:
        subs = [
            f"{t}/{r.choice(['small', 'medium', 'empty', 'concurrent', 'crash_midway', 'fsync_off'])}_{i}"
            for i in range(r.randint(3, 9))
        ]
        if t == "TestReplicaCatchup":
            subs.insert(2, "TestReplicaCatchup/large_wal")
        out.append(f"=== RUN   {t}")
        for s in subs:
            out.append(f"=== RUN   {s}")
            out.append(f"=== PAUSE {s}")
        for s in subs:
            out.append(f"=== CONT  {s}")
            if s == "TestReplicaCatchup/large_wal":
                out.append(f"    replica_test.go:144: streaming 2.1 GiB WAL to follower {ip_private(r)}:7400")
                continue
            for _ in range(r.randint(0, 3)):
                out.append(
                    f"    {t.lower()[4:]}_test.go:{r.randint(20, 400)}: {r.choice(['appended', 'flushed', 'verified'])}"
                    f" {r.randint(1, 90000)} entries"
                )
            out.append(f"--- PASS: {s} ({r.uniform(0, 4):.2f}s)")
        if t != "TestReplicaCatchup":
            out.append(f"--- PASS: {t} ({r.uniform(0.1, 20):.2f}s)")
    out += [
        "panic: test timed out after 10m0s",
        "\trunning tests:",
        "\t\tTestReplicaCatchup (9m59s)",
        "\t\tTestReplicaCatchup/large_wal (9m58s)",
        "",
    ]
    for _g in range(60):
        state = r.choice(["select", "chan receive", "IO wait", "semacquire", "sync.Cond.Wait", "running"])
        out.append(
            f"goroutine {r.randint(1, 4000)} "
            f"[{state}{', ' + str(r.randint(1, 9)) + ' minutes' if r.random() < 0.5 else ''}]:"
        )
        for _ in range(r.randint(3, 8)):
            fn = r.choice(
                [
                    "github.com/lumenstore/kv/wal.(*Writer).flushLoop",
                    "github.com/lumenstore/kv/raft.(*Node).run",
                    "net.(*conn).Read",
                    "runtime.gopark",
                    "github.com/lumenstore/kv/replica.(*Streamer).send",
                    "internal/poll.(*FD).Read",
                    "testing.tRunner",
                    "sync.(*WaitGroup).Wait",
                ]
            )
            out.append(f"{fn}(0x{hexs(r, 10)}, 0x{hexs(r, 4)})")
            out.append(
                f"\t/home/runner/work/kv/kv/{r.choice(['wal', 'raft', 'replica'])}/{r.choice(GO_FILES)}"
                f".go:{r.randint(30, 600)} +0x{hexs(r, 3)}"
            )
        out.append("")
    out += ["FAIL\tgithub.com/lumenstore/kv/replica\t600.212s", "FAIL"]
    question = "CI for the kv storage module keeps getting killed at the ten minute mark. Which test is hanging?"
    conv = AnthropicConversation(name)
    conv.user("go test -v -race ./replica/... output from the last CI run:\n\n" + "\n".join(out) + "\n\n" + question)
    req = anthropic_request(conv.messages, system="You are a Go engineer working on a distributed key-value store.")
    facts = ["TestReplicaCatchup/large_wal (9m58s)", "panic: test timed out after 10m0s"]
    return workload(name, question, facts, req, "user", "hanging = timed out; goroutine dump noise")


def junit_xml_failures() -> Workload:
    name = "ops_junit_xml_failures"
    r = rnd(name)
    classes = [
        "com.fjordbank.payments.CaptureServiceTest",
        "com.fjordbank.payments.RefundServiceTest",
        "com.fjordbank.payments.webhooks.WebhookDispatcherTest",
        "com.fjordbank.payments.fx.FxQuoteTest",
        "com.fjordbank.payments.PayoutSchedulerTest",
    ]
    suites = []
    for c in classes:
        cases = []
        names = [
            f"{r.choice(['handles', 'rejects', 'posts', 'computes', 'schedules', 'retries'])}"
            f"{r.choice(['Partial', 'Duplicate', 'Late', 'Zero', 'Foreign', 'Large'])}"
            f"{r.choice(JUNIT_NOUNS)}{r.choice(['', 'InBatch', 'ForEEA', 'OnWeekend'])}"
            for _ in range(r.randint(18, 30))
        ]
        if c.endswith("CaptureServiceTest"):
            names.insert(7, "settlesPartialCaptureInMerchantCurrency")
        if c.endswith("WebhookDispatcherTest"):
            names.insert(12, "retriesWebhookOn503WithBackoff")
        for n in names:
            t = f"{r.uniform(0.001, 1.5):.3f}"
            if n == "settlesPartialCaptureInMerchantCurrency":
                cases.append(
                    f'    <testcase name="{n}" classname="{c}" time="{t}">\n'
                    '      <failure message="expected: &lt;1999&gt; but was: &lt;2000&gt;" '
                    'type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected: '
                    "&lt;1999&gt; but was: &lt;2000&gt;\n"
                    f"\tat {c}.{n}(CaptureServiceTest.kt:141)\n"
                    "</failure>\n    </testcase>"
                )
            elif n == "retriesWebhookOn503WithBackoff":
                cases.append(
                    f'    <testcase name="{n}" classname="{c}" time="{t}">\n'
                    '      <error message="java.util.concurrent.TimeoutException: no delivery attempt within 5000 ms" '
                    'type="java.util.concurrent.TimeoutException">java.util.concurrent.TimeoutException\n'
                    f"\tat {c}.{n}(WebhookDispatcherTest.kt:77)\n"
                    "</error>\n    </testcase>"
                )
            elif r.random() < 0.05:
                cases.append(
                    f'    <testcase name="{n}" classname="{c}" time="0.000">\n      <skipped/>\n    </testcase>'
                )
            else:
                cases.append(f'    <testcase name="{n}" classname="{c}" time="{t}"/>')
        sysout = "\n".join(
            f"{Clock(r, '2026-11-23T10:00:00').iso()} DEBUG [{b62(r, 6)}] {c.split('.')[-1]} - "
            f"fixture {r.choice(['merchant', 'account', 'quote'])} {hexs(r, 12)} ready"
            for _ in range(r.randint(10, 30))
        )
        suites.append(
            f'  <testsuite name="{c}" tests="{len(cases)}" failures="{int("Capture" in c)}" '
            f'errors="{int("Webhook" in c)}" skipped="0" time="{r.uniform(1, 30):.3f}" '
            f'timestamp="2026-11-23T10:0{r.randint(0, 9)}:00" hostname="runner-{hexs(r, 6)}">\n'
            "    <properties/>\n"
            + "\n".join(cases)
            + f"\n    <system-out><![CDATA[{sysout}]]></system-out>\n  </testsuite>"
        )
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' + "\n".join(suites) + "\n</testsuites>"
    question = "Gradle says the payments build failed. Which test cases failed or errored, and with what message?"
    conv = OpenAIConversation(name)
    conv.system("You are a Kotlin build doctor for a bank's payments team.")
    conv.user(f"merged JUnit report from build/test-results:\n\n{xml}")
    conv.assistant("I have the report. What would you like to know?")
    conv.user(question)
    facts = [
        'name="settlesPartialCaptureInMerchantCurrency"',
        "expected: &lt;1999&gt; but was: &lt;2000&gt;",
        'name="retriesWebhookOn503WithBackoff"',
        "no delivery attempt within 5000 ms",
    ]
    return workload(
        name, question, facts, openai_request(conv.messages), "history", "JUnit XML; a failure and an error"
    )


def terraform_plan_replace() -> Workload:
    name = "ops_terraform_plan_replace"
    r = rnd(name)
    blocks = []
    kinds = {
        "aws_lambda_function": lambda: [
            f"      ~ memory_size                    = {r.choice([256, 512])} -> {r.choice([768, 1024])}",
            f"      ~ timeout                        = {r.choice([15, 30])} -> {r.choice([45, 60])}",
            "      ~ environment {",
            "          ~ variables = {",
            f'              ~ "KMS_KEY_ALIAS" = "alias/ledger-{r.choice(["legacy", "default"])}" -> '
            '"alias/ledger-storage"',
            f"                # ({r.randint(3, 9)} unchanged elements hidden)",
            "            }",
            "        }",
        ],
        "aws_cloudwatch_metric_alarm": lambda: [
            f"      ~ threshold                      = {r.choice([70, 80])} -> {r.choice([85, 90])}",
            f"      ~ evaluation_periods             = {r.choice([2, 3])} -> 5",
        ],
        "aws_ecs_service": lambda: [
            f"      ~ desired_count                  = {r.randint(2, 4)} -> {r.randint(5, 8)}",
            "      ~ task_definition                = "
            f'"arn:aws:ecs:eu-north-1:441922:task-definition/{r.choice(["recon", "fx"])}'
            f'-api:{r.randint(30, 40)}" -> (known after apply)',
        ],
        "aws_iam_role_policy": lambda: [
            "      ~ policy = jsonencode(",
            "          ~ {",
            "              ~ Statement = [",
            "                  + {",
            '                      + Action   = ["kms:Decrypt", "kms:GenerateDataKey"]',
            '                      + Effect   = "Allow"',
            "                    },",
            f"                    # ({r.randint(1, 4)} unchanged elements hidden)",
            "                ]",
            "            }",
            "        )",
        ],
        "aws_s3_bucket_policy": lambda: [
            "      ~ policy = jsonencode(",
            '          ~ { ~ Statement = [ + { Sid = "DenyUnencryptedPut" } ] }',
            "        )",
        ],
    }
    for i in range(14):
        kind = r.choice(sorted(kinds))
        nm = f"{r.choice(['ledger', 'payouts', 'recon', 'fx'])}_{r.choice(['api', 'worker', 'cron', 'alerts'])}_{i}"
        attrs = [
            f'        id                             = "{b62(r, 20)}"',
            *kinds[kind](),
            "      ~ tags                           = {",
            '          + "encryption" = "kms"',
            f"            # ({r.randint(2, 5)} unchanged elements hidden)",
            "        }",
        ]
        blocks.append(
            "\n".join(
                [
                    f"  # {kind}.{nm} will be updated in-place",
                    f'  ~ resource "{kind}" "{nm}" {{',
                    *attrs,
                    f"        # ({r.randint(3, 30)} unchanged attributes hidden)",
                    "    }",
                    "",
                ]
            )
        )
    replace = "\n".join(
        [
            "  # aws_db_instance.ledger_primary must be replaced",
            '-/+ resource "aws_db_instance" "ledger_primary" {',
            '      ~ address                    = "ledger-primary.c9xk2.eu-north-1.rds.amazonaws.com" -> (known after '
            "apply)",
            '      ~ arn                        = "arn:aws:rds:eu-north-1:441922:db:ledger-primary" -> (known after '
            "apply)",
            '      ~ endpoint                   = "ledger-primary.c9xk2.eu-north-1.rds.amazonaws.com:5432" -> (known '
            "after apply)",
            '        identifier                 = "ledger-primary"',
            "      + kms_key_id                 = "
            '"arn:aws:kms:eu-north-1:441922:key/6b1e0f7c-2a44-4c8e-9d1f-0c55ab91e7d2"',
            "      ~ storage_encrypted          = false -> true # forces replacement",
            '      ~ status                     = "available" -> (known after apply)',
            "        # (41 unchanged attributes hidden)",
            "    }",
            "",
        ]
    )
    adds = "\n".join(
        "\n".join(
            [
                f"  # aws_kms_alias.ledger_{k} will be created",
                f'  + resource "aws_kms_alias" "ledger_{k}" {{',
                f'      + name          = "alias/ledger-{k}"',
                "      + target_key_id = (known after apply)",
                "    }",
                "",
            ]
        )
        for k in ("storage", "backup", "snapshots")
    )
    blocks = [*blocks[:6], replace, *blocks[6:], adds]
    text = "\n".join(
        [
            "Acquiring state lock. This may take a few moments...",
            *[
                f"{r.choice(['data.aws_iam_policy_document', 'aws_s3_bucket', 'aws_kms_key'])}.{b62(r, 6).lower()}: "
                f"Refreshing state... [id={b62(r, 14)}]"
                for _ in range(70)
            ],
            "",
            "Terraform used the selected providers to generate the following execution plan. Resource actions are "
            "indicated with the following symbols:",
            "  + create",
            "  ~ update in-place",
            "-/+ destroy and then create replacement",
            "",
            "Terraform will perform the following actions:",
            "",
            *blocks,
            "Plan: 4 to add, 14 to change, 1 to destroy.",
            "",
            "Releasing state lock. This may take a few moments...",
        ]
    )
    question = (
        "This plan is for the ledger account, where we're turning on encryption at rest. Is anything going to be "
        "destroyed? I want to be sure before I apply."
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools(
        [("run_shell", {"cmd": "cd infra/ledger && terraform plan -no-color -var-file=prod.tfvars"}, text)],
        thought="Running the plan.",
    )
    req = anthropic_request(
        conv.messages, system="You are a cautious platform engineer at a fintech.", tools=["run_shell", "read_file"]
    )
    facts = [
        "aws_db_instance.ledger_primary must be replaced",
        "storage_encrypted          = false -> true # forces replacement",
        "Plan: 4 to add, 14 to change, 1 to destroy.",
    ]
    return workload(name, question, facts, req, "tool_result", "one replacement among in-place updates")


def kubectl_rollout_agent() -> Workload:
    name = "ops_kubectl_rollout_agent"
    r = rnd(name)
    clock = Clock(r, "2026-11-24T15:02:00", (200, 9000))
    ns = "payments"

    def pods(extra: list[str]) -> str:
        rows = ["NAME                                READY   STATUS    RESTARTS   AGE"]
        for _ in range(9):
            rows.append(
                f"payments-api-7c9d8f6b5-{b62(r, 5).lower():<10} 1/1     Running   {r.randint(0, 2)}          "
                f"{r.randint(2, 9)}d"
            )
        for _ in range(6):
            rows.append(f"ledger-sync-5f7b9c-{b62(r, 5).lower():<14} 1/1     Running   0          {r.randint(1, 30)}d")
        return "\n".join(rows + extra)

    bad = [
        "payments-api-6f4d7b9c8-q2x7k          0/1     ImagePullBackOff   0          14m",
        "payments-api-6f4d7b9c8-w9p3m          0/1     ErrImagePull       0          14m",
    ]
    describe = "\n".join(
        [
            "Name:             payments-api-6f4d7b9c8-q2x7k",
            f"Namespace:        {ns}",
            "Priority:         0",
            "Service Account:  payments-api",
            f"Node:             ip-{ip_private(r).replace('.', '-')}.eu-west-1.compute.internal",
            "Labels:           app=payments-api",
            "                  pod-template-hash=6f4d7b9c8",
            "Status:           Pending",
            "Containers:",
            "  api:",
            "    Image:          registry.fjord.internal/payments/payments-api:v2.41.0",
            "    Image ID:",
            "    Port:           8080/TCP",
            "    State:          Waiting",
            "      Reason:       ImagePullBackOff",
            "    Ready:          False",
            *[
                f"    {k}: {v}"
                for k, v in [
                    ("Limits", "cpu: 2, memory: 2Gi"),
                    ("Requests", "cpu: 500m, memory: 1Gi"),
                    ("Liveness", "http-get http://:8080/healthz delay=10s"),
                    ("Readiness", "http-get http://:8080/ready delay=5s"),
                ]
            ],
            "Events:",
            "  Type     Reason     Age                 From               Message",
            "  ----     ------     ----                ----               -------",
            "  Normal   Scheduled  14m                 default-scheduler  Successfully assigned payments/payments-api-"
            "6f4d7b9c8-q2x7k",
            "  Normal   Pulling    12m (x4 over 14m)   kubelet            Pulling image "
            '"registry.fjord.internal/payments/'
            'payments-api:v2.41.0"',
            "  Warning  Failed     12m (x4 over 14m)   kubelet            Failed to pull image "
            '"registry.fjord.internal/'
            'payments/payments-api:v2.41.0": rpc error: code = NotFound desc = failed to pull and unpack image '
            '"registry.fjord.internal/payments/payments-api:v2.41.0": failed to resolve reference: '
            "registry.fjord.internal/payments/payments-api:v2.41.0: not found",
            "  Warning  Failed     12m (x4 over 14m)   kubelet            Error: ErrImagePull",
            "  Normal   BackOff    3m (x43 over 14m)   kubelet            Back-off pulling image",
        ]
    )
    events = "\n".join(
        f"{r.randint(1, 59)}m         Normal    "
        f"{r.choice(['Pulled', 'Created', 'Started', 'ScalingReplicaSet', 'SuccessfulCreate'])}"
        f"   {r.choice(['pod', 'replicaset', 'deployment'])}/{r.choice(['ledger-sync', 'payments-api', 'fx-cache'])}-"
        f"{b62(r, 5).lower()}   "
        f"{r.choice(K8S_MESSAGES)}"
        for _ in range(140)
    )
    logs_ok = "\n".join(
        json.dumps(
            {
                "ts": clock.iso(),
                "level": "info",
                "msg": "request",
                "route": r.choice(["/v1/payments", "/v1/payments/{id}", "/v1/refunds"]),
                "status": r.choice([200, 200, 201, 404]),
                "dur_ms": r.randint(3, 180),
                "trace_id": hexs(r, 32),
            }
        )
        for _ in range(90)
    )
    helm_hist = "\n".join(
        [
            "REVISION  UPDATED                   STATUS      CHART               APP VERSION  DESCRIPTION",
            *[
                f"{i:<9} Mon Nov {10 + i} 10:{r.randint(10, 59)}:02 2026  superseded  payments-api-3.{i}.0  "
                f"2.{30 + i}.0"
                f"       Upgrade complete"
                for i in range(1, 10)
            ],
            "10        Tue Nov 24 14:48:11 2026  pending-upgrade  payments-api-3.10.0  v2.41.0     Upgrade "
            '"payments-api" '
            "in progress",
        ]
    )
    crane = "\n".join(["2.38.0", "2.39.0", "2.39.1", "2.40.0", "2.40.1", "2.41.0", "sha-" + hexs(r, 7), "latest"])
    rollout = (
        'Waiting for deployment "payments-api" rollout to finish: 2 out of 10 new replicas have been '
        'updated...\nerror: deployment "payments-api" exceeded its progress deadline'
    )
    question = "The payments-api deploy has been stuck for 15 minutes. Figure out why the rollout isn't progressing."
    conv = OpenAIConversation(name)
    conv.system(
        "You are an SRE agent with kubectl access to the prod-eu cluster. Investigate step by step, then "
        "give a root cause and a fix."
    )
    conv.user(question)
    conv.tools(
        [("kubectl", {"args": f"-n {ns} rollout status deploy/payments-api --timeout=10s"}, rollout)],
        thought="Checking rollout status.",
    )
    conv.tools([("kubectl", {"args": f"-n {ns} get pods"}, pods(bad))])
    conv.tools([("kubectl", {"args": f"-n {ns} get events --sort-by=.lastTimestamp"}, events)])
    conv.tools(
        [("kubectl", {"args": f"-n {ns} logs deploy/payments-api --tail=160"}, logs_ok)],
        thought="Old replicas look healthy; checking the new pods.",
    )
    conv.tools([("kubectl", {"args": f"-n {ns} describe pod payments-api-6f4d7b9c8-q2x7k"}, describe)])
    conv.tools([("run_shell", {"cmd": "helm -n payments history payments-api"}, helm_hist)])
    conv.tools([("run_shell", {"cmd": "crane ls registry.fjord.internal/payments/payments-api | tail -8"}, crane)])
    conv.tools(
        [
            (
                "kubectl",
                {"args": f"-n {ns} get hpa,pdb"},
                "NAME  REFERENCE  TARGETS  MINPODS  MAXPODS  REPLICAS\n"
                "horizontalpodautoscaler.autoscaling/payments-api  Deployment/payments-api  41%/70%  6  30  10\n"
                "NAME  MIN AVAILABLE  MAX UNAVAILABLE  ALLOWED DISRUPTIONS\n"
                "poddisruptionbudget.policy/payments-api  80%  N/A  0",
            )
        ]
    )
    conv.tools(
        [("kubectl", {"args": f"-n {ns} logs deploy/ledger-sync --tail=160"}, logs_ok.replace("payments", "ledger"))]
    )
    req = openai_request(conv.messages, tools=["kubectl", "run_shell", "query_logs"])
    facts = [
        "registry.fjord.internal/payments/payments-api:v2.41.0: not found",
        "payments-api-3.10.0  v2.41.0",
        "ErrImagePull",
    ]
    return workload(
        name, question, facts, req, "tool_result", "nine tool calls; the tag has a v prefix the registry lacks"
    )


def buildkit_pnpm() -> Workload:
    name = "ops_buildkit_pnpm"
    r = rnd(name)
    out = [
        '#0 building with "ci-builder" instance using docker-container driver',
        "",
        "#1 [internal] load build definition from Dockerfile",
        "#1 transferring dockerfile: 2.31kB done",
        "#1 DONE 0.0s",
        "",
        "#2 [internal] load metadata for docker.io/library/node:22-bookworm-slim",
        "#2 DONE 1.2s",
        "",
        "#3 [internal] load .dockerignore",
        "#3 DONE 0.0s",
        "",
    ]
    step = 4
    for desc in [
        "[base 1/4] FROM docker.io/library/node:22-bookworm-slim@sha256:" + hexs(r, 64),
        "[internal] load build context",
        "[base 2/4] RUN corepack enable && corepack prepare pnpm@9.12.3 --activate",
        "[base 3/4] WORKDIR /repo",
        "[deps 1/3] COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./",
        "[deps 2/3] COPY packages/*/package.json ./packages/",
    ]:
        out.append(f"#{step} {desc}")
        for _ in range(r.randint(2, 12)):
            out.append(
                f"#{step} {r.uniform(0, 9):.3f} "
                + r.choice(
                    [
                        "sha256:" + hexs(r, 64) + " " + str(r.randint(1, 90)) + "MB / 90MB",
                        "transferring context: " + str(r.randint(1, 900)) + "kB",
                        "extracting sha256:" + hexs(r, 64),
                    ]
                )
            )
        out.append(f"#{step} DONE {r.uniform(0, 12):.1f}s")
        out.append("")
        step += 1
    out.append(f"#{step} [deps 3/3] RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile")
    for _ in range(90):
        out.append(
            f"#{step} {r.uniform(0.5, 30):.3f} Progress: resolved {r.randint(1, 2400)}, reused "
            f"{r.randint(1, 2400)}, downloaded 0, added 0"
        )
    out += [
        f"#{step} 31.402 Scope: all 14 workspace projects",
        f'#{step} 31.977 \u2009ERR_PNPM_OUTDATED_LOCKFILE\u2009 Cannot install with "frozen-lockfile" because '
        "pnpm-lock.yaml is not up to date with packages/checkout-web/package.json",
        f"#{step} 31.977 ",
        f"#{step} 31.977 Note that in CI environments this setting is true by default. If you still need to run "
        'install in such cases, use "pnpm install --no-frozen-lockfile"',
        f"#{step} 31.977 ",
        f"#{step} 31.977   Failure reason:",
        f'#{step} 31.977   specifiers in the lockfile ({{"@stripe/stripe-js":"^4.8.0"}}) don\'t match specs in '
        'package.json ({"@stripe/stripe-js":"^5.2.0"})',
        f'#{step} ERROR: process "/bin/sh -c pnpm install --frozen-lockfile" did not complete successfully: exit code: '
        "1",
        "------",
        " > [deps 3/3] RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile:",
        "------",
        "Dockerfile:18",
        "--------------------",
        "  16 |     COPY packages/*/package.json ./packages/",
        "  17 |     ",
        "  18 | >>> RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile",
        "--------------------",
        'ERROR: failed to solve: process "/bin/sh -c pnpm install --frozen-lockfile" did not complete successfully: '
        "exit code: 1",
    ]
    text = "\n".join(out).replace("\u2009", " ")
    question = "Why did the storefront image build fail, and what do I need to change to fix it?"
    conv = AnthropicConversation(name)
    conv.user(f"{question}\n\n```\n{text}\n```")
    req = anthropic_request(conv.messages, system="You are a build engineer for a JavaScript monorepo.")
    facts = ["ERR_PNPM_OUTDATED_LOCKFILE", "packages/checkout-web/package.json", '{"@stripe/stripe-js":"^5.2.0"}']
    return workload(name, question, facts, req, "user", "buildkit progress noise; lockfile drift")


def cargo_test_small() -> Workload:
    name = "ops_cargo_test_small"
    r = rnd(name)
    tests = [
        "tick::tests::fixed_step_runs_expected_iterations",
        "tick::tests::interpolation_alpha_in_unit_range",
        "tick::tests::fixed_step_accumulator_clamps_spiral",
        "input::tests::buffered_inputs_replay_in_order",
        "input::tests::deadzone_applies_radially",
        "net::tests::snapshot_delta_roundtrip",
        "net::tests::ack_window_wraps",
        "physics::tests::sleeping_bodies_skip_integration",
        "physics::tests::ccd_catches_fast_projectiles",
        "audio::tests::voice_stealing_prefers_quietest",
    ]
    tests += [
        f"{m}::tests::{w}_{i}"
        for i, (m, w) in enumerate(
            (
                r.choice(["ecs", "assets", "render::graph", "script::vm", "save"]),
                r.choice(
                    ["spawns_entities", "hot_reload_keeps_handles", "sorts_draws", "gc_frees_cycles", "roundtrips"]
                ),
            )
            for _ in range(30)
        )
    ]
    out = [
        "warning: unused variable: `dt`",
        "  --> crates/ember_core/src/render/graph.rs:88:13",
        "   |",
        "88 |         let dt = frame.delta();",
        "   |             ^^ help: if this is intentional, prefix it with an underscore: `_dt`",
        "   |",
        "   = note: `#[warn(unused_variables)]` on by default",
        "",
        "   Compiling ember_core v0.9.0 (/home/dev/ember/crates/ember_core)",
        "    Finished `test` profile [unoptimized + debuginfo] target(s) in 8.31s",
        "     Running unittests src/lib.rs (target/debug/deps/ember_core-" + hexs(r, 16) + ")",
        "",
        f"running {len(tests)} tests",
    ]
    for t in tests:
        out.append(f"test {t} ... {'FAILED' if 'clamps_spiral' in t else 'ok'}")
    out += [
        "",
        "failures:",
        "",
        "---- tick::tests::fixed_step_accumulator_clamps_spiral stdout ----",
        "thread 'tick::tests::fixed_step_accumulator_clamps_spiral' panicked at crates/ember_core/src/tick.rs:212:9:",
        "assertion `left == right` failed: steps after a 250ms hitch should be capped at MAX_STEPS_PER_FRAME",
        "  left: 15",
        " right: 5",
        "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        "",
        "",
        "failures:",
        "    tick::tests::fixed_step_accumulator_clamps_spiral",
        "",
        f"test result: FAILED. {len(tests) - 1} passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; "
        "finished in 0.04s",
        "",
        "error: test failed, to rerun pass `-p ember_core --lib`",
    ]
    question = "Which test failed here and what does the failure mean?"
    conv = OpenAIConversation(name)
    conv.user("cargo test output:\n" + "\n".join(out))
    conv.assistant("One test in the `tick` module failed. Do you want me to explain it or suggest a fix?")
    conv.user(question)
    facts = ["tick::tests::fixed_step_accumulator_clamps_spiral", "left: 15", "MAX_STEPS_PER_FRAME"]
    return workload(name, question, facts, openai_request(conv.messages), "history", "small")


def git_log_blame() -> Workload:
    name = "ops_git_log_blame"
    r = rnd(name)
    authors = [(person(r), None) for _ in range(8)]
    commits = []
    clock = Clock(r, "2025-03-01T09:00:00", (3_600_000, 200_000_000))
    for _i in range(70):
        a = r.choice(authors)[0]
        email = a.lower().replace(" ", ".") + "@tidewater-logistics.example"
        subj = r.choice(
            [
                "bump otel sdk",
                "tune consumer prefetch",
                "add carrier DHL Parcel UK",
                "fix flaky test",
                "rename env var",
                "increase pool size for peak",
                "log webhook latency",
                "drop unused flag",
            ]
        )
        c = [
            f"commit {hexs(r, 40)}",
            f"Author: {a} <{email}>",
            f"Date:   {clock.tick().strftime('%a %b %d %H:%M:%S %Y')} +0100",
            "",
            f"    {subj} (#{r.randint(1000, 4000)})",
            "",
        ]
        if r.random() < 0.6:
            c += [
                "diff --git a/config/webhooks.yaml b/config/webhooks.yaml",
                f"index {hexs(r, 7)}..{hexs(r, 7)} 100644",
                "--- a/config/webhooks.yaml",
                "+++ b/config/webhooks.yaml",
                f"@@ -{r.randint(1, 40)},6 +{r.randint(1, 40)},6 @@",
                "   delivery:",
                f"-    timeout_ms: {r.choice([3000, 5000, 8000])}",
                f"+    timeout_ms: {r.choice([3000, 5000, 8000])}",
                f"     max_attempts: {r.choice([6, 8, 10])}",
                "",
            ]
        commits.append("\n".join(c))
    key = "\n".join(
        [
            "commit 9e41c07b2d5af3318c6f0e2a7d4b9158c3e6a0f4",
            "Author: Tamsin Okonkwo <tamsin.okonkwo@tidewater-logistics.example>",
            "Date:   Thu Oct 16 17:52:40 2026 +0100",
            "",
            "    switch webhook retries to fixed 30s backoff for carrier sandbox tests (#3712)",
            "",
            "    Temporary, revert after the DHL certification run.",
            "",
            "diff --git a/config/webhooks.yaml b/config/webhooks.yaml",
            "index 4c1d2e0..b77a9f3 100644",
            "--- a/config/webhooks.yaml",
            "+++ b/config/webhooks.yaml",
            "@@ -12,8 +12,8 @@ delivery:",
            "   retry:",
            "-    strategy: exponential",
            "-    base_delay_ms: 2000",
            "+    strategy: fixed",
            "+    base_delay_ms: 30000",
            "     max_delay_ms: 600000",
            "     jitter: true",
            "",
        ]
    )
    commits.insert(9, key)
    log = "\n".join(commits)
    blame = (
        "\n".join(
            f"{hexs(r, 8)} ({r.choice(authors)[0]:<20} 2026-0{r.randint(1, 9)}-{r.randint(10, 28)} "
            f"{r.randint(1, 40):>3}) "
            f"{ln}"
            for ln in ["delivery:", "  timeout_ms: 5000", "  max_attempts: 8"]
        )
        + "\n"
        + "\n".join(
            [
                "9e41c07b (Tamsin Okonkwo       2026-10-16  13)   retry:",
                "9e41c07b (Tamsin Okonkwo       2026-10-16  14)     strategy: fixed",
                "9e41c07b (Tamsin Okonkwo       2026-10-16  15)     base_delay_ms: 30000",
                "3a0f2c11 (Ugo Nowak            2025-11-02  16)     max_delay_ms: 600000",
                "3a0f2c11 (Ugo Nowak            2025-11-02  17)     jitter: true",
            ]
        )
    )
    question = (
        "Webhook retries to carriers now happen every 30 seconds instead of backing off. Who changed that, in which "
        "commit, and was it meant to be permanent?"
    )
    conv = AnthropicConversation(name)
    conv.user(question)
    conv.tools([("run_shell", {"cmd": "git log -p --follow -- config/webhooks.yaml"}, log)])
    conv.tools([("run_shell", {"cmd": "git blame -L 10,17 config/webhooks.yaml"}, blame)])
    req = anthropic_request(
        conv.messages, system="You are a backend engineer at a logistics company.", tools=["run_shell", "read_file"]
    )
    facts = [
        "9e41c07b2d5af3318c6f0e2a7d4b9158c3e6a0f4",
        "Tamsin Okonkwo",
        "Temporary, revert after the DHL certification run.",
    ]
    return workload(name, question, facts, req, "tool_result", "git log -p and blame; key commit early in the log")


def gha_release_log() -> Workload:
    name = "ops_gha_release_log"
    r = rnd(name)
    clock = Clock(r, "2026-11-24T11:00:00", (10, 900))
    out = []
    gradle = [
        lambda: f"> Task :{r.choice(['app', 'core', 'feature-cards', 'feature-savings'])}:{r.choice(GRADLE_TASKS)}",
        lambda: f"Downloading https://repo.maven.apache.org/maven2/{r.choice(MAVEN_PATHS)}",
        lambda: (
            f"w: file:///home/runner/work/app/app/src/main/kotlin/{r.choice(['Checkout', 'Cart', 'Feed'])}Screen.kt:"
            f"{r.randint(10, 400)}:5 Parameter is never used"
        ),
        lambda: f"Cache restored from key: gradle-{hexs(r, 12)}",
    ]
    xcode = [
        lambda: f"Compiling {r.choice(SWIFT_AREAS)}{r.choice(['View', 'ViewModel', 'Coordinator'])}.swift",
        lambda: "Compiling Swift Module PocketBank (412 sources)",
        lambda: f"Resolved source packages: {r.choice(['swift-collections', 'Alamofire', 'Lottie', 'SnapKit'])}",
    ]
    fastlane = [lambda: f"[{clock.t.strftime('%H:%M:%S')}]: {r.choice(FASTLANE_LINES)}"]
    lint = [
        lambda: (
            f"src/{r.choice(['features', 'shared', 'core'])}/{b62(r, 6)}.kt: "
            f"{r.choice(['ktlint ok', 'detekt: 0 issues'])}"
        )
    ]
    noise = {
        "lint": lint,
        "unit-tests": gradle,
        "build-ios": xcode,
        "build-android": gradle,
        "publish-ios": fastlane + xcode[:1],
        "publish-android": fastlane + gradle[:1],
    }
    for job in ["lint", "unit-tests", "build-ios", "build-android", "publish-ios", "publish-android"]:
        for st in [
            "Set up job",
            "Checkout",
            "Setup Java",
            "Cache Gradle",
            "Setup Ruby",
            "Install dependencies",
            "Run",
            "Post Checkout",
            "Complete job",
        ]:
            out.append(f"{clock.iso()} ##[group]{job} / {st}")
            pool = noise[job]
            for _ in range(r.randint(10, 60)):
                out.append(f"{clock.iso()} {r.choice(pool)()}")
            if job == "publish-android" and st == "Run":
                out += [
                    f"{clock.iso()} [{clock.t:%H:%M:%S}]: ------------------------------------",
                    f"{clock.iso()} [{clock.t:%H:%M:%S}]: --- Step: upload_to_play_store ---",
                    f"{clock.iso()} [{clock.t:%H:%M:%S}]: Preparing aab at path "
                    "'app/build/outputs/bundle/release/app-release.aab' "
                    "for upload...",
                    f"{clock.iso()} [{clock.t:%H:%M:%S}]: Updating track 'internal'...",
                    f"{clock.iso()} [{clock.t:%H:%M:%S}]: Google Api Error: Invalid request - APK specifies a version "
                    "code that "
                    "has already been used. (versionCode 61402)",
                    f"{clock.iso()} [!] Google Api Error: Invalid request - APK specifies a version code that has "
                    "already been used.",
                    f"{clock.iso()} ##[error]Process completed with exit code 1.",
                ]
            out.append(f"{clock.iso()} ##[endgroup]")
    log = "\n".join(out)
    conv = AnthropicConversation(name)
    conv.user(
        "The release workflow for 6.14.3 went red. Full log of the run below; I'll ask you things about it.\n\n" + log
    )
    conv.assistant(
        "I've read through the run. It has six jobs: lint, unit-tests, build-ios, build-android, publish-ios "
        "and publish-android. Most of the output is Gradle, fastlane and dependency resolution. What would "
        "you like to know?"
    )
    conv.user("did the iOS side go through?")
    conv.assistant(
        "The publish-ios job has no error annotation in the log, so the iOS upload appears to have completed."
    )
    conv.user("ok. and any compiler warnings I should care about?")
    conv.assistant(
        "Only Kotlin 'Parameter is never used' warnings in a few screen files; nothing that affects the release."
    )
    question = "So what actually failed in the Android publish, and how do I fix it?"
    conv.user(question)
    req = anthropic_request(conv.messages, system="You are a mobile release engineer's assistant.")
    facts = ["upload_to_play_store", "APK specifies a version code that has already been used. (versionCode 61402)"]
    return workload(name, question, facts, req, "history", "large CI log in turn 1; question in turn 7")


def pip_resolver_conflict() -> Workload:
    name = "ops_pip_resolver_conflict"
    r = rnd(name)
    pkgs = [
        "pandas",
        "numpy",
        "pyarrow",
        "sqlalchemy",
        "pydantic",
        "fastapi",
        "uvicorn",
        "boto3",
        "botocore",
        "s3transfer",
        "requests",
        "urllib3",
        "grpcio",
        "googleapis-common-protos",
        "redis",
        "scikit-learn",
        "scipy",
        "joblib",
        "typing-extensions",
        "dask",
        "fsspec",
        "click",
        "tqdm",
        "great-expectations",
    ]
    out = [
        "Collecting feast==0.40.1 (from -r requirements/ml.txt (line 4))",
        "  Using cached feast-0.40.1-py2.py3-none-any.whl.metadata (9.1 kB)",
    ]
    for _ in range(140):
        p = r.choice(pkgs)
        v = f"{r.randint(0, 3)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
        out.append(
            f"Collecting {p}>={v} (from -r requirements/{r.choice(['base', 'ml', 'api'])}.txt (line "
            f"{r.randint(1, 60)}))"
        )
        out.append(
            "  Using cached "
            f"{p.replace('-', '_')}-{v}-{r.choice(['py3-none-any', 'cp312-cp312-manylinux_2_17_x86_64'])}"
            f".whl.metadata ({r.uniform(1, 40):.1f} kB)"
        )
        if r.random() < 0.2:
            out.append(
                f"INFO: pip is looking at multiple versions of {p} to determine which version is compatible "
                "with other requirements. This could take a while."
            )
    out += [
        "ERROR: Cannot install -r requirements/api.txt (line 12), -r requirements/ml.txt (line 4) and "
        "grpcio-status==1.66.1 because these package versions have conflicting dependencies.",
        "",
        "The conflict is caused by:",
        "    feast 0.40.1 depends on protobuf<5.0.0 and >=4.24.0",
        "    grpcio-status 1.66.1 depends on protobuf<6.0dev and >=5.26.1",
        "    opentelemetry-proto 1.27.0 depends on protobuf<5.0 and >=3.19",
        "",
        "To fix this you could try to:",
        "1. loosen the range of package versions you've specified",
        "2. remove package versions to allow pip to attempt to solve the dependency conflict",
        "",
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/"
        "#dealing-with-dependency-conflicts",
    ]
    question = "pip install blows up for the feature-store service. Which packages are fighting, and over what?"
    conv = OpenAIConversation(name)
    conv.system("You are a Python packaging helper for a data platform.")
    conv.user(question)
    conv.tools([("run_shell", {"cmd": "pip install -r requirements/all.txt 2>&1"}, "\n".join(out))])
    req = openai_request(conv.messages, tools=["run_shell", "read_file"])
    facts = [
        "feast 0.40.1 depends on protobuf<5.0.0 and >=4.24.0",
        "grpcio-status 1.66.1 depends on protobuf<6.0dev and >=5.26.1",
    ]
    return workload(name, question, facts, req, "tool_result", "resolver output")


def license_audit_assistant_report() -> Workload:
    name = "ops_license_audit_assistant_report"
    r = rnd(name)
    licenses = (
        ["MIT"] * 10
        + ["Apache-2.0"] * 6
        + ["BSD-3-Clause"] * 3
        + ["ISC"] * 3
        + ["MPL-2.0", "BSD-2-Clause", "0BSD", "Unlicense"]
    )
    prefixes = [
        "react",
        "date",
        "lodash",
        "zod",
        "tanstack",
        "radix",
        "emotion",
        "redux",
        "i18n",
        "chart",
        "pdf",
        "image",
        "crypto",
        "uuid",
        "qs",
        "yaml",
        "sentry",
        "otel",
        "grpc",
        "prisma",
    ]
    rows = []
    for _ in range(190):
        pkg = f"{r.choice(['', '@' + r.choice(prefixes) + '/'])}{r.choice(prefixes)}-{r.choice(PKG_SUFFIXES)}"
        rows.append(
            f"| {pkg} | {r.randint(0, 9)}.{r.randint(0, 40)}.{r.randint(0, 20)} | {r.choice(licenses)} | "
            f"{r.choice(['direct', 'transitive', 'transitive', 'transitive'])} | "
            f"{r.choice(['apps/storefront', 'apps/admin', 'packages/ui', 'services/search-api'])} |"
        )
    rows.insert(
        37,
        "| ghostscript-wasm | 10.4.0 | AGPL-3.0-only | transitive (via pdf-thumbnailer 2.1.3) | services/search-api |",
    )
    rows.insert(121, "| mongo-query-sandbox | 1.8.2 | SSPL-1.0 | direct | apps/admin |")
    rows.insert(150, "| itext-lite | 4.2.0 | AGPL-3.0-or-later | direct | services/search-api |")
    report = "\n".join(
        [
            "I ran `pnpm licenses list --json` across the workspace and merged it with the Go and Python lockfiles. "
            "Here's the full inventory, one row per resolved package version:",
            "",
            "| Package | Version | License | Dependency | Where |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Summary: the vast majority are permissive (MIT, Apache-2.0, BSD, ISC). A few entries carry copyleft or "
            "source-available terms and need legal review before the on-prem release; see the table for details.",
        ]
    )
    conv = OpenAIConversation(name)
    conv.system("You are an engineering assistant at an e-commerce company preparing an on-prem release.")
    conv.user("Can you produce a full license inventory of everything we ship in the on-prem bundle?")
    conv.assistant(report)
    conv.user("Thanks. Legal will want the raw numbers; how many packages total?")
    conv.assistant(f"The inventory lists {len(rows)} resolved package versions across the four workspaces.")
    question = (
        "Legal only cares about strong copyleft. From your inventory, which packages are AGPL, and which part of "
        "the product pulls them in?"
    )
    conv.user(question)
    facts = [
        "ghostscript-wasm | 10.4.0 | AGPL-3.0-only",
        "transitive (via pdf-thumbnailer 2.1.3)",
        "itext-lite | 4.2.0 | AGPL-3.0-or-later",
    ]
    return workload(
        name,
        question,
        facts,
        openai_request(conv.messages),
        "assistant",
        "bulk in an earlier assistant message; SSPL entry is a near miss",
    )


WORKLOADS = [
    pytest_failures,
    jest_snapshot,
    gotest_timeout,
    junit_xml_failures,
    terraform_plan_replace,
    kubectl_rollout_agent,
    buildkit_pnpm,
    cargo_test_small,
    git_log_blame,
    gha_release_log,
    pip_resolver_conflict,
    license_audit_assistant_report,
]
