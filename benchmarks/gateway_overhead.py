"""Gateway overhead against the direct upstream: now `anyray bench` (benchmarks/bench/); this is its alias.

    .venv/bin/python benchmarks/gateway_overhead.py [anyray bench options...]

Kept so older notes that name this script still work; every option is `anyray bench`'s (see
`anyray bench --help` and docs/performance.md). Without options it runs the full matrix with wrk when
installed, LiteLLM beside anyray when installed, both optimizer placements and the passthrough floor.
"""

from __future__ import annotations

import sys

from anyray.cli import app


def main() -> None:
    args = sys.argv[1:] or ["--optimizer", "both", "--passthrough", "--litellm"]
    app(["bench", *args])


if __name__ == "__main__":
    main()
