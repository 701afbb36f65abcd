"""Console fixtures: reuse the spend store fixtures (SQLite always, PostgreSQL when a server answers)."""

from tests.spend.conftest import pg_url, sqlite_url, store_url

__all__ = ["pg_url", "sqlite_url", "store_url"]
