"""Logging setup with credential redaction: no key, token or private key reaches a log line.

`install_redaction` wraps the process's log record factory, so every record, from any logger
(anyray's, uvicorn's, aiohttp's, a library's) at any level, is redacted once when it is made: its
message with the args filled in, its exception text and its stack. It is a safety net: the gateway
never logs credentials or prompt text on purpose (only ids, counts, labels), and the test suite scans
the logs of a whole run to prove it (tests/logscan.py). `RedactingFilter` does the same as a
`logging.Filter` for handlers that receive records made elsewhere (e.g. `logging.makeLogRecord`).

What is masked (see docs/security.md): Anthropic and OpenAI keys (`sk-ant-...`, `sk-...`), gateway
keys (`ark_...`), Google OAuth tokens (`ya29....`) and API keys (`AIza...`), `Bearer` tokens, the
values of credential-named fields (x-api-key, authorization, api_key, access_token, client_secret,
password, private_key, ...), passwords in URLs, and PEM private keys.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import Any

MASK = "***"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # PEM blocks first: they span lines; a block cut short (no END line) is masked to its end
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:.*?-----END [A-Z ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)", re.DOTALL
        ),
        "[private key]",
    ),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{6,}"), f"sk-ant-{MASK}"),
    (re.compile(r"\bsk-(?!ant-)[A-Za-z0-9_\-]{12,}"), f"sk-{MASK}"),
    (re.compile(r"\bark_[A-Za-z0-9_\-]{8,}"), f"ark_{MASK}"),
    (re.compile(r"\bya29\.[A-Za-z0-9_\-.]+"), f"ya29.{MASK}"),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), f"AIza{MASK}"),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{4,}", re.IGNORECASE), rf"\1 {MASK}"),
    (re.compile(r"(://[^:/@\s]+):[^@\s/]+@"), rf"\1:{MASK}@"),
    (
        re.compile(
            r"""((?:x-api-key|x-goog-api-key|api[_-]?key|authorization|proxy-authorization|access[_-]?token|"""
            r"""refresh[_-]?token|id[_-]?token|client[_-]?secret|password|passwd|private[_-]?key|secret|assertion)"""
            r"""["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic)\s+)?)"""
            r"""(?!\*\*\*|\[private key\]|(?:Bearer|Basic)\b)([^\s"',;&}\]]{3,})""",
            re.IGNORECASE,
        ),
        rf"\1{MASK}",
    ),
]


def redact(text: str) -> str:
    """`text` with every credential-looking substring masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place (message with args, exception text, stack); idempotent."""
    if getattr(record, "_anyray_redacted", False):
        return record
    record._anyray_redacted = True  # type: ignore[attr-defined]
    try:
        message = record.getMessage()
    except Exception:  # a malformed format string must still be logged, and still redacted
        message = f"{record.msg} {record.args}"
    clean = redact(message)
    if clean != message or not isinstance(record.msg, str):
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A filter that never drops a record, only masks credentials in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_installed = False


def install_redaction() -> None:
    """Redact every log record this process makes from now on (idempotent; called by every entry point)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())


def setup_logging(level: int | str = logging.WARNING) -> None:
    """The CLI's logging: one stderr handler on the root logger (unless one exists), redaction on."""
    install_redaction()
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level)
