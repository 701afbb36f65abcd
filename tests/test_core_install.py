"""The core install and its extras: a feature whose extra is missing says, in one line, what to install;
doctor lists the extras; the serving processes import no command group they do not run.

A missing extra is simulated the way Python itself reports one: `sys.modules[name] = None` makes every
import of `name` raise ImportError, in a subprocess of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_cli_up import _free_port

SRC = str(Path(__file__).parents[1] / "src")


def run_without(modules: list[str], code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    blocked = "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-c", f"import sys\n{blocked}{code}"], capture_output=True, text=True,
                          timeout=60, env=env, cwd=tmp_path, check=False)


def cli(*argv: str) -> str:
    return f"from anyray.cli import main\nsys.argv = ['anyray', *{list(argv)!r}]\nmain()\n"


def one_line_error(done: subprocess.CompletedProcess, install: str, needs: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and lines[0].endswith(install) and f"needs {needs}," in lines[0], lines[0]


def test_redirect_on_a_cluster_without_the_k8s_extra(tmp_path):
    done = run_without(["kubernetes"], cli("redirect", "deployment/checkout", "-n", "shop"), tmp_path)
    one_line_error(done, "pip install 'anyray[k8s]'", "kubernetes")
    assert "anyray redirect on a cluster" in done.stderr


def test_redirect_on_a_manifest_file_without_the_k8s_extra(tmp_path):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout}\n")
    done = run_without(["ruamel", "ruamel.yaml"], cli("redirect", "deployment/checkout", "--file", str(manifest)),
                       tmp_path)
    one_line_error(done, "pip install 'anyray[k8s]'", "ruamel.yaml")


def test_a_redis_cache_without_the_redis_extra(tmp_path):
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({"cache": {"url": "redis://127.0.0.1:6379/0"}}))
    done = run_without(["redis"], cli("up", "--config", str(config), "--port", str(_free_port()),
                                      "--optimizer-port", str(_free_port())), tmp_path)
    one_line_error(done, "pip install 'anyray[redis]'", "redis.asyncio")


def test_the_litellm_adapter_without_the_litellm_extra(tmp_path):
    done = run_without(["litellm"], "import anyray.adapters.litellm\n", tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "anyray.extras.MissingExtra: the LiteLLM adapter (anyray.adapters.litellm) needs litellm, which is not "
        "installed: pip install 'anyray[litellm]'")


def test_a_postgres_store_without_the_postgres_extra(tmp_path):
    config = tmp_path / "anyray.yaml"
    config.write_text(yaml.safe_dump({"store": {"url": "postgresql://u@127.0.0.1:1/db"}}))
    done = run_without(["psycopg", "psycopg_pool"], cli("spend", "--config", str(config)), tmp_path)
    assert done.returncode != 0 and "pip install 'anyray[postgres]'" in done.stdout + done.stderr


def test_doctor_lists_the_extras_and_says_what_to_install(tmp_path):
    done = run_without(["kubernetes", "litellm"], cli("doctor", "--json"), tmp_path)
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["extra: k8s"]["status"] == "ok"  # not needed by this config: said, not failed
    assert "not installed" in checks["extra: k8s"]["found"] and "pip install 'anyray[k8s]'" in checks["extra: k8s"][
        "found"]
    assert "pip install 'anyray[litellm]'" in checks["extra: litellm"]["found"]
    assert checks["extra: redis"]["found"].startswith("redis ")  # installed here: its version
    # the table prints the hint as it is: rich markup would read `[k8s]` as a style and drop it
    table = run_without(["kubernetes", "litellm"], cli("doctor"), tmp_path)
    assert "pipinstall'anyray[k8s]'" in "".join(table.stdout.split())  # (whitespace aside: the cell may wrap)


def test_help_and_version_need_no_extra(tmp_path):
    blocked = ["kubernetes", "ruamel", "ruamel.yaml", "redis", "psycopg", "psycopg_pool", "litellm"]
    assert run_without(blocked, cli("--version"), tmp_path).stdout.strip().startswith("anyray ")
    done = run_without(blocked, cli("--help"), tmp_path)
    assert done.returncode == 0 and "redirect" in done.stdout, done.stderr
    assert run_without(blocked, cli("redirect", "--help"), tmp_path).returncode == 0


SERVING = """
import json
import anyray.server.runner as runner
def held(main):  # instead of serving: what this process imported to get here
    main.close()
    print(json.dumps(sorted(sys.modules)))
runner.run = held
"""


@pytest.mark.parametrize(("argv", "own"), [
    (["serve", "gateway"], {"anyray.cli.serve"}),
    (["serve", "optimizer"], {"anyray.cli.serve"}),
    (["up"], {"anyray.cli.up"}),
])
def test_serving_processes_import_only_their_own_command(tmp_path, argv, own):
    ports = ["--port", str(_free_port())] + (["--optimizer-port", str(_free_port())] if argv == ["up"] else [])
    done = run_without([], SERVING + cli(*argv, *ports), tmp_path)
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(next(line for line in done.stdout.splitlines() if line.startswith("["))))
    assert {m for m in modules if m.startswith("anyray.cli")} == {"anyray.cli", "anyray.cli.common"} | own
    # httpx2: genai-prices' package imports its updater's client when its price data is read; anyray never
    # starts the updater and sends nothing through it (the gateway's client is its own, server/gateway/h1)
    assert not {m for m in modules if m.startswith(("anyray.deploy", "anyray.doctor", "anyray.testing", "kubernetes",
                                                    "benchmarks", "aiohttp", "jsonschema", "httpx", "uvicorn"))
                and not m.startswith("httpx2")}
    if argv == ["serve", "optimizer"]:
        assert "anyray.server.gateway.app" not in modules


def test_bench_outside_a_source_checkout_says_what_to_do(tmp_path):
    """The bench is not in the wheel: installed from one (simulated: anyray lives outside any checkout) and run
    outside a checkout, `anyray bench` says in one line where it runs."""
    wheel_like = "import anyray\nanyray.__file__ = '/opt/site-packages/anyray/__init__.py'\n"
    done = run_without([], wheel_like + cli("bench", "--requests", "10"), tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "anyray bench runs from a source checkout" in line and "pip install -e '.[test]'" in line
