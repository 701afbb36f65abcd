"""Markers are true: on both workload sets, every marker's handle returns an original byte for byte, the
line numbers it cites exist in that original, and the handle is said once per piece (issue 21, item 3)."""

from __future__ import annotations

import re

import orjson
import pytest
from benchmarks.heldout import load_all as heldout
from benchmarks.workloads import load_all as workloads

from anyray.server.gateway.retrieve.tool import select
from anyray.server.optimizer.content.pieces import pieces
from tests.content.conftest import HANDLE, make_optimizer, optimize, retrieve

SPAN = re.compile(r"\((?:lines (\d+)-(\d+)|line (\d+))(?: of ([\d,]+))?\)")


@pytest.mark.parametrize("load", [workloads, heldout], ids=["workloads", "heldout"])
def test_every_marker_cites_lines_that_exist_in_what_retrieve_returns(load):
    optimizer = make_optimizer()
    checked = 0
    for w in load():
        sent = optimize(optimizer, w.request, None, w.endpoint)["request"]
        originals = {p.text for p in pieces(w.request)}
        for piece in pieces(sent):
            handles = HANDLE.findall(piece.text)
            if not handles or "[anyray:" not in piece.text:
                continue
            # one piece, one handle, said once (masking a whole result may add an outer one of its own)
            assert len(set(handles)) == 1 and len(handles) == 1, (w.name, handles)
            original = retrieve(optimizer, handles[0])
            assert original in originals, w.name  # byte for byte: a text the request held
            total = original.count("\n") + 1
            for line in piece.text.split("\n"):
                if "[anyray:" not in line:
                    continue
                for m in SPAN.finditer(line[line.index("[anyray:"):]):
                    first, last = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(3)),) * 2
                    assert 1 <= first <= last <= total, (w.name, line)
                    if m.group(4):
                        assert int(m.group(4).replace(",", "")) == total, (w.name, line)
                    cited = select(original, None, f"{first}-{last}")
                    wanted = original.split("\n")[first - 1]
                    assert cited.split("\n")[0] == f"{first}: {wanted}"  # what the tool answers for that range
                    checked += 1
            if "re-run of" in piece.text:
                continue  # context_dedupe: a diff against an earlier copy stands in for the text
            if total < 20 and original.lstrip()[:1] in "{[":
                continue  # durable_blobs lays a one-line JSON out to read it by line (its markers cite none)
            kept = [x for x in piece.text.split("\n") if "[anyray:" not in x]
            lines = set(original.split("\n"))
            # every kept line is a line of the original, as it was (a capped blob line keeps its two ends)
            assert all(x in lines or len(x) > 1000 for x in kept), w.name
    assert checked > 50


def test_retrieve_answers_a_query_with_numbered_lines_of_the_original():
    text = "\n".join(f"row {i} ok" for i in range(50)) + "\nrow 50 FAILED checksum\nrow 51 ok"
    assert select(text, "failed checksum", None) == "51: row 50 FAILED checksum"
    assert select(text, None, "2-3") == "2: row 1 ok\n3: row 2 ok"
    assert select(text, None, "60-70").startswith("no such lines")
    assert select(text, "nothing like this", None).startswith("no line of the original")
    assert orjson.dumps(select(text, None, None)) == orjson.dumps(text)
