"""Gateway-key fixtures: the spend stores of tests/spend and the recording optimizer of tests/optimizer."""

from tests.optimizer.conftest import controllable_optimizer  # noqa: F401
from tests.spend.conftest import pg_url, sqlite_url, store_url  # noqa: F401
