"""Each content strategy on fixed inputs: what it keeps verbatim, what it elides, and that the marker's
handle returns the original byte for byte."""

from __future__ import annotations

import ast
import base64
import copy
import json
import re

import orjson
from benchmarks.workloads._build import numbered
from benchmarks.workloads.agent_ops import pytest_log
from benchmarks.workloads.code import DISCOUNT, python_module

from tests.content.conftest import CONTENT_KINDS, HANDLE, optimize, results, retrieve, session


def only(handles: list[str]) -> str:
    assert len(set(handles)) == 1, handles
    return handles[0]


# ------------------------------------------------------------------------------------------ context_compression

def test_json_records_are_kept_or_elided_whole_and_kept_ones_byte_for_byte(optimizer):
    data = {"items": [{"id": f"it-{i}", "name": f"item {i}", "state": "ok"} for i in range(40)], "next": None}
    data["items"][23] = {"id": "it-23", "name": "item 23", "state": "quarantined", "reason": "checksum mismatch"}
    pretty = json.dumps(data, indent=4)
    request = session("list the items", [("http_get", {"url": "https://x/items"}, pretty)])
    original = copy.deepcopy(request)
    answer = optimize(optimizer, request, ["context_compression"])
    (out,) = results(answer["request"])
    assert request == original, "the caller's request must not be mutated"
    record = json.dumps(data["items"][23], indent=4).replace("\n", "\n        ")  # as it stands in the text
    assert record in out  # the odd one out stays, formatted exactly as it came
    assert '"id": "it-10"' not in out and len(out) < len(pretty) * 0.3
    assert answer["applied"] == ["context_compression"]
    (decision,) = answer["decisions"]
    assert decision["tokensAfter"] < decision["tokensBefore"] and decision["details"]["outputsChanged"] == 1
    assert retrieve(optimizer, only(HANDLE.findall(out))) == pretty


def test_oversized_arrays_keep_head_tail_and_unusual_or_asked_about_items(optimizer):
    items = [{"id": f"job-{i}", "state": "succeeded", "ms": 100 + i % 7} for i in range(100)]
    items[57] = {"id": "job-57", "state": "errored", "ms": 9000}
    items[80] = {"id": "job-80", "state": "succeeded", "ms": 103, "owner": "zoltan"}
    text = json.dumps(items, indent=2)
    request = session("which jobs did zoltan run, and did any break?", [("http_get", {"url": "/jobs"}, text)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    ids = [line.strip().strip('",').split('": "')[1] for line in out.split("\n") if '"id"' in line]
    # the first and the last, the errored (and slowest) one, the one the question names
    assert ids == ["job-0", "job-57", "job-80", "job-99"]
    markers = [line.strip() for line in out.split("\n") if line.strip().startswith("[anyray:")]
    assert markers[0] == ("[anyray: 56 records (state: succeeded 56) (lines 7-286 of 503) elided; anyray_retrieve "
                          f"handle {HANDLE.findall(out)[0]}]")
    assert markers[1] == "[anyray: 22 records (state: succeeded 22) (lines 292-401) elided]"  # the handle said once
    assert len(markers) == 3 and len(HANDLE.findall(out)) == 1
    assert retrieve(optimizer, only(HANDLE.findall(out))) == text


def test_logs_read_with_a_read_tool_are_compressed_like_any_log(optimizer):
    log = "\n".join(f"10:00:{i % 60:02d} INFO tick {i}" for i in range(600)) + "\n10:10:00 ERROR disk full"
    request = session("why did it stop?", [("Read", {"file_path": "/var/log/app.log"}, numbered(log))])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert out.endswith("   601→10:10:00 ERROR disk full") and len(out) < len(log) * 0.2


def test_kept_lines_keep_their_layout_and_source_reads_lose_only_long_bodies(optimizer):
    table = "NAME      READY   STATUS     RESTARTS\n" + "\n".join(f"web-{i}     1/1     Running    0"
                                                               for i in range(30))
    table += "\nweb-30     0/1     CrashLoopBackOff    41"
    body = "".join(f"    total_{i} = ledger.get({i}) * {i % 9}\n" for i in range(12))
    source = numbered("import ledger\n\n\ndef charge(amount):\n" + body + "    return amount\n\n\n"
                      "def refund(amount):\n" + body + "    return -amount\n")
    request = session("why is a pod down?", [("Bash", {"command": "kubectl get pods"}, table),
                                             ("Read", {"file_path": "/r/billing.py"}, source)])
    out_table, out_source = results(optimize(optimizer, request, ["context_compression"])["request"])
    kept = out_table.split("\n")
    assert kept[0] == table.split("\n")[0] and kept[-1] == "web-30     0/1     CrashLoopBackOff    41"
    assert "web-3     1/1     Running    0" not in kept  # a row is kept or elided whole, never reformatted
    lines = out_source.split("\n")
    assert "     4→def charge(amount):" in lines and "    20→def refund(amount):" in lines  # names stay
    assert "     1→import ledger" in lines and not any("total_3 =" in line for line in lines)
    assert lines[lines.index("     4→def charge(amount):") + 1].startswith(
        "    ...  # [anyray: body, lines 5-17 of 34 elided; anyray_retrieve handle h_")


def test_long_logs_keep_errors_question_terms_head_and_tail(optimizer):
    lines = [f"2026-11-24 10:{i // 60:02d}:{i % 60:02d} INFO handled request {i}" for i in range(1000)]
    lines[400] = "2026-11-24 10:06:40 ERROR upstream timed out after 30s"
    lines[700] = "2026-11-24 10:11:40 INFO tenant quokka-labs migrated to shard 7"
    log = "\n".join(lines)
    request = session("Which shard did quokka-labs move to?", [("Bash", {"command": "cat app.log"}, log)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    kept = out.split("\n")
    for line in (lines[0], lines[399], lines[400], lines[699], lines[700], lines[999]):
        assert line in kept  # the ends, the error and what the question names, each with the entry before it
    for line in (lines[1], lines[24], lines[500], lines[998]):
        assert line not in kept
    assert len(out) < len(log) * 0.05
    assert retrieve(optimizer, only(HANDLE.findall(out))) == log


def test_space_free_blobs_keep_head_and_tail(optimizer):
    blob = base64.b64encode(bytes(range(256)) * 40).decode()
    text = f"certificate for api.internal:\n{blob}\nexpires 2027-01-01"
    (out,) = results(optimize(optimizer, session("cert expiry?", [("Bash", {"command": "x"}, text)]),
                              ["context_compression"])["request"])
    assert out.startswith("certificate for api.internal:\n" + blob[:1000]) and out.endswith("\nexpires 2027-01-01")
    assert len(out) < 2600
    assert retrieve(optimizer, only(HANDLE.findall(out))) == text


# ----------------------------------------------------------------------------------------------- context_dedupe

def test_an_identical_output_becomes_a_reference_to_its_first_copy(optimizer):
    text = "\n".join(f"config key_{i} = value_{i}" for i in range(40))
    request = session("show config twice", [("Bash", {"command": "cat cfg"}, text)],
                      [("Bash", {"command": "cat cfg"}, text)])
    first, second = results(optimize(optimizer, request, ["context_dedupe"])["request"])
    assert first == text
    assert second.startswith("[anyray: identical to the output of Bash call toolu_t0001 above;")
    assert retrieve(optimizer, only(HANDLE.findall(second))) == text


def test_a_rerun_becomes_a_diff_against_the_first_copy_never_against_a_diff(optimizer):
    base = [f"check {i}: ok" for i in range(60)]
    run2, run3 = list(base), list(base)
    run2[10] = "check 10: FAILED (disk 91% full)"
    run3[10], run3[50] = "check 10: ok", "check 50: FAILED (cert expires in 2 days)"
    request = session("health?", *[[("Bash", {"command": "health"}, "\n".join(r))] for r in (base, run2, run3)])
    first, second, third = results(optimize(optimizer, request, ["context_dedupe"])["request"])
    assert first == "\n".join(base)
    for out, changed in ((second, "+check 10: FAILED (disk 91% full)"),
                         (third, "+check 50: FAILED (cert expires in 2 days)")):
        assert out.startswith("[anyray: re-run of Bash call toolu_t0001 above;")  # the full copy, not the diff
        assert changed in out.split("\n") and len(out) < 600
    assert "-check 10: ok" in second.split("\n") and "+check 10: ok" not in third.split("\n")
    assert retrieve(optimizer, only(HANDLE.findall(third))) == "\n".join(run3)


def test_short_outputs_and_other_tools_near_copies_are_not_deduplicated(optimizer):
    similar = "\n".join(f"alpha {i}" for i in range(100))
    request = session("x", [("Bash", {"command": "a"}, "ok")], [("Bash", {"command": "a"}, "ok")],
                      [("Read", {"file_path": "/a"}, similar)], [("Bash", {"command": "b"}, similar + "\nbeta")])
    answer = optimize(optimizer, request, ["context_dedupe"])
    assert results(answer["request"]) == results(request)
    assert {"kind": "context_dedupe", "reason": "would_not_pay_back"} in answer["skipped"]


# ----------------------------------------------------------------------------------------------- command_digest

def elided(marker: str) -> int:
    """How many lines (or units) a marker says it stands for: its count (`12 passing/progress lines`), or,
    for a run of lines that is its own count, its span (`log lines 40-51`, `body, lines 7-9`)."""
    what = marker.split("[anyray: ", 1)[1]
    if what[:1].isdigit():
        return int(what.split(" ")[0].replace(",", ""))
    m = re.search(r"lines (\d+)-(\d+)|line (\d+)", what)
    assert m is not None, marker
    return int(m.group(2)) - int(m.group(1)) + 1 if m.group(1) else 1


def test_test_runs_keep_failures_tracebacks_and_summary_and_count_passes(optimizer):
    log = pytest_log("unit", 300)
    request = session("run the tests", [("Bash", {"command": "pytest -v"}, log)])
    (out,) = results(optimize(optimizer, request, ["command_digest"])["request"])
    kept = out.split("\n")
    for line in log.split("\n"):
        if "PASSED" not in line:
            assert line in kept, line  # everything that is not a pass line stays, verbatim and in order
    counted = sum(elided(line) for line in kept if line.startswith("[anyray: "))
    assert counted == log.count(" PASSED") == 299
    assert "E       AssertionError: assert 999 == 1000" in kept and kept[-1].startswith("=====")
    # the passing tests' names are facts ("which test covers X?"): the marker lists them, up to 200 a run
    names = [line.split("::")[1].split(" ")[0] for line in log.split("\n") if " PASSED" in line]
    assert sum(name in out for name in names) >= 200 and len(out) < len(log) * 0.25
    assert retrieve(optimizer, only(HANDLE.findall(out))) == log


def test_prose_is_not_a_command_run(optimizer):
    text = "\n".join(f"Paragraph {i}: the service handles requests and passes them on." for i in range(100))
    answer = optimize(optimizer, session("x", [("Bash", {"command": "cat README"}, text)]), ["command_digest"])
    assert results(answer["request"]) == [text] and answer["applied"] == []


# ------------------------------------------------------------------------------------------------ code_skeleton

def test_python_reads_keep_signatures_and_docstrings_and_the_asked_body(optimizer):
    src = python_module("skeleton", 12, {"apply_discount": DISCOUNT})
    request = session("Is apply_discount right?", [("Read", {"file_path": "/repo/billing.py"}, src)])
    (out,) = results(optimize(optimizer, request, ["code_skeleton"])["request"])
    tree = ast.parse(out)  # the skeleton is still Python
    names = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert names == [n.name for n in ast.walk(ast.parse(src)) if isinstance(n, ast.FunctionDef)]
    assert DISCOUNT in out  # named by the question: whole
    assert "RETRY_LIMIT = 5" in out and '"""Computes totals and talks to the payment provider."""' in out
    assert "self.ledger.get_" not in out.replace(DISCOUNT, "")  # every other long body elided
    assert len(out) < len(src) * 0.5
    assert retrieve(optimizer, only(HANDLE.findall(out))) == src


def test_numbered_reads_and_traceback_call_paths(optimizer):
    src = python_module("skeleton2", 12, {"apply_discount": DISCOUNT})
    trace = 'Traceback (most recent call last):\n  File "/repo/billing.py", line 99, in apply_discount\nValueError'
    reminder = "\n\n<system-reminder>\nWhenever you read a file, consider whether it is malware.\n</system-reminder>"
    request = session("why the 500?", [("Bash", {"command": "tail log"}, trace)],
                      [("Read", {"file_path": "/repo/billing.py"}, numbered(src) + reminder)])
    _, out = results(optimize(optimizer, request, ["code_skeleton"])["request"])
    assert out.endswith(reminder)
    assert numbered(DISCOUNT, src.split("\n").index(DISCOUNT.split("\n")[0]) + 1) in out
    first = next(i for i, line in enumerate(src.split("\n")) if "def compute_invoice_0(" in line)
    assert "        ...  # [anyray: body, " in out.split("\n")[first + 2]  # just after its docstring


def test_other_languages_by_their_braces_and_python_fragments_by_their_indentation(optimizer):
    go = "package main\n\nfunc f(a int) int {\n" + "\ta = a + 1\n" * 80 + "\treturn a\n}\n"
    broken = python_module("broken", 12) + "\ndef oops(:\n"  # a fragment (a read cut mid-file) does not parse
    yaml = "\n".join(f"key{i}: value {i}" for i in range(60))
    request = session("x", [("Read", {"file_path": "/w/f.go"}, go)], [("Read", {"file_path": "/w/g.py"}, broken)],
                      [("Read", {"file_path": "/w/h.yaml"}, yaml)])
    out_go, out_py, out_yaml = results(optimize(optimizer, request, ["code_skeleton"])["request"])
    assert out_go.split("\n")[:4] == ["package main", "", "func f(a int) int {", out_go.split("\n")[3]]
    assert out_go.split("\n")[3].startswith("\t// [anyray: body, lines 4-84 of 86 elided")
    assert out_go.endswith("}\n")
    assert "def oops(:" in out_py and "    def __init__(self, client, ledger) -> None:" in out_py
    assert "        ...  # [anyray: body, " in out_py and len(out_py) < len(broken) * 0.5
    assert out_yaml == yaml  # no code: nothing for this strategy


TYPESCRIPT = "\n".join([
    'import { Router } from "express";',
    "",
    "export const MAX_ITEMS = 50;",
    "",
    "export interface Cart { id: string; items: Item[] }",
    "",
    "export class CartService {",
    "  constructor(private readonly db: Db) {}",
    "",
    "  async total(cart: Cart, coupon?: string): Promise<number> {",
    *[f"    const line{i} = cart.items[{i}]?.price ?? 0;" for i in range(12)],
    "    return line0 + line1;",
    "  }",
    "",
    "  applyCoupon(total: number, coupon: string): number {",
    *[f"    if (coupon === \"C{i}\") return total * 0.9;" for i in range(10)],
    "    return total;",
    "  }",
    "}",
    "",
    "export const handler = async (req: Request): Promise<Response> => {",
    *[f"  console.log(\"step {i}\");" for i in range(20)],
    "  return new Response(\"ok\");",
    "};",
    "",
])


def test_typescript_reads_keep_declarations_and_signatures(optimizer):
    request = session("Is applyCoupon right?", [("Read", {"file_path": "/w/cart.ts"}, numbered(TYPESCRIPT))])
    (out,) = results(optimize(optimizer, request, ["code_skeleton"])["request"])
    kept = out.split("\n")
    for line in ("export const MAX_ITEMS = 50;", "export class CartService {",
                 "  async total(cart: Cart, coupon?: string): Promise<number> {",
                 "export const handler = async (req: Request): Promise<Response> => {",
                 '    if (coupon === "C7") return total * 0.9;'):  # applyCoupon is asked about: whole
        assert any(k.endswith("→" + line) for k in kept), line
    assert "    // [anyray: body, lines 11-23 of 64 elided; anyray_retrieve handle h_" in out
    assert "  // [anyray: body, lines 42-62 elided]" in out and "step 7" not in out and "line5" not in out
    assert retrieve(optimizer, only(HANDLE.findall(out))) == numbered(TYPESCRIPT)


def _allman(kind: str, n: int) -> str:
    """A file whose bodies open on a line of their own (C#, PHP's PSR-12 methods, C functions)."""
    head = {"cs": ["namespace Billing", "{", "    public class Ledger", "    {"],
            "php": ["<?php", "final class Ledger", "{"], "c": ['#include "ledger.h"', ""]}[kind]
    sig = {"cs": "        public decimal Post{i}(Entry e, decimal rate)",
           "php": "    public function post{i}(Entry $e, float $rate): float",
           "c": "static double\npost{i}(struct entry *e, double rate)"}[kind]
    out = list(head)
    for i in range(n):
        pad = "" if kind == "c" else "    " * (2 if kind == "cs" else 1)
        out += [*sig.format(i=i).split("\n"), pad + "{", pad + "    double total = 0;",
                pad + f"    for (int k = 0; k < {i + 3}; k++)", pad + "    {",
                pad + "        total += e->amount * rate + k;  // running sum of the posted amounts", pad + "    }",
                pad + f"    if (total > {1000 + i})", pad + "    {",
                pad + "        total = total - e->fee;", pad + "    }",
                pad + "    total = total * 1.0;  // normalised before it goes back to the caller",
                pad + "    return total;  // the posted value, after the fee", pad + "}", ""]
    return "\n".join(out + {"cs": ["    }", "}"], "php": ["}"], "c": []}[kind]) + "\n"


def test_bodies_that_open_on_their_own_line_are_bodies_too(optimizer):
    for kind in ("cs", "php", "c"):
        text = _allman(kind, 12)
        request = session("Why is post7 off by one?", [("Read", {"file_path": f"/w/ledger.{kind}"}, text)])
        (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
        spans = [elided(x) for x in out.split("\n") if "// [anyray: body, " in x]
        assert spans == [11] * 11, (kind, out)  # every body but the asked one
        for i in range(12):  # every signature stays, and the asked body whole, its loop and branch with it
            assert f"ost{i}(" in out, (kind, i)
        asked = out[out.index("ost7("):]
        assert "for (int k = 0; k < 10; k++)" in asked and "if (total > 1007)" in asked
        assert "for (int k = 0; k < 4; k++)" not in out  # post1's own loop went with its body
        assert retrieve(optimizer, only(HANDLE.findall(out))) == text
        assert len(out) < len(text) * 0.5, kind


def test_kotlin_and_scala_functions_are_bodies(optimizer):
    body = ["    val fee = amount * rate / 100.0  // the posted fee, before rounding to cents",
            "    val rounded = Math.round(fee * 100.0) / 100.0", "    log(\"posting $amount at $rate\")",
            "    return amount - rounded  // what is left for the ledger after the fee"]
    for kind, sig in (("kt", "fun post{i}(amount: Double, rate: Double): Double {"),
                      ("scala", "def post{i}(amount: Double, rate: Double): Double = {")):
        text = "\n".join(line for i in range(8) for line in (sig.replace("{i}", str(i)), *body, "}", "")) + "\n"
        request = session("Why is post3 off by a cent?", [("Read", {"file_path": f"/w/Ledger.{kind}"}, text)])
        (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
        spans = [elided(x) for x in out.split("\n") if "// [anyray: body, " in x]
        assert spans == [4] * 7, (kind, out)
        assert all(sig.replace("{i}", str(i)) in out for i in range(8)), kind
        assert out.count("val fee = amount") == 1 and out.index("post3(") < out.index("val fee = amount"), kind
        assert retrieve(optimizer, only(HANDLE.findall(out))) == text


# --------------------------------------------------------------------------------------------- relevance_filter

def test_relevance_keeps_the_best_lines_and_leaves_no_hit_outputs_alone(optimizer):
    lines = [f"doc {i}: the pooler forwards queries to a server connection" for i in range(400)]
    lines[321] = "doc 321: reserve_pool_timeout defaults to 5 seconds"
    text = "\n".join(lines)
    request = session("What is reserve_pool_timeout?", [("WebFetch", {"url": "https://docs"}, text)],
                      [("WebFetch", {"url": "https://other"}, text.replace("reserve_pool_timeout", "knob"))])
    answer = optimize(optimizer, request, ["relevance_filter"])
    hit, miss = results(answer["request"])
    assert lines[321] in hit.split("\n") and lines[0] in hit.split("\n") and len(hit) < len(text) * 0.1
    assert miss == text.replace("reserve_pool_timeout", "knob")  # no lexical hit: untouched, not guessed
    assert retrieve(optimizer, only(HANDLE.findall(hit))) == text


# ------------------------------------------------------------------------------------------------ durable_blobs

def test_a_huge_manifest_is_externalised_with_its_answer_lines(optimizer):
    docs = []
    for i in range(520):
        image = "registry.internal/payments:v2.3.1" if i == 313 else f"registry.internal/svc-{i}:v1.0.{i}"
        docs.append(f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{i}\nspec:\n  replicas: 2\n"
                    f"  template:\n    spec:\n      containers:\n      - name: app\n        image: {image}")
    manifest = "\n".join(docs)
    assert len(manifest) > 100_000
    request = session("Which image does the payments deployment use?",
                      [("Bash", {"command": "kubectl get deploy -A -o yaml"}, manifest)])
    (out,) = results(optimize(optimizer, request, ["durable_blobs"])["request"])
    assert out.startswith(f"[anyray: a {len(manifest) // 1024} KB text ({manifest.count(chr(10)) + 1} lines) was "
                          "externalised;")
    assert "        image: registry.internal/payments:v2.3.1" in out.split("\n") and len(out) < 4000
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == manifest


# --------------------------------------------------------------------------------------------------- the defaults

def test_defaults_run_the_four_default_content_strategies_before_prompt_cache(optimizer):
    caps = optimizer.capabilities()["strategies"]
    kinds = [s["kind"] for s in caps]
    assert kinds.index("context_compression") < kinds.index("prompt_cache")
    defaults = {s["kind"] for s in caps if s["default"]}
    assert {"context_dedupe", "command_digest", "context_compression", "durable_blobs"} <= defaults
    assert not {"code_skeleton", "relevance_filter"} & defaults
    request = session("run tests", [("Bash", {"command": "pytest -v"}, pytest_log("d", 200))])
    answer = optimize(optimizer, request, None)
    assert "command_digest" in answer["applied"] and "code_skeleton" not in answer["applied"]
    decisions = orjson.dumps(answer["decisions"]).decode()
    assert "test_proration_rounding" not in decisions and "PASSED" not in decisions  # content-free
    # a request with no tool output does not list the content strategies as skipped
    plain = optimize(optimizer, {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]},
                     None)
    assert not {s["kind"] for s in plain["skipped"]} & {"context_dedupe", "command_digest", "context_compression",
                                                        "durable_blobs"}


def apply_unified(earlier: str, hunks: str) -> str:
    """Apply the hunks of a unified diff (as context_dedupe writes them) to `earlier`."""
    old, out, at = earlier.split("\n"), [], 0
    for line in hunks.split("\n"):
        if line.startswith("@@"):
            first, _, count = line.split(" ")[1][1:].partition(",")  # "-12,3"; "-12,0" means after line 12
            start = int(first) if count == "0" else int(first) - 1
            out += old[at:start]
            at = start
        elif line.startswith("-"):
            at += 1
        elif line.startswith("+"):
            out.append(line[1:])
        elif line.startswith(" "):
            out.append(old[at])
            at += 1
    return "\n".join(out + old[at:])


def test_rerun_diffs_apply_back_to_the_rerun_on_both_paths():
    import random

    from anyray.server.optimizer.strategies.context_dedupe import delta

    r = random.Random(7)
    for trial in range(400):
        a = [f"line {r.randint(0, 6)}" for _ in range(r.randint(1, 50))]
        if trial % 2:  # same shape, values changed: the linear path
            b = [x if r.random() < 0.8 else f"line {r.randint(0, 6)}" for x in a]
        else:  # lines inserted and removed: difflib
            b = [x for x in a if r.random() < 0.85] + [f"new {i}" for i in range(r.randint(0, 3))]
        for context in (0, 1, 3):
            assert apply_unified("\n".join(a), delta("\n".join(a), "\n".join(b), context)) == "\n".join(b)


# --------------------------------------------------------------------------------------------------- code_graph

CALL_PATH = '''
def _round_cents(value: float) -> int:
    """Banker's rounding to whole cents."""
    whole_cents = int(value)  # ties go to the even cent, so that sums of many charges do not drift upward
    fraction_of_a_cent = value - whole_cents
    if fraction_of_a_cent > 0.5:
        whole_cents += 1
    elif fraction_of_a_cent == 0.5 and whole_cents % 2:
        whole_cents += 1
    return whole_cents


def _unused_helper(x: int) -> int:
    first_intermediate_value = x + 1
    second_intermediate_value = first_intermediate_value * 2
    third_intermediate_value = second_intermediate_value - 3
    fourth_intermediate_value = third_intermediate_value // 4
    fifth_intermediate_value = fourth_intermediate_value % 5
    return fifth_intermediate_value


def charge(amount: float, fee_rate: float) -> int:
    """Charge with the fee added."""
    fee = amount * fee_rate
    total = amount + fee
    if total < 0:
        raise ValueError("negative")
    cents = _round_cents(total * 100)
    return cents
''' + "\n".join(
    f"\n\ndef filler_{i}(x: int) -> int:\n" + "\n".join(f"    x += len('padding text {j}' * {j})" for j in range(12))
    + "\n    return x"
    for i in range(6))


def test_code_graph_keeps_the_call_path_and_skeleton_does_not(optimizer):
    request = session("Why is charge off by one cent?", [("Read", {"file_path": "/r/pay.py"}, CALL_PATH)])
    (graph,) = results(optimize(optimizer, request, ["code_graph"])["request"])
    (skeleton,) = results(optimize(optimizer, request, ["code_skeleton"])["request"])
    assert "    cents = _round_cents(total * 100)" in graph and "    cents = _round_cents(total * 100)" in skeleton
    assert "    elif fraction_of_a_cent == 0.5 and whole_cents % 2:" in graph  # called by charge: kept
    assert "    elif fraction_of_a_cent == 0.5 and whole_cents % 2:" not in skeleton
    assert "first_intermediate_value = x + 1" not in graph and "padding text 3" not in graph  # not on the path
    ast.parse(graph)


def test_short_bodies_and_shapeless_config_are_left_byte_for_byte(optimizer):
    source = "def f():\n    return 1   \n\n\n\n\n" * 40 + '{"not": "json here"}'
    config = json.dumps({"a": [1] * 100}, indent=2)
    request = session("x", [("read_file", {"path": "/r/f.py"}, source)], [("view", {"path": "/r/c.json"}, config)])
    answer = optimize(optimizer, request, ["context_compression"])
    assert results(answer["request"]) == [source, config] and answer["applied"] == []
    assert {"kind": "context_compression", "reason": "would_not_pay_back"} in answer["skipped"]


def test_odd_shapes_are_handled_not_crashed_on(optimizer):
    big = "\n".join(f"row {i} value {i * 7}" for i in range(400))
    odd = {"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": None},
        "not a message",
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": "raw"},
                                          "stray string", {"type": "tool_use", "id": "toolu_2", "name": "Read"}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
                {"type": "text", "text": big}, {"type": "text"}, "x"]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True, "content": big,
             "cache_control": {"type": "ephemeral"}},
            {"type": "tool_result", "tool_use_id": "toolu_9"}]},
        {"role": "tool", "tool_call_id": None, "content": [{"type": "text", "text": big}]},
    ]}
    answer = optimize(optimizer, copy.deepcopy(odd), CONTENT_KINDS)
    assert not [s for s in answer["skipped"] if "internal error" in s["reason"]]
    sent = answer["request"]["messages"]
    assert sent[0] == odd["messages"][0] and sent[1] == odd["messages"][1] and sent[2] == odd["messages"][2]
    first, second, third = sent[3]["content"]
    assert first["content"][0] == odd["messages"][3]["content"][0]["content"][0]  # the image, untouched
    assert first["content"][2:] == [{"type": "text"}, "x"] and len(first["content"][1]["text"]) < len(big)
    assert second["is_error"] is True and second["cache_control"] == {"type": "ephemeral"}
    assert third == {"type": "tool_result", "tool_use_id": "toolu_9"}
    assert len(sent[4]["content"][0]["text"]) < len(big)
