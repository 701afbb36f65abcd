"""Code context: numbered reads, pasted files, diffs, stack traces with the source they point into."""

from __future__ import annotations

from benchmarks.blind import _code as src
from benchmarks.blind._gen import Clock, hexid, numbered, rng, uuid
from benchmarks.blind._req import AGENT_TOOLS, CLAUDE_CODE_SYSTEM, Anth, Oai, document
from benchmarks.workloads._build import Workload


def python_tides() -> Workload:
    name = "code_python_tides_dst"
    r = rng(name)
    head = src.python(r, ["station", "reading", "gauge", "forecast"], 14, "Tide tables for harbour stations.")
    bug = [
        "",
        "def local_high_tides(station, day):",
        '    """High tides for a calendar day in the station\'s local time."""',
        "    start = datetime(day.year, day.month, day.day)",
        "    end = start + timedelta(hours=24)",
        '    peaks = [p for p in harmonic_peaks(station, start, end) if p.kind == "high"]',
        "    return [p.at + timedelta(hours=station.utc_offset_hours) for p in peaks]",
        "",
    ]
    tail = src.python(r, ["harmonic", "constituent", "datum"], 8).split("\n", 10)[-1]
    text = head + "\n".join(bug) + tail
    pytest_out = "\n".join(
        [
            "============================= test session starts ==============================",
            "platform linux -- Python 3.12.7, pytest-8.3.3, pluggy-1.5.0",
            "rootdir: /home/dev/tidetables",
            "collected 212 items",
            "",
            *[
                f"tests/test_{m}.py {'.' * r.randint(8, 40)}{' ' * 4}[{p:3d}%]"
                for m, p in zip(
                    ["gauges", "readings", "forecast", "datum", "harmonics"], [18, 40, 61, 77, 95], strict=True
                )
            ],
            "tests/test_local.py ..F.......                                              [100%]",
            "",
            "=================================== FAILURES ===================================",
            "______________________ test_high_tides_across_dst_change _______________________",
            "",
            "    def test_high_tides_across_dst_change():",
            '        bergen = make_station("BGO", tz="Europe/Oslo")',
            "        tides = local_high_tides(bergen, date(2026, 10, 25))",
            '>       assert [t.strftime("%H:%M") for t in tides] == ["05:41", "18:03"]',
            "E       AssertionError: assert ['06:41', '19:03'] == ['05:41', '18:03']",
            "",
            "tests/test_local.py:48: AssertionError",
            "=========================== short test summary info ============================",
            "FAILED tests/test_local.py::test_high_tides_across_dst_change - AssertionError",
            "======================== 1 failed, 211 passed in 4.18s =========================",
        ]
    )
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS, model="claude-opus-4-1", max_tokens=32000)
        .user("the DST test is failing again, fix it")
        .calls("Running the tests first.", [("Bash", {"command": "pytest -q tests/"}, pytest_out)])
        .calls(
            "Reading the module under test.",
            [("Read", {"file_path": "/home/dev/tidetables/tides/local.py"}, numbered(text))],
        )
        .done(
            "why does it fail only on that date? explain before changing anything",
            ["test_high_tides_across_dst_change", "def local_high_tides", "station.utc_offset_hours", "2026, 10, 25"],
            "tool_result",
        )
    )


def go_race() -> Workload:
    name = "code_go_ham_spotter_race"
    r = rng(name)
    a = src.go(r, ["contact", "callsign", "band", "grid"], "qso", 9)
    spot = "\n".join(
        [
            "package qso",
            "",
            "import (",
            '\t"bufio"',
            '\t"net"',
            '\t"strings"',
            '\t"time"',
            ")",
            "",
            "// Spotter keeps the latest DX cluster spot per callsign.",
            "type Spotter struct {",
            "\tlatest map[string]Spot",
            "\tconn   net.Conn",
            "}",
            "",
            *["// filler line kept from upstream cluster client" for _ in range(0)],
            "func (s *Spotter) Run() {",
            "\tgo s.ingest()",
            "\tt := time.NewTicker(30 * time.Second)",
            "\tfor range t.C {",
            "\t\ts.prune()",
            "\t}",
            "}",
            "",
            "func (s *Spotter) ingest() {",
            "\tsc := bufio.NewScanner(s.conn)",
            "\tfor sc.Scan() {",
            "\t\tf := strings.Fields(sc.Text())",
            '\t\tif len(f) < 5 || f[0] != "DX" {',
            "\t\t\tcontinue",
            "\t\t}",
            "\t\ts.latest[f[4]] = Spot{Call: f[4], Freq: f[3], At: time.Now()}",
            "\t}",
            "}",
            "",
            "func (s *Spotter) prune() {",
            "\tfor k, v := range s.latest {",
            "\t\tif time.Since(v.At) > 10*time.Minute {",
            "\t\t\tdelete(s.latest, k)",
            "\t\t}",
            "\t}",
            "}",
            "",
        ]
    )
    b = src.go(r, ["spot", "cluster", "filter"], "qso", 6)
    race = "\n".join(
        [
            "==================",
            "WARNING: DATA RACE",
            "Write at 0x00c0001a2c30 by goroutine 9:",
            "  runtime.mapassign_faststr()",
            "      /usr/local/go/src/runtime/map_faststr.go:223 +0x0",
            "  github.com/la8pv/qsolog/qso.(*Spotter).ingest()",
            "      /home/pv/qsolog/qso/spotter.go:28 +0x1c4",
            "",
            "Previous read at 0x00c0001a2c30 by goroutine 7:",
            "  runtime.mapiterinit()",
            "  github.com/la8pv/qsolog/qso.(*Spotter).prune()",
            "      /home/pv/qsolog/qso/spotter.go:33 +0x64",
            "",
            "Goroutine 9 (running) created at:",
            "  github.com/la8pv/qsolog/qso.(*Spotter).Run()",
            "      /home/pv/qsolog/qso/spotter.go:17 +0x3c",
            "==================",
            "--- FAIL: TestSpotterPrune (0.31s)",
            "    testing.go:1399: race detected during execution of test",
            "FAIL",
            "FAIL\tgithub.com/la8pv/qsolog/qso\t1.207s",
        ]
    )
    paste = (
        f"// qso/store.go\n{a}\n\n// qso/spotter.go\n{spot}\n\n// qso/cluster.go\n{b}\n\n$ go test -race ./qso/\n{race}"
    )
    q = "Getting this race in CI but not always. Which lines and what's the cleanest fix, a mutex or a channel?"
    return Oai(name, system="You are a helpful Go reviewer.").done(
        q, ["(*Spotter).ingest()", "spotter.go:28", "(*Spotter).prune()", "TestSpotterPrune"], "user", parts=[paste]
    )


def rust_borrow() -> Workload:
    name = "code_rust_chess_borrow"
    r = rng(name)
    body = src.rust(r, ["piece", "square", "move", "board"], 10)
    planted = "\n".join(
        [
            "pub fn apply_moves(board: &mut Board, moves: &[Move]) -> Result<(), MoveError> {",
            "    let king = board.king_square(board.side_to_move);",
            "    for mv in moves {",
            "        let piece = board.piece_at(mv.from).ok_or(MoveError::Empty)?;",
            "        board.squares.insert(mv.to, piece);",
            "        board.squares.remove(&mv.from);",
            "        if board.attacked(*king) {",
            "            return Err(MoveError::LeavesKingInCheck);",
            "        }",
            "    }",
            "    Ok(())",
            "}",
            "",
        ]
    )
    text = body + "\n" + planted + src.rust(r, ["hash", "zobrist"], 5)
    ln = text.split("\n").index("        board.squares.insert(mv.to, piece);") + 1
    cargo = "\n".join(
        [
            "   Compiling tinyrook v0.3.1 (/home/ines/tinyrook)",
            "error[E0502]: cannot borrow `board.squares` as mutable because it is also borrowed as immutable",
            f"   --> src/board.rs:{ln}:9",
            "    |",
            f"{ln - 3:<4}|     let king = board.king_square(board.side_to_move);",
            "    |                ----- immutable borrow occurs here",
            "...",
            f"{ln:<4}|         board.squares.insert(mv.to, piece);",
            "    |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ mutable borrow occurs here",
            "...",
            f"{ln + 3:<4}|         if board.attacked(*king) {{",
            "    |                           ----- immutable borrow later used here",
            "",
            "For more information about this error, try `rustc --explain E0502`.",
            "error: could not compile `tinyrook` (lib) due to 1 previous error",
        ]
    )
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("cargo build is broken after my refactor of king_square to return a reference")
        .calls(
            None,
            [
                ("Bash", {"command": "cargo build 2>&1"}, cargo),
                ("Read", {"file_path": "/home/ines/tinyrook/src/board.rs"}, numbered(text)),
            ],
        )
        .done(
            "how do I fix this without cloning the whole board?",
            ["error[E0502]", f"src/board.rs:{ln}:9", "board.king_square(board.side_to_move)"],
            "tool_result",
        )
    )


def ts_jest() -> Workload:
    name = "code_ts_jest_debounce"
    r = rng(name)
    lib = src.typescript(r, ["recipe", "ingredient", "pantry", "mealPlan"], 14)
    hook = "\n".join(
        [
            "import { useEffect, useRef, useState } from 'react';",
            "import { searchRecipes } from './recipes';",
            "",
            "export function useDebouncedSearch(query: string, delay = 300) {",
            "  const [results, setResults] = useState<Recipe[]>([]);",
            "  const timer = useRef<ReturnType<typeof setTimeout>>();",
            "  useEffect(() => {",
            "    timer.current = setTimeout(() => {",
            "      searchRecipes(query).then(setResults);",
            "    }, delay);",
            "  }, [query, delay]);",
            "  return results;",
            "}",
        ]
    )
    jest = "\n".join(
        [
            "FAIL src/hooks/useDebouncedSearch.test.tsx",
            "  useDebouncedSearch",
            "    \u2713 returns empty results initially (12 ms)",
            "    \u2715 only searches once for fast typing (41 ms)",
            "",
            "  \u25cf useDebouncedSearch \u203a only searches once for fast typing",
            "",
            "    expect(jest.fn()).toHaveBeenCalledTimes(expected)",
            "",
            "    Expected number of calls: 1",
            "    Received number of calls: 4",
            "",
            "      27 |     act(() => jest.advanceTimersByTime(300));",
            "    > 28 |     expect(fetchMock).toHaveBeenCalledTimes(1);",
            "         |                       ^",
            "",
            "Tests:       1 failed, 37 passed, 38 total",
            "Snapshots:   0 total",
            "Time:        3.902 s",
        ]
    )
    q = "why does my debounce test fail? it's supposed to search once"
    return Oai(name, model="gpt-4o").done(
        q,
        ["useDebouncedSearch", "Received number of calls: 4", "timer.current = setTimeout"],
        "user",
        parts=[
            "src/lib/recipes.ts:\n```ts\n" + lib + "\n```",
            "src/hooks/useDebouncedSearch.ts:\n```ts\n" + hook + "\n```",
            "jest output:\n```\n" + jest + "\n```",
        ],
    )


def java_npe() -> Workload:
    name = "code_java_npe_parcel_lockers"
    r = rng(name)
    cls = src.java(r, ["locker", "parcel", "courier", "slot"], "no.lockerhub.dispatch", "LockerAssignmentService", 16)
    planted = (
        "    public Slot pickSlot(Parcel parcel, Locker locker) {\n"
        "        Size size = parcel.getDimensions().toSize();\n"
        "        return locker.freeSlots().stream().filter(s -> s.fits(size)).findFirst().orElseThrow();\n"
        "    }\n"
    )
    cls = cls[:-1] + planted + "}"
    ln = cls.split("\n").index("        Size size = parcel.getDimensions().toSize();") + 1
    frames = [
        f"\tat org.springframework.{p}"
        for p in [
            "web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
            "web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
            "aop.framework.CglibAopProxy$DynamicAdvisedInterceptor.intercept(CglibAopProxy.java:717)",
            "transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:119)",
        ]
        * 6
    ]
    trace = "\n".join(
        [
            f"2026-10-14 08:31:{r.randint(10, 59)}.{r.randint(100, 999)} ERROR 1 --- [nio-8080-exec-7] o.a.c.c.C.[.[.[/].[dispatcherServlet]"  # noqa: E501
            "    : Servlet.service() for servlet [dispatcherServlet] threw exception",
            'java.lang.NullPointerException: Cannot invoke "no.lockerhub.dispatch.Dimensions.toSize()" because the return '  # noqa: E501
            'value of "no.lockerhub.dispatch.Parcel.getDimensions()" is null',
            f"\tat no.lockerhub.dispatch.LockerAssignmentService.pickSlot(LockerAssignmentService.java:{ln})",
            "\tat no.lockerhub.dispatch.LockerAssignmentService.assign(LockerAssignmentService.java:61)",
            "\tat no.lockerhub.dispatch.web.AssignController.assign(AssignController.java:44)",
            *frames,
            "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
        ]
    )
    q = (
        "Only parcels from the new courier integration crash, the old ones work. What's null and where should "
        "I handle it?"
    )
    return Anth(name, system="You are a Java/Spring expert helping a small logistics team.").done(
        q,
        [f"LockerAssignmentService.java:{ln}", "Parcel.getDimensions()", "pickSlot"],
        "user",
        pre=[
            {"type": "text", "text": "stack trace:\n" + trace},
            {"type": "text", "text": "LockerAssignmentService.java:\n" + cls},
        ],
    )


def ruby_diff() -> Workload:
    name = "code_ruby_diff_review"
    r = rng(name)
    hunks = []
    for f in [
        "app/models/allotment.rb",
        "app/models/plot_waitlist.rb",
        "app/services/fee_calculator.rb",
        "app/controllers/plots_controller.rb",
        "app/views/plots/index.html.erb",
        "spec/models/allotment_spec.rb",
    ]:
        before = src.ruby(r, ["plot", "garden", "member", "fee"], "X", 3).split("\n")
        start = r.randint(10, 120)
        hunk = [
            f"diff --git a/{f} b/{f}",
            f"index {hexid(r, 7)}..{hexid(r, 7)} 100644",
            f"--- a/{f}",
            f"+++ b/{f}",
            f"@@ -{start},{len(before)} +{start},{len(before) + 2} @@",
        ]
        for i, line in enumerate(before):
            hunk.append(("-" if i % 7 == 3 else " ") + line)
            if i % 7 == 3:
                hunk.append("+" + line.replace("hours", "days"))
        hunks.append("\n".join(hunk))
    hunks.insert(
        3,
        "\n".join(
            [
                "diff --git a/app/models/plot_waitlist.rb b/app/models/plot_waitlist.rb",
                "@@ -41,9 +41,8 @@ class PlotWaitlist",
                "   def offer_next!(plot)",
                "-    entry = entries.where(offered_at: nil).order(:joined_at).lock.first",
                "+    entry = entries.where(offered_at: nil).order(:joined_at).first",
                "     return unless entry",
                "     entry.update!(offered_at: Time.current, plot: plot)",
                "     WaitlistMailer.offer(entry).deliver_later",
                "   end",
            ]
        ),
    )
    diff = "\n".join(hunks)
    q = "can you review this PR before I merge? anything risky?"
    return Anth(name, system="You review pull requests for a community garden association's booking app.").done(
        q,
        ["def offer_next!(plot)", ".order(:joined_at).lock.first", "plot_waitlist.rb"],
        "user",
        pre=[{"type": "text", "text": 'PR #212 "tidy up allotment models"\n\n' + diff}],
    )


def csharp_docs() -> Workload:
    name = "code_csharp_documents_student_discount"
    r = rng(name)
    docs = []
    for i, (ns, cls) in enumerate(
        [
            ("Kino.Tickets", "PricingService"),
            ("Kino.Tickets", "SeatMapService"),
            ("Kino.Loyalty", "MembershipService"),
            ("Kino.Tickets", "VoucherService"),
        ]
    ):
        text = src.csharp(r, ["ticket", "screening", "seat", "member"], ns, cls, 12)
        if i == 2:
            text = text[:-1] + (
                "    public decimal ApplyConcession(Ticket t, Member m)\n    {\n"
                "        if (m.StudentCardExpires is { } exp && exp >= DateOnly.FromDateTime(t.ScreeningAt))\n"
                "            return t.BasePrice * 0.75m;\n        return t.BasePrice;\n    }\n}"
            )
        docs.append(document(text, f"src/{ns.replace('.', '/')}/{cls}.cs"))
    q = "Where do we apply the student discount, and does it check that the card is still valid?"
    return Anth(name, system="You answer questions about the Kino ticketing codebase.").done(
        q, ["ApplyConcession", "StudentCardExpires", "0.75m", "MembershipService.cs"], "document", pre=docs
    )


def node_esm() -> Workload:
    name = "code_node_esm_import_error"
    r = rng(name)
    lines = [f"import {{ {v} }} from './lib/{v}.js';" for v in ["parseGpx", "smoothTrack", "elevationGain"]]
    body = src.typescript(r, ["trail", "segment", "waypoint"], 10).replace(": Promise<", ": Promise<").split("\n")
    app = "\n".join([*lines, "import config from './config.json';", "", *body])
    trace = "\n".join(
        [
            "node:internal/modules/esm/assert:88",
            "        throw new ERR_IMPORT_ATTRIBUTE_MISSING(url, 'type', validType);",
            "              ^",
            "",
            'TypeError [ERR_IMPORT_ATTRIBUTE_MISSING]: Module "file:///srv/trailmap/config.json" '
            'needs an import attribute of "type: json"',
            "    at validateAttributes (node:internal/modules/esm/assert:88:15)",
            "    at defaultLoad (node:internal/modules/esm/load:153:3)",
            "  code: 'ERR_IMPORT_ATTRIBUTE_MISSING'",
            "}",
            "",
            "Node.js v22.11.0",
        ]
    )
    q = "server won't start after upgrading node. what changed?"
    return (
        Oai(name, tools=AGENT_TOOLS[:2])
        .user("trailmap server crashes on boot since the base image bump")
        .calls(
            [
                ("Bash", {"command": "node server.js"}, trace),
                ("Read", {"file_path": "/srv/trailmap/server.js"}, numbered(app)),
            ]
        )
        .done(
            q,
            ["ERR_IMPORT_ATTRIBUTE_MISSING", "import config from './config.json';", "Node.js v22.11.0"],
            "tool_result",
        )
    )


def sql_small() -> Workload:
    name = "code_small_sql_window"
    q = "this returns the wrong rank when two runners tie, how do I fix it?"
    ctx = (
        "We run a small results site for local road races (Postgres 16). Ties happen because we only have "
        "whole seconds from the gun time. The club rules say tied runners share the place and the next runner "
        "gets the place after the skipped ones (so 1, 2, 2, 4). Category results use the same query with an "
        "extra `AND category = $2`, so whatever fix works should work there as well."
    )
    schema = (
        "CREATE TABLE results (\n  runner_id   integer REFERENCES runners(id),\n  race_id     text NOT NULL,\n"
        "  finish_secs integer,\n  chip_secs   integer,\n  category    text  -- e.g. M40, K35\n);\n\n"
        " runner_id | race_id       | finish_secs | place\n-----------+---------------+-------------+------\n"
        "      8812 | oslo-10k-2026 |        1987 |     1\n      1203 | oslo-10k-2026 |        2011 |     2\n"
        "       977 | oslo-10k-2026 |        2011 |     3\n      4410 | oslo-10k-2026 |        2034 |     4\n"
    )
    sql = (
        "SELECT runner_id, race_id, finish_secs,\n       ROW_NUMBER() OVER (PARTITION BY race_id ORDER BY finish_secs)"
        " AS place\nFROM results\nWHERE race_id = 'oslo-10k-2026';"
    )
    return Oai(name, model="gpt-4o-mini", max_tokens=600).done(
        q, ["ROW_NUMBER() OVER (PARTITION BY race_id", "oslo-10k-2026"], "user", parts=[ctx, sql, schema]
    )


def agent_grep_read() -> Workload:
    name = "code_agent_grep_read_feature_flag"
    r = rng(name)
    files = [
        f"services/{d}/{f}.py"
        for d in ("lending", "holds", "notices", "catalogue")
        for f in ("api", "models", "tasks", "flags", "views")
    ]
    grep = "\n".join(
        f'{r.choice(files)}:{r.randint(5, 400)}:    if flags.enabled("{r.choice(["sms_notices", "new_search", "ebook_loans", "dark_mode"])}", branch):'  # noqa: E501
        for _ in range(60)
    )
    grep += '\nservices/holds/tasks.py:212:    if flags.enabled("auto_renew", branch_id=patron.home_branch):'
    reads = []
    for f in ("services/holds/tasks.py", "services/lending/flags.py", "services/notices/api.py"):
        text = src.python(r, ["hold", "patron", "branch", "notice"], 16)
        if f.endswith("flags.py"):
            text += (
                "\n\ndef enabled(flag: str, branch: str | None = None) -> bool:\n"
                '    """Branch-scoped flags; unknown keyword arguments are ignored."""\n'
                '    return _FLAGS.get(flag, {}).get(branch, _FLAGS.get(flag, {}).get("*", False))\n'
            )
        reads.append(("Read", {"file_path": f"/repo/{f}"}, numbered(text)))
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS, model="claude-opus-4-1", max_tokens=64000)
        .user("auto_renew is switched on for the Eastside branch but loans there never auto-renew. find out why")
        .calls(
            "Searching for where flags are checked.",
            [("Grep", {"pattern": "flags.enabled\\(", "path": "services"}, grep)],
        )
        .calls("Reading the hold task and the flag helper.", reads)
        .done(
            "so is it the flag lookup or the task?",
            [
                "branch_id=patron.home_branch",
                "def enabled(flag: str, branch: str | None = None)",
                "services/holds/tasks.py:212",
            ],
            "tool_result",
        )
    )


ALL = [
    python_tides,
    go_race,
    rust_borrow,
    ts_jest,
    java_npe,
    ruby_diff,
    csharp_docs,
    node_esm,
    sql_small,
    agent_grep_read,
]


def python_traceback_worker() -> Workload:
    name = "code_python_traceback_celery_worker"
    r = rng(name)
    c = Clock(r, "2026-10-14T05:10:00", (0.05, 3))
    lines = []
    tasks = ["exports.build_csv", "notices.send_overdue", "holds.expire", "catalogue.reindex_record"]
    for _ in range(160):
        t = r.choice(tasks)
        tid = uuid(r)
        lines.append(f"[{c.iso()}: INFO/MainProcess] Task {t}[{tid}] received")
        lines.append(
            f"[{c.iso()}: INFO/ForkPoolWorker-{r.randint(1, 4)}] Task {t}[{tid}] succeeded in "
            f"{r.uniform(0.01, 4):.3f}s: None"
        )
    tb = [
        f"[{c.iso()}: ERROR/ForkPoolWorker-3] Task exports.build_csv[{uuid(r)}] raised unexpected: "
        "UnicodeEncodeError('latin-1', 'Bj\\xf8rn \\u0141ukasz', 5, 6, 'ordinal not in range(256)')",
        "Traceback (most recent call last):",
        '  File "/venv/lib/python3.12/site-packages/celery/app/trace.py", line 453, in trace_task',
        "    R = retval = fun(*args, **kwargs)",
        '  File "/app/lending/exports.py", line 88, in build_csv',
        "    _write_rows(fh, rows)",
        '  File "/app/lending/exports.py", line 41, in _write_rows',
        '    fh.write(line.encode("latin-1"))',
        "UnicodeEncodeError: 'latin-1' codec can't encode character '\\u0141' in position 5: ordinal not in range(256)",
    ]
    lines[int(len(lines) * 0.58) : int(len(lines) * 0.58)] = tb
    q = "the overdue-loans CSV export for the Gdansk partner library fails every night, everything else is fine"
    return Oai(name, system="You are a Python backend developer's assistant.").done(
        q,
        ["line 41, in _write_rows", 'fh.write(line.encode("latin-1"))', "UnicodeEncodeError"],
        "user",
        parts=["celery worker log:\n" + "\n".join(lines)],
    )


def rust_cargo_test_panic() -> Workload:
    name = "code_rust_cargo_test_panic_backtrace"
    r = rng(name)
    tests = []
    for mod in ["parser", "ephemeris", "coords", "catalog", "timescale"]:
        for _ in range(r.randint(15, 30)):
            tests.append(
                f"test {mod}::tests::{r.choice(['parses', 'rejects', 'rounds', 'converts'])}_"
                f"{r.choice(['ra', 'dec', 'epoch', 'julian_date', 'leap_second', 'airmass'])}_"
                f"{r.randint(1, 60)} ... ok"
            )
    tests.insert(47, "test timescale::tests::utc_to_tt_across_leap_second ... FAILED")
    out = "\n".join(
        [
            "   Compiling skycalc v0.9.2 (/home/wren/skycalc)",
            "    Finished `test` profile [unoptimized + debuginfo] target(s) in 7.81s",
            "     Running unittests src/lib.rs (target/debug/deps/skycalc-3f9c2a1b7d)",
            "",
            f"running {len(tests)} tests",
            *tests,
            "",
            "failures:",
            "",
            "---- timescale::tests::utc_to_tt_across_leap_second stdout ----",
            "thread 'timescale::tests::utc_to_tt_across_leap_second' panicked at src/timescale.rs:212:14:",
            "index out of bounds: the len is 28 but the index is 28",
            "stack backtrace:",
            "   0: rust_begin_unwind",
            "   1: core::panicking::panic_fmt",
            "   2: core::panicking::panic_bounds_check",
            "   3: skycalc::timescale::tai_minus_utc",
            "             at ./src/timescale.rs:212:14",
            "   4: skycalc::timescale::utc_to_tt",
            "             at ./src/timescale.rs:240:22",
            "   5: skycalc::timescale::tests::utc_to_tt_across_leap_second",
            "             at ./src/timescale.rs:388:9",
            "",
            "failures:",
            "    timescale::tests::utc_to_tt_across_leap_second",
            "",
            f"test result: FAILED. {len(tests) - 1} passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        ]
    )
    body = src.rust(r, ["leap", "epoch", "offset"], 9)
    fn = (
        "pub fn tai_minus_utc(mjd: f64) -> f64 {\n    let mut i = 0;\n    while LEAP_TABLE[i].0 <= mjd {\n"
        "        i += 1;\n    }\n    LEAP_TABLE[i - 1].1\n}\n"
    )
    start = 212 - len(body.split("\n")) - 2  # so the `while` line is line 212, where the panic points
    toml = (
        '[package]\nname = "skycalc"\nversion = "0.9.2"\nedition = "2021"\n\n[dependencies]\nserde = { version = '
        '"1", features = ["derive"] }\nthiserror = "1.0"\n\n[dev-dependencies]\napprox = "0.5"\n'
    )
    return (
        Anth(name, system=CLAUDE_CODE_SYSTEM, tools=AGENT_TOOLS)
        .user("added a test for dates after the last leap second and it panics")
        .calls(
            None,
            [
                ("Bash", {"command": "RUST_BACKTRACE=1 cargo test"}, out),
                ("Read", {"file_path": "/home/wren/skycalc/Cargo.toml"}, numbered(toml)),
                (
                    "Read",
                    {"file_path": "/home/wren/skycalc/src/timescale.rs", "offset": str(start)},
                    numbered(body + "\n" + fn, start),
                ),
            ],
        )
        .done(
            "fix it properly, not just for this date",
            [
                "src/timescale.rs:212:14",
                "index out of bounds: the len is 28 but the index is 28",
                "while LEAP_TABLE[i].0 <= mjd",
            ],
            "tool_result",
        )
    )


ALL += [python_traceback_worker, rust_cargo_test_panic]
