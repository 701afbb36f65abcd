"""Agent operations: test runs, builds, installs, plans and the same command run again after a fix."""

from __future__ import annotations

from benchmarks.workloads._build import Workload, anthropic, hexid, openai, rng, sentence

PYTEST_FAILURE = [
    "=================================== FAILURES ===================================",
    "________________________ test_proration_rounding ________________________",
    "",
    "    def test_proration_rounding():",
    "        invoice = prorate(plan_cents=2000, days_used=15, days_in_period=30)",
    ">       assert invoice.total_cents == 1000",
    "E       AssertionError: assert 999 == 1000",
    "E        +  where 999 = Invoice(total_cents=999).total_cents",
    "",
    "tests/test_billing.py:88: AssertionError",
]


def pytest_log(seed: str, n: int, failed: bool = True, extra_fail: str | None = None) -> str:
    r = rng(seed)
    lines = [
        "============================= test session starts ==============================",
        "platform linux -- Python 3.12.3, pytest-8.3.2, pluggy-1.5.0",
        "rootdir: /repo",
        f"collected {n} items",
        "",
    ]
    for i in range(n - (1 if failed else 0)):
        mod = f"tests/test_{r.choice(['api', 'models', 'billing', 'auth', 'jobs'])}.py"
        lines.append(f"{mod}::test_{hexid(r, 6)}_{i} PASSED{'':>20}[{100 * (i + 1) // n:3d}%]")
    if failed:
        lines.append("tests/test_billing.py::test_proration_rounding FAILED                  [ 61%]")
        lines += ["", *PYTEST_FAILURE]
        if extra_fail:
            lines.append(extra_fail)
    lines += ["=========================== short test summary info ============================"]
    if failed:
        lines.append("FAILED tests/test_billing.py::test_proration_rounding - AssertionError: assert 999 == 1000")
        lines.append(f"========================= 1 failed, {n - 1} passed in 41.27s =========================")
    else:
        lines.append(f"============================= {n} passed in 40.91s ==============================")
    return "\n".join(lines)


def pytest_failure() -> Workload:
    return anthropic(
        "pytest_failure",
        "Run the test suite and tell me what fails and why.",
        [
            "FAILED tests/test_billing.py::test_proration_rounding",
            "AssertionError: assert 999 == 1000",
            "1 failed, 799 passed",
        ],
        [[("Bash", {"command": "pytest -v"}, pytest_log("pytest_failure", 800))]],
    )


def jest_failure() -> Workload:
    r = rng("jest_failure")
    lines = []
    for _s in range(120):
        lines.append(f"PASS src/components/{hexid(r, 5)}.test.tsx ({r.randint(1, 9)}.{r.randint(0, 9)} s)")
        lines += [f"  ✓ renders {sentence(r, 3)} ({r.randint(1, 90)} ms)" for _ in range(4)]
    lines += [
        "FAIL src/cart/Checkout.test.tsx",
        "  ● Checkout \u203a applies coupon before tax",
        "",
        "    expect(received).toBe(expected) // Object.is equality",
        "",
        "    Expected: 90.00",
        "    Received: 99.00",
        "",
        "      at Object.<anonymous> (src/cart/Checkout.test.tsx:57:31)",
        "",
        "Test Suites: 1 failed, 120 passed, 121 total",
        "Tests:       1 failed, 480 passed, 481 total",
    ]
    return anthropic(
        "jest_failure",
        "Why is CI red on the frontend?",
        ["applies coupon before tax", "Expected: 90.00", "Received: 99.00", "Checkout.test.tsx:57:31"],
        [[("Bash", {"command": "npx jest"}, "\n".join(lines))]],
    )


def go_test() -> Workload:
    r = rng("go_test")
    lines = []
    for i in range(700):
        name = f"Test{hexid(r, 6).capitalize()}{i}"
        lines += [f"=== RUN   {name}", f"--- PASS: {name} (0.0{r.randint(0, 9)}s)"]
    lines[900:900] = [
        "=== RUN   TestLeaseRenewal",
        "    lease_test.go:112: lease expired after 29.9s, want >= 30s",
        "--- FAIL: TestLeaseRenewal (30.01s)",
    ]
    lines += ["FAIL", "FAIL\tgithub.com/acme/scheduler/lease\t31.442s", "ok  \tgithub.com/acme/scheduler/api\t0.812s"]
    return openai(
        "go_test",
        "Which Go test fails and what's the assertion?",
        ["--- FAIL: TestLeaseRenewal", "lease_test.go:112: lease expired after 29.9s, want >= 30s"],
        [[("Bash", {"command": "go test -v ./..."}, "\n".join(lines))]],
    )


def cargo_build() -> Workload:
    r = rng("cargo_build")
    lines = [
        f"   Compiling {r.choice(['serde', 'tokio', 'hyper', 'rand', 'regex'])}-{hexid(r, 3)} "
        f"v1.{r.randint(0, 40)}.{r.randint(0, 9)}"
        for _ in range(420)
    ]
    lines += [
        "   Compiling ingest v0.3.0 (/repo/ingest)",
        "error[E0308]: mismatched types",
        "  --> src/pipeline.rs:214:23",
        "    |",
        "214 |         let batch: Vec<u8> = reader.next_batch()?;",
        "    |                    -------   ^^^^^^^^^^^^^^^^^^^^^^^ expected `Vec<u8>`, found `Bytes`",
        "",
        'error: could not compile `ingest` (bin "ingest") due to 1 previous error',
    ]
    return anthropic(
        "cargo_build",
        "The Rust build broke after the bytes upgrade. What's the error?",
        ["error[E0308]: mismatched types", "src/pipeline.rs:214:23", "expected `Vec<u8>`, found `Bytes`"],
        [[("Bash", {"command": "cargo build"}, "\n".join(lines))]],
    )


def pip_install() -> Workload:
    r = rng("pip_install")
    lines = []
    for _ in range(260):
        pkg = f"{r.choice(['aio', 'py', 'fast', 'data'])}{hexid(r, 4)}"
        lines += [
            f"Collecting {pkg}>=1.{r.randint(0, 9)}",
            f"  Downloading {pkg}-1.{r.randint(0, 9)}.0-py3-none-any.whl ({r.randint(10, 900)} kB)",
            f"Requirement already satisfied: {r.choice(['six', 'idna', 'certifi'])} "
            f"in ./.venv/lib/python3.12/site-packages",
        ]
    lines += [
        "ERROR: Cannot install grpcio-tools==1.66.0 and protobuf==4.21.0 because these package versions have "
        "conflicting dependencies.",
        "The conflict is caused by:",
        "    grpcio-tools 1.66.0 depends on protobuf<6.0dev and >=5.26.1",
    ]
    return anthropic(
        "pip_install",
        "pip install -r requirements.txt fails. What's the conflict?",
        ["grpcio-tools 1.66.0 depends on protobuf<6.0dev and >=5.26.1", "protobuf==4.21.0"],
        [[("Bash", {"command": "pip install -r requirements.txt"}, "\n".join(lines))]],
    )


def gradle_build() -> Workload:
    r = rng("gradle_build")
    lines = [
        f"> Task :{r.choice(['core', 'api', 'web', 'batch'])}:"
        f"{r.choice(['compileJava', 'processResources', 'classes', 'jar'])}"
        f"{r.choice(['', ' UP-TO-DATE', ' FROM-CACHE'])}"
        for _ in range(600)
    ]
    lines += [
        "> Task :api:compileJava FAILED",
        "/repo/api/src/main/java/com/acme/api/OrderController.java:77: error: cannot find symbol",
        "        return orderService.findByExternalId(id);",
        "                           ^",
        "  symbol:   method findByExternalId(String)",
        "BUILD FAILED in 1m 12s",
    ]
    return anthropic(
        "gradle_build",
        "Why does the Gradle build fail?",
        ["OrderController.java:77: error: cannot find symbol", "symbol:   method findByExternalId(String)"],
        [[("Bash", {"command": "./gradlew build"}, "\n".join(lines))]],
    )


def pytest_rerun_loop() -> Workload:
    run1 = pytest_log("rerun", 800)
    run2 = pytest_log("rerun", 800, extra_fail="(flaky retry attempt 2 of 3)")
    run3 = pytest_log("rerun", 800, failed=False)
    return anthropic(
        "pytest_rerun_loop",
        "Keep fixing until the suite is green, then report the final result.",
        ["800 passed in 40.91s"],
        [
            [("Bash", {"command": "pytest -v"}, run1)],
            [("Edit", {"file_path": "/repo/billing/prorate.py"}, "The file has been updated.")],
            [("Bash", {"command": "pytest -v"}, run2)],
            [("Edit", {"file_path": "/repo/billing/prorate.py"}, "The file has been updated.")],
            [("Bash", {"command": "pytest -v"}, run3)],
        ],
    )


def terraform_plan() -> Workload:
    r = rng("terraform_plan")
    lines = ["Terraform will perform the following actions:", ""]
    for i in range(160):
        res = f"aws_security_group_rule.ingress_{hexid(r, 5)}"
        lines += [
            f"  # {res} will be updated in-place",
            f'  ~ resource "aws_security_group_rule" "ingress_{i}" {{',
            f'      ~ description = "{sentence(r, 3)}" -> "{sentence(r, 3)}"',
            f'        id          = "sgrule-{hexid(r, 10)}"',
            "    }",
            "",
        ]
    lines[500:500] = [
        "  # aws_db_instance.main must be replaced",
        '-/+ resource "aws_db_instance" "main" {',
        '      ~ engine_version = "15.4" -> "16.2" # forces replacement',
        "    }",
    ]
    lines.append("Plan: 1 to add, 160 to change, 1 to destroy.")
    return openai(
        "terraform_plan",
        "Does this plan destroy anything? Which resource and why?",
        [
            "aws_db_instance.main must be replaced",
            "# forces replacement",
            "Plan: 1 to add, 160 to change, 1 to destroy.",
        ],
        [[("Bash", {"command": "terraform plan -no-color"}, "\n".join(lines))]],
    )


WORKLOADS = [
    pytest_failure,
    jest_failure,
    go_test,
    cargo_build,
    pip_install,
    gradle_build,
    pytest_rerun_loop,
    terraform_plan,
]
