"""Wire-faithful fakes of the provider APIs, for tests, demos and benchmarks without credentials.

`FakeUpstream` serves the Anthropic API, Claude on Vertex AI, the OpenAI API and Google's OAuth2 token
endpoint on one port; `ServerThread` runs any ASGI app on a loopback port in a thread;
`make_service_account_key` writes keys that real google-auth code can use against the fake.
"""

from anyray.testing.google import make_service_account_key
from anyray.testing.server import ServerThread
from anyray.testing.upstream import FakeUpstream

__all__ = ["FakeUpstream", "ServerThread", "make_service_account_key"]
