"""Logs where trouble is everywhere, `git log` output, and question words that name the whole log: each
kept or elided by whole entries, and everything elided comes back byte for byte."""

from __future__ import annotations

from tests.content.conftest import HANDLE, openai_session, optimize, results, retrieve, session


def access_log(n: int, special: int) -> str:
    """An ingress log where a third of the requests fail in one of three ways, and one request is the one
    the question is about."""
    lines = []
    for i in range(n):
        status, flag = [(200, "-"), (200, "-"), (503, "UF"), (429, "RL"), (200, "-"), (404, "NR")][i % 6]
        rid = f"{i:08x}-7d2f-4b1c-9e0a-{i * 7919 % 10**12:012d}"
        path = "/v1/cart/checkout" if i % 2 else "/v1/profile"
        if i == special:
            status, flag, path, rid = 504, "UT", "/v1/stock/reserve", "3b6f0d7e-91c4-4d5a-b2e8-5f0a7c1d9e42"
        lines.append(f'[2025-03-11T09:{i // 60 % 60:02d}:{i % 60:02d}.000Z] "POST {path} HTTP/2" {status} {flag} '
                     f'"{rid}" "inventory.svc.cluster.local" "10.1.{i % 30}.{i % 200}:8080"')
    return "\n".join(lines) + "\n"


def test_when_trouble_is_everywhere_a_few_of_each_kind_stay_and_the_asked_entry_stays_whole(optimizer):
    log = access_log(600, 377)
    request = session("Which request reserving stock timed out with a 504, and what was its request id?",
                      [("Bash", {"command": "kubectl logs deploy/ingress"}, log)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    lines = log.split("\n")
    assert lines[377] in out.split("\n")  # the one asked about, byte for byte
    assert lines[376] in out.split("\n")  # and the entry before it: what led to it
    kept = [x for x in out.split("\n") if x and "[anyray:" not in x]
    for status in (" 503 UF ", " 429 RL ", " 404 NR "):  # every kind of trouble is still shown ...
        assert sum(1 for x in kept if status in x) >= 2
    failing = sum(1 for x in lines if any(s in x for s in (" 503 ", " 429 ", " 404 ")))
    assert failing == 299  # one of the 300 is the 504
    assert sum(1 for x in kept if any(s in x for s in (" 503 ", " 429 ", " 404 "))) < 40  # ... not all 299
    assert len(out) < len(log) * 0.15
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == log


def test_a_few_troubled_entries_all_stay(optimizer):
    log = "\n".join(line for i, line in enumerate(access_log(600, 377).split("\n"))
                    if not any(s in line for s in (" 503 ", " 429 ", " 404 ")) or i % 60 == 2)
    request = session("Anything odd in the ingress log?", [("Bash", {"command": "kubectl logs deploy/ingress"}, log)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    troubled = [x for x in log.split("\n") if any(s in x for s in (" 503 ", " 429 ", " 404 ", " 504 "))]
    assert 5 <= len(troubled) <= 24
    assert all(x in out.split("\n") for x in troubled)
    entries = log.split("\n")  # and trouble keeps the entry before it: what led to it
    assert all(entries[entries.index(x) - 1] in out.split("\n") for x in troubled)


def test_when_the_question_points_into_the_trouble_a_few_of_each_other_kind_stay(optimizer):
    """The question names the 504 and its id: of the other troubled entries (fewer than would count as
    trouble everywhere) each kind is told by its first two and last, not every one."""
    log = "\n".join(line for i, line in enumerate(access_log(600, 377).split("\n"))
                    if not any(s in line for s in (" 503 ", " 429 ", " 404 ")) or i % 120 in (2, 3, 5))
    troubled = [x for x in log.split("\n") if any(s in x for s in (" 503 ", " 429 ", " 404 "))]
    assert len(troubled) == 15  # five of each kind: fewer than would count as trouble everywhere
    request = session("What is the request id of the 504 that timed out reserving stock?",
                      [("Bash", {"command": "kubectl logs deploy/ingress"}, log)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    kept = out.split("\n")
    assert next(x for x in log.split("\n") if " 504 UT " in x) in kept
    for status in (" 503 UF ", " 429 RL ", " 404 NR "):
        among = [x for x in troubled if status in x]
        assert 2 <= sum(1 for x in among if x in kept) <= 3 < len(among)
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == log


def git_log(n: int) -> str:
    commits = []
    for i in range(n):
        message = ("auth: allow embedding the dashboard in partner iframes" if i == 41
                   else f"billing: tidy invoice export step {i}")
        commits.append("\n".join([
            f"commit {i * 2654435761 % 16**40:040x}", f"Author: Dev {i} <dev{i}@example.com>",
            f"Date:   Sat Nov {1 + i % 28} 10:16:52 2024 +0100", "", f"    {message}", "",
            f" src/server/file{i}.ts | {i % 9 + 1} +++--", ""]))
    return "\n".join(commits)


def test_git_log_output_is_kept_and_elided_by_whole_commits(optimizer):
    log = git_log(80)
    request = openai_session("Which commit let the dashboard be embedded in iframes, and who wrote it?",
                             [("git", {"args": "log --stat -80"}, log)])
    (out,) = results(optimize(optimizer, request, ["context_compression"], "/v1/chat/completions")["request"])
    block = log.split("\n")[41 * 8: 41 * 8 + 7]
    assert "\n".join(block) in out  # hash, author, date and message together
    markers = [x for x in out.split("\n") if "[anyray:" in x]
    assert markers and all(" commits (lines " in x or " commit (line" in x for x in markers)
    assert len(out) < len(log) * 0.2
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == log


def test_a_question_word_on_many_entries_does_not_keep_them_all(optimizer):
    """`retried` is on one entry in twenty of this log: a theme of the log, not a pointer at an entry."""
    lines = [f"2025-03-11T09:{i // 60:02d}:{i % 60:02d}Z INFO inventory reserve sku=SKU-{i:05d} ok in {i % 90} ms"
             + (" (retried once)" if i % 20 == 7 else "") for i in range(400)]
    lines[250] = "2025-03-11T09:04:10Z INFO inventory reserve sku=SKU-00250 slow path taken in 4100 ms"
    log = "\n".join(lines) + "\n"
    request = session("Which reservation was retried and took the slow path?",
                      [("Bash", {"command": "cat app.log"}, log)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert lines[250] in out.split("\n")
    assert sum(1 for x in lines if "retried" in x) == 20
    assert sum(1 for x in out.split("\n") if "retried" in x) < 12
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == log


def test_each_line_has_its_own_level_even_when_a_level_field_ends_the_line_above():
    from anyray.server.optimizer.content.logs import levels

    lines = ["ts=1 msg=start lvl=", "level=warn msg=disk at 91%", "2026-12-07T10:00:00Z ERROR pool exhausted",
             "no level here", "", '{"severity":"Fatal","msg":"x"}', "x" * 250 + " INFO too far in to count"]
    assert levels(lines) == ["", "WARN", "ERROR", "", "", "FATAL", ""]
    assert levels(lines) == [levels([line])[0] for line in lines]  # no line reads another's


def json_log(n: int) -> str:
    """Payment-service JSON lines: a warning on every fifth record (a challenge, nothing failed), two
    declines at error level."""
    out = []
    for i in range(n):
        level, msg = ("warn", "3ds challenge required") if i % 5 == 3 else ("info", "charge authorized")
        if i in (61, 143):
            level, msg = "error", "charge declined by processor"
        code = '"do_not_honor"' if level == "error" else "null"
        out.append(f'{{"ts":"2025-03-11T13:{i // 60 % 60:02d}:{i % 60:02d}.000Z","level":"{level}",'
                   f'"svc":"payments-api","order_id":"ord_{i * 7919 % 10**6:06d}","msg":"{msg}",'
                   f'"amount_minor":{1000 + i * 37 % 5000},"decline_code":{code}}}')
    return "\n".join(out)


def test_json_log_records_where_warnings_are_common_keep_a_few_of_them_and_every_error(optimizer):
    log = json_log(200)
    request = session("Which orders failed to charge in that window, and what was the decline reason?",
                      [("Bash", {"command": "logcli query '{app=\"payments-api\"}'"}, log)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    kept = out.split("\n")
    records = log.split("\n")
    assert records[61] in kept and records[143] in kept  # every error, whole
    warnings = [x for x in records if '"level":"warn"' in x]
    assert len(warnings) == 39  # (one fifth of 200, but for the error at 143)
    assert 2 <= sum(1 for x in warnings if x in kept) <= 4  # a few of the common kind, not all forty
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == log


def goroutine_dump(n: int) -> str:
    """A Go panic and the dump of every goroutine after it, blank lines between them."""
    states = ["IO wait", "sleep", "select", "chan receive", "semacquire"]
    blocks = ["panic: assignment to entry in nil map\n\ngoroutine 1 [running]:\n"
              "github.com/acme/ingest/internal/ingest.(*Batcher).Add(0xc0001a2d20)\n"
              "\t/src/internal/ingest/batcher.go:142 +0x1c5\nmain.main()\n\t/src/cmd/ingest/main.go:29 +0x1a5"]
    for g in range(2, n + 2):
        blocks.append(f"goroutine {g} [{states[g % 5]}]:\ninternal/poll.runtime_pollWait(0x7f{g:04x})\n"
                      f"\t/usr/local/go/src/runtime/netpoll.go:343 +0x85\ncreated by net/http.(*Server).Serve in "
                      f"goroutine {g - 1}\n\t/usr/local/go/src/net/http/server.go:3086 +0x5cb")
    return "\n\n".join(blocks) + "\n"


def test_a_goroutine_dump_keeps_the_panic_and_elides_the_idle_goroutines_in_one_marker(optimizer):
    dump = goroutine_dump(120)
    request = session("ingest keeps crashing on startup, what's wrong?", [("Bash", {"command": "./ingest"}, dump)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert dump.split("\n\n")[0] in out and dump.split("\n\n")[1] in out  # the panic and its goroutine, whole
    markers = [x for x in out.split("\n") if x.startswith("[anyray: ")]
    assert len(markers) == 1 and markers[0].startswith("[anyray: 120 blocks (")  # one run, one marker
    assert "goroutine 77 [" not in out and len(out) < len(dump) * 0.1
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == dump
