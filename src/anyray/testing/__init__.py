"""Wire-faithful fakes of the provider APIs, for demos and benchmarks without credentials (and the tests).

`FakeUpstream` serves the Anthropic API, Claude on Vertex AI, the OpenAI API and Google's OAuth2 token
endpoint on one port (`python -m anyray.testing serve`); `make_service_account_key` writes keys that real
google-auth code can use against the fake; `anyray.testing.lean` is the minimal upstream `anyray bench`
measures against. Test-only helpers (a server in a thread, a fake Kubernetes API) are in the source
tree's tests/kit/, not in the wheel.
"""

from anyray.testing.google import make_service_account_key
from anyray.testing.upstream import FakeUpstream

__all__ = ["FakeUpstream", "make_service_account_key"]
