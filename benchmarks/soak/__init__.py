"""The soak benchmark: run `python -m benchmarks.soak --help` (docs/reliability.md, "Soak")."""
