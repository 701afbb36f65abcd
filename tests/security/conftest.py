"""Security-suite fixtures: the OpenAI-capable gateway of tests/openai_dialect beside the shared ones."""

from tests.openai_dialect.conftest import client, fake_openai, gw  # noqa: F401
