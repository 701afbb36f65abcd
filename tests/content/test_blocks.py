"""A list of look-alike blocks that read as different kinds (a `terraform plan`'s resources: some read as
prose, some as braces): each block is a record, kept or elided whole, and the list comes back byte for byte."""

from __future__ import annotations

import re

from anyray.server.optimizer.content.segments import split
from tests.content.conftest import HANDLE, optimize, results, retrieve, session


def plan(n: int, replaced: int) -> str:
    """A plan of `n` resource changes; one must be replaced (the others are created or updated in place)."""
    out = ["Terraform will perform the following actions:", ""]
    for i in range(n):
        if i == replaced:
            out += ['  # aws_db_instance.reporting must be replaced', '-/+ resource "aws_db_instance" "reporting" {',
                    '      ~ identifier = "reporting-db" -> "reporting-db-v15" # forces replacement',
                    "        # (41 unchanged attributes hidden)", "    }", ""]
        elif i % 3 == 0:  # attributes only: reads as prose
            out += [f"  # aws_sqs_queue.queue_{i} will be updated in-place",
                    f'  ~ resource "aws_sqs_queue" "queue_{i}" {{',
                    f'        id   = "q{i:04d}"', f"      ~ visibility_timeout_seconds = {i} -> {i + 30}",
                    "        # (12 unchanged attributes hidden)", "    }", ""]
        else:  # nested braces and brackets: reads as code
            out += [f"  # aws_iam_role_policy.policy_{i} will be updated in-place",
                    f'  ~ resource "aws_iam_role_policy" "policy_{i}" {{', f'        id   = "p{i:04d}"',
                    "      ~ policy = jsonencode(", "          ~ {", "              ~ Statement = [",
                    f'                  + "arn:aws:s3:::bucket-{i}/*",', "                ]", "            }",
                    "        )", "    }", ""]
    out.append(f"Plan: 0 to add, {n - 1} to change, 0 to destroy.")
    return "\n".join(out)


def test_the_blocks_of_a_plan_are_one_list_of_records():
    lines = plan(40, 23).split("\n")
    kinds = {s.kind for s in split(lines)}
    assert "blocks" in kinds and not kinds & {"code"}, kinds


def test_the_block_the_question_points_at_stays_whole_and_the_rest_go_as_whole_blocks(optimizer):
    text = plan(40, 23)
    request = session("Before I apply this: is the plan going to delete or recreate anything?",
                      [("Bash", {"command": "terraform plan"}, text)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    start = text.index("  # aws_db_instance.reporting")
    replaced = text[start: text.index("    }", start) + 5]
    assert replaced in out  # the replacement, whole
    assert text.split("\n")[-1] in out  # the plan's summary line
    assert len(out) < len(text) * 0.4
    markers = re.findall(r"\[anyray: [^\]]*\]", out)
    assert markers and all(re.search(r"the rest of the (?:\d+ blocks|block) above \(lines? \d+", m) for m in markers)
    # every block's first line stays (it names the resource); an elided block loses the rest, whole
    headers = [x for x in text.split("\n") if x.startswith("  # aws_")]
    assert len(headers) == 40 and all(f"{x}\n" in out for x in headers)
    bodies = [f'"arn:aws:s3:::bucket-{i}/*"' for i in range(40) if i % 3 and i != 23]
    assert not any(b in out for b in bodies)  # none of the ordinary policies stays whole ...
    assert "visibility_timeout_seconds = 0 -> 30" in out and "visibility_timeout_seconds = 39 -> 69" in out  # ... but
    # the first and the last block (they show the list's shape)
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == text
