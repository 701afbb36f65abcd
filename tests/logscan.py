"""The log scan: every log line of the whole test run is captured, and none may hold a secret or a prompt.

A pytest plugin (its hooks are imported by tests/conftest.py, so it runs for any selection of tests):

- at start, a handler on the root logger at DEBUG keeps every formatted line (message, exception text,
  stack), and uvicorn's loggers are made to propagate to it (uvicorn's own logging config stops them);
- secrets and prompt texts are collected: `register()` for values made at run time (the fake token
  endpoint's Google tokens, created gateway keys, service-account private keys; see tests/conftest.py),
  and, at the end, every module-level string constant of a loaded `tests.*` module whose name says
  KEY/SECRET/TOKEN/PASSWORD/PROMPT/MARKER (10+ characters);
- at the end of the session, any of them found in a captured line fails the run, with the lines listed
  (the value itself shortened in the report).

Under pytest-xdist (the suite runs in worker processes) each worker scans its own lines at its end and
hands the result to the controller (`workeroutput`), which reports them all and fails the run: a
leak in a worker must fail the run as it does in one process.

Out of scope, by design: the test clients' own loggers (anthropic, openai, httpx, httpcore: the caller's
side, which logs its own request at DEBUG), set to WARNING here; and subprocesses' output.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable

import pytest

CLIENT_LOGGERS = ("anthropic", "openai", "httpx", "httpcore")
_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PROMPT|MARKER", re.IGNORECASE)
MIN_LEN = 10

_registered: set[str] = set()


def register(*values: str) -> None:
    """Values that must never appear in a log line (secrets, prompt texts)."""
    for value in values:
        if isinstance(value, str) and len(value) >= MIN_LEN:
            _registered.add(value)


class Capture(logging.Handler):
    """Keeps every formatted record; thread-safe (servers log from their threads)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a broken record is the logging module's problem, not the scan's
            line = f"{record.name} {record.levelname} {record.msg!r} {record.args!r}"
        with self._guard:
            self.lines.append(line)

    def find(self, values: Iterable[str]) -> list[tuple[str, str]]:
        with self._guard:
            text = "\n".join(self.lines)
        hits = []
        for value in values:
            if value in text:
                for line in self.lines:
                    if value in line:
                        hits.append((value, line))
        return hits

    def forget(self, value: str) -> int:
        """Drop the lines holding `value` (the self-test's deliberate leak); returns how many."""
        with self._guard:
            before = len(self.lines)
            self.lines = [line for line in self.lines if value not in line]
            return before - len(self.lines)


CAPTURE = Capture()


def collected() -> set[str]:
    """Registered values plus the secret- and prompt-named string constants of the loaded test modules."""
    values = set(_registered)
    for name, module in list(sys.modules.items()):
        if not (name == "tests" or name.startswith("tests.")) or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, str) and len(value) >= MIN_LEN and _NAME.search(attr) and attr.isupper():
                values.add(value)
    return values


def _let_uvicorn_propagate() -> None:
    """uvicorn's default logging config stops its loggers at their own handlers; the scan must see them."""
    try:
        from uvicorn.config import LOGGING_CONFIG
    except ImportError:  # pragma: no cover
        return
    for logger in LOGGING_CONFIG.get("loggers", {}).values():
        logger["propagate"] = True
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).propagate = True


def _register_created_keys() -> None:
    """Every gateway key a test creates (in-process: fixtures, CliRunner) joins the scanned secrets."""
    from anyray.keys import KeyStore

    create = KeyStore.create
    if getattr(create, "_logscan", False):
        return

    def recording_create(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        secret, key = create(self, *args, **kwargs)
        register(secret)
        return secret, key

    recording_create._logscan = True  # type: ignore[attr-defined]
    KeyStore.create = recording_create  # type: ignore[method-assign]


class _FromWorkers:
    """The controller's side under xdist: collects each worker's scan as the worker finishes."""

    def __init__(self) -> None:
        self.scans: list[dict[str, object]] = []

    def pytest_testnodedown(self, node: object, error: object) -> None:
        scan = getattr(node, "workeroutput", {}).get("logscan")
        if scan is not None:
            self.scans.append(scan)


_WORKERS = _FromWorkers()


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workeroutput"):
        config.pluginmanager.register(_WORKERS, "logscan-workers")
    _register_created_keys()
    root = logging.getLogger()
    root.addHandler(CAPTURE)
    root.setLevel(logging.DEBUG)
    for name in CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    _let_uvicorn_propagate()


def _short(value: str) -> str:
    return f"{value[:6]}...({len(value)} chars)"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    values = collected()
    found = [(_short(value), line.replace(value, "<<HERE>>")[:400]) for value, line in CAPTURE.find(values)]
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: the controller reports and fails the run
        worker_output["logscan"] = {"lines": len(CAPTURE.lines), "values": len(values), "hits": found}
        return
    scans = [{"lines": len(CAPTURE.lines), "values": len(values), "hits": found}, *_WORKERS.scans]
    hits = [tuple(hit) for scan in scans for hit in scan["hits"]]  # type: ignore[attr-defined]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not hits:
        if reporter is not None:
            lines_seen = sum(int(scan["lines"]) for scan in scans)  # type: ignore[call-overload]
            values_seen = max(int(scan["values"]) for scan in scans)  # type: ignore[call-overload]
            where = f" over {len(scans) - 1} workers" if len(scans) > 1 else ""
            reporter.write_line("")
            reporter.write_line(f"log scan: {lines_seen} log lines{where}, up to {values_seen} secrets/prompts, "
                                "none found")
        return
    lines = [f"log scan: {len(hits)} log line(s) hold a test secret or prompt text:"]
    for short, line in hits[:50]:
        lines.append(f"  [{short}] {line}")
    report = "\n".join(lines)
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("=", "log scan failed", red=True)
        reporter.write_line(report)
    else:  # pragma: no cover
        print(report, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
