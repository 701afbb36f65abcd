"""The test kit: what the tests and benchmarks need and the product does not, so it is not in the wheel.

`ServerThread` runs an ASGI app on a loopback port in a thread (the provider fakes on uvicorn's h11, a
server independent of the gateway's own; the gateway as `anyray up` serves it); `kube.FakeKubeAPI` is a
fake Kubernetes API server; `retriever` a scripted model that uses the retrieve tool; `shapes` the
request shapes real clients send. The provider fakes themselves are the product's (`anyray.testing`).
"""

from tests.kit.server import ServerThread

__all__ = ["ServerThread"]
