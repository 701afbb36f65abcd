"""The optional features and the extra that installs each (`pip install 'anyray[k8s]'`).

The core install runs the gateway, the optimizer, the console, render/deploy and doctor. What only some
deployments use is an extra; using such a feature without it fails where it is used, with one line that
names the extra to install (`MissingExtra`), and `anyray doctor` lists which extras are installed.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from types import ModuleType

# extra -> (the modules it provides, what it enables)
EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "k8s": (("kubernetes", "ruamel.yaml"), "anyray redirect (a cluster's workloads, manifest files)"),
    "postgres": (("psycopg", "psycopg_pool"), "a PostgreSQL spend store (store.url: postgresql://...)"),
    "redis": (("redis",), "a Redis response cache (cache.url: redis://...)"),
    "litellm": (("litellm",), "the LiteLLM adapter (anyray.adapters.litellm)"),
    "otel": (("opentelemetry.sdk",), "exporting traces over OTLP (OTEL_* variables)"),
    # rate limits shared by replicas (rate_limits.redis_url) use the redis extra too
}


class MissingExtra(ImportError):
    """A feature's package is not installed; the message is the one line to show, with the pip command."""

    def __init__(self, extra: str, module: str, feature: str | None = None) -> None:
        self.extra = extra
        self.install = f"pip install 'anyray[{extra}]'"
        super().__init__(f"{feature or EXTRAS[extra][1]} needs {module}, which is not installed: {self.install}",
                         name=module)


def need(module: str, extra: str, feature: str | None = None) -> ModuleType:
    """`module`, imported; or MissingExtra naming the extra that installs it."""
    try:
        return import_module(module)
    except ImportError:
        raise MissingExtra(extra, module, feature) from None


# importing litellm takes seconds and reaches for the network (its price map): it is only looked for
_LOOK_ONLY = frozenset({"litellm"})


def missing(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here (empty: the extra is installed)."""
    absent = []
    for module in EXTRAS[extra][0]:
        try:
            if module in _LOOK_ONLY:
                if find_spec(module) is None:
                    absent.append(module)
            else:
                import_module(module)
        except (ImportError, ValueError):  # not installed, or blocked (sys.modules[name] = None)
            absent.append(module)
    return absent


def check_config(config: object) -> None:
    """Fail now, in one line, when the config names a store or cache whose extra is not installed (rather
    than in the server's start-up, with a traceback)."""
    cache = str(getattr(getattr(config, "cache", None), "url", None) or "")
    store = str(getattr(getattr(config, "store", None), "url", None) or "")
    if cache.startswith("redis"):
        need("redis.asyncio", "redis", "cache.url: redis://...")
    if store.startswith("postgres"):
        need("psycopg", "postgres", "store.url: postgresql://...")
        need("psycopg_pool", "postgres", "store.url: postgresql://...")
