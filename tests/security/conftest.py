"""Security-suite fixtures: the OpenAI-capable gateway of tests/openai_dialect beside the shared ones."""

from tests.openai_dialect.conftest import client, fake_openai, gw  # noqa: F401
from tests.optimizer.conftest import controllable_optimizer  # noqa: F401
from tests.spend.conftest import pg_url, sqlite_url, store_url  # noqa: F401
