"""Records written as markup: an XML document's repeated elements and a YAML stream's documents or list
items are kept or elided whole, like JSON records; wrappers around documents (RAG chunks) are not records."""

from __future__ import annotations

from tests.content.conftest import HANDLE, openai_session, optimize, results, retrieve, session


def junit(n: int, failing: int) -> str:
    cases = []
    for i in range(n):
        name = f'classname="com.acme.LedgerTest" name="posts_entry_{i}" time="0.{10 + i % 80}"'
        if i == failing:
            cases += [f"    <testcase {name}>",
                      '      <failure message="expected 300 but was 301" type="AssertionError">AssertionError',
                      f"        at com.acme.LedgerTest.posts_entry_{i}(LedgerTest.java:{40 + i})",
                      "      </failure>", "    </testcase>"]
        else:
            cases.append(f"    <testcase {name}/>")
    return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>",
                      f'  <testsuite name="com.acme.LedgerTest" tests="{n}" failures="1">', *cases,
                      "  </testsuite>", "</testsuites>"]) + "\n"


def test_a_junit_report_keeps_the_failing_testcase_whole_and_elides_the_passing_ones_as_one_run(optimizer):
    report = junit(300, 187)
    request = openai_session("Which test failed?", [("cat", {"path": "build/test-results/TEST-ledger.xml"}, report)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert len(out) < len(report) * 0.1
    lines = out.split("\n")
    failing = lines.index('    <testcase classname="com.acme.LedgerTest" name="posts_entry_187" time="0.37">')
    assert lines[failing: failing + 5] == report.split("\n")[190:195]  # the element, byte for byte
    assert lines[:4] == report.split("\n")[:4] and lines[-3:] == ["  </testsuite>", "</testsuites>", ""]
    markers = [x for x in lines if "[anyray:" in x]
    assert markers[0].startswith("    [anyray: 186 <testcase> elements (lines 5-190 of 310) elided; anyray_retrieve")
    assert markers[1] == "    [anyray: 111 <testcase> elements (lines 196-306) elided]" and len(markers) == 2
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == report


def manifests(n: int, odd: int) -> str:
    docs = []
    for i in range(n):
        tag = "latest" if i == odd else f"1.{i}.0"
        docs.append("\n".join(["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: api-{i}",
                               "  namespace: shop", "spec:", f"  replicas: {2 + i % 2}", "  template:", "    spec:",
                               "      containers:", f"      - name: api-{i}",
                               f"        image: registry.shop/api-{i}:{tag}", "        ports:",
                               "        - containerPort: 8080"]))
    return "\n---\n".join(docs) + "\n"


def test_a_yaml_stream_keeps_whole_documents_and_the_one_unlike_its_peers(optimizer):
    text = manifests(40, 23)
    request = session("Which of these deployments could pull a different build on every restart?",
                      [("Bash", {"command": "kubectl get deploy -o yaml"}, text)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert len(out) < len(text) * 0.3
    assert "  name: api-23\n  namespace: shop\n" in out and "image: registry.shop/api-23:latest" in out
    assert "name: api-17\n" not in out  # an ordinary one went, whole
    assert all(x.startswith(("apiVersion", "kind", "metadata", "spec", " ", "---", "[anyray:", ""))
               for x in out.split("\n"))  # nothing cut mid-document
    assert "[anyray: 22 documents (spec.replicas: 3 11, 2 11) (lines 15-344 of 600) elided; " in out
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == text


def test_a_yaml_list_of_items_is_records_too(optimizer):
    items = "\n".join(f"- name: job-{i}\n  schedule: '*/5 * * * *'\n  status: {'Failed' if i == 31 else 'Complete'}\n"
                      f"  duration: {40 + i % 7}s" for i in range(60))
    text = "apiVersion: batch/v1\nitems:\n" + items + "\nkind: List\n"
    request = session("Why is the nightly run red?", [("Bash", {"command": "kubectl get jobs -o yaml"}, text)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert "- name: job-31\n  schedule: '*/5 * * * *'\n  status: Failed\n" in out
    assert out.endswith("\nkind: List\n") and out.startswith("apiVersion: batch/v1\nitems:\n- name: job-0\n")
    # one marker per elided run, counting its items by their status (the longest run took the handle)
    assert "[anyray: 30 items (status: Complete 30) (lines 7-126 of 244) elided; anyray_retrieve handle" in out
    assert len(out) < len(text) * 0.3


SERVICES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def test_chunks_of_prose_in_tags_are_not_records(optimizer):
    chunks = "\n\n".join(f'<chunk source="kb/{i}.md">\nThe {w} service keeps its data for {i + 3} days and pages the '
                         f"on-call after {i + 1} failed checks in a row; owners can raise both limits.\n</chunk>"
                         for i, w in enumerate(SERVICES))
    request = session("How long does the theta service keep its data?", [("search", {"q": "retention"}, chunks)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert "elements" not in out  # whatever the prose path does with them, the markup path left them alone
