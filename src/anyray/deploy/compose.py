"""`anyray up --compose`: Docker checks that end in a next step, and the `docker compose` call itself."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import anyray
from anyray.deploy.render import Rendered, env_file_lines

TOKEN_ENV = "ANYRAY_OPTIMIZER_TOKEN"

NO_DOCKER_NEXT = (
    "Install Docker (https://docs.docker.com/get-docker/) and re-run `anyray up --compose`, "
    "or run `anyray up` without --compose: it needs no Docker."
)


class DockerUnavailable(Exception):
    def __init__(self, problem: str, next_step: str) -> None:
        self.problem = problem
        self.next_step = next_step
        super().__init__(problem)


def _run(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, cwd=cwd)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def check_docker() -> None:
    """Raise DockerUnavailable naming what is missing: the CLI, its engine, or the Compose plugin."""
    if shutil.which("docker") is None:
        raise DockerUnavailable("Docker is not installed: there is no `docker` command on PATH.", NO_DOCKER_NEXT)
    try:
        info = _run(["docker", "info", "--format", "{{.ServerVersion}}"])
    except OSError as exc:
        raise DockerUnavailable(f"`docker` could not be run: {exc}", NO_DOCKER_NEXT) from None
    if info.returncode != 0:
        raise DockerUnavailable(
            f"Docker is installed but its engine is not running ({_last_line(info.stderr)}).",
            "Start Docker Desktop (or `sudo systemctl start docker` on Linux), wait until `docker info` answers, "
            "then re-run `anyray up --compose`. Or run `anyray up` without --compose: it needs no Docker.",
        )
    compose = _run(["docker", "compose", "version"])
    if compose.returncode != 0:
        raise DockerUnavailable(
            f"Docker Compose v2 is missing ({_last_line(compose.stderr)}).",
            "Install the Compose plugin (package docker-compose-plugin, or Docker Desktop), then re-run.",
        )


def source_checkout() -> Path | None:
    """The source tree anyray runs from, when it has the Dockerfile (an editable install): compose can
    then build the image itself instead of pulling one that was never published."""
    root = Path(anyray.__file__).resolve().parents[2]
    return root if (root / "Dockerfile").is_file() and (root / "pyproject.toml").is_file() else None


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def _write_private(path: Path, lines: list[str]) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n")


def ensure_env_files(out_dir: Path, rendered: Rendered, environ: Mapping[str, str], postgres: bool) -> list[Path]:
    """Create anyray.env (and postgres.env) with mode 0600 from the variables this shell already has,
    where there is none yet; an existing file is the user's and is never touched. Returns the new ones."""
    created = []
    app_env, db_env, opt_env = out_dir / "anyray.env", out_dir / "postgres.env", out_dir / "optimizer.env"
    password = environ.get("POSTGRES_PASSWORD")
    for existing, key in ((db_env, "POSTGRES_PASSWORD"), (app_env, "PGPASSWORD")):
        if existing.exists():
            password = password or _read_env(existing).get(key)
    password = password or secrets.token_urlsafe(24)
    # the optimizer's service token, in optimizer.env, which the optimizer, the gateway and LiteLLM all read
    # (compose.yaml); one that an older anyray.env holds is kept, so the stack keeps the token it had
    token = environ.get(TOKEN_ENV)
    for existing in (opt_env, app_env):
        if existing.exists():
            token = token or _read_env(existing).get(TOKEN_ENV)
    token = token or secrets.token_urlsafe(32)
    if not app_env.exists():
        lines = ["# Written by `anyray up --compose` from your environment. Yours to edit; never commit it."]
        lines += env_file_lines([n for n in rendered.secret_env if n != TOKEN_ENV], environ)
        if postgres:
            lines.append(f"PGPASSWORD={password}")
        _write_private(app_env, lines)
        created.append(app_env)
    if not opt_env.exists():
        _write_private(opt_env, ["# Written by `anyray up --compose`: the optimizer's service token, nothing else."
                                 " The optimizer, the gateway and LiteLLM read it.",
                                 f"{TOKEN_ENV}={token}"])  # fmt: skip
        created.append(opt_env)
    if postgres and not db_env.exists():
        _write_private(db_env, ["# Written by `anyray up --compose`: the postgres container's password.",
                                f"POSTGRES_PASSWORD={password}"])  # fmt: skip
        created.append(db_env)
    return created


def up_argv(profiles: Sequence[str], build: bool) -> list[str]:
    argv = ["docker", "compose"]
    for profile in profiles:
        argv += ["--profile", profile]
    argv += ["up", "-d", "--wait"]  # --wait: return once the healthchecks pass, or fail naming the service
    if build:
        argv.append("--build")
    return argv


def compose_up(out_dir: Path, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return _run(argv, cwd=out_dir)
