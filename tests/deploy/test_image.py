"""The image's inputs: the Docker build context, the wheel it installs, and the command it runs.

No Docker engine here, so the build itself is not run; what it depends on is: the files the
.dockerignore lets into the context are enough to build the wheel (the Dockerfile's first stage), the
wheel carries the templates, and the installed wheel renders and serves (`anyray serve ...`, the CMD).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

from tests.deploy.conftest import clean_env, validate_k8s

ROOT = Path(__file__).resolve().parents[2]


def _ignored(rel: str, rules: list[str]) -> bool:
    """.dockerignore's reading, for the patterns this project uses: later rules win, '!' re-includes."""
    ignored = False
    for rule in rules:
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatchcase(part, pattern[3:]) for part in rel.split("/"))
        else:
            hit = fnmatch.fnmatchcase(rel, pattern) or rel.startswith(pattern + "/")
        if hit:
            ignored = not negate
    return ignored


def _build_context(dest: Path) -> list[str]:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    files = [f for f in tracked.stdout.splitlines() if (ROOT / f).is_file()]
    kept = [f for f in files if not _ignored(f, rules)]
    for rel in kept:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    for secret_prone in (".venv/bin/python", ".git/config", "tests/conftest.py", "anyray.env", ".env"):
        assert _ignored(secret_prone, rules), secret_prone
    return kept


def _final_stage(dockerfile: str) -> list[str]:
    stages = re.split(r"(?m)^FROM ", dockerfile)
    return [line.strip() for line in stages[-1].splitlines()]


def test_the_dockerfile_runs_a_non_root_user_and_serves_by_command():
    text = (ROOT / "Dockerfile").read_text()
    final = _final_stage(text)
    assert final[0].startswith("python:3.11-slim")
    [user] = [line for line in final if line.startswith("USER ")]
    uid = user.split()[1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0  # numeric, so runAsNonRoot can be verified by the kubelet
    assert 'ENTRYPOINT ["anyray"]' in final
    assert 'CMD ["serve", "gateway"]' in final
    assert any(line.startswith("RUN pip install") and "[postgres,redis]" in line for line in final)
    # no secret is baked in: no credential-looking ENV or ARG
    for line in final:
        if line.startswith(("ENV", "ARG")):
            assert not re.search(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS", line), line
    # the rendered manifests run the same user
    from anyray.deploy.render import RUN_AS

    assert int(uid) == RUN_AS


def _stages(dockerfile: str) -> dict[str, list[str]]:
    """Each stage's lines by its name (`FROM image AS name`); the unnamed last one under ''."""
    out = {}
    for stage in re.split(r"(?m)^FROM ", dockerfile)[1:]:
        lines = [line.strip() for line in stage.splitlines()]
        head = lines[0].split()
        out[head[2] if len(head) == 3 and head[1].upper() == "AS" else ""] = lines
    return out


def _installed_extras(lines: list[str]) -> set[str]:
    install = " ".join(line for line in lines if "pip install" in line)
    found = re.search(r"anyray-\*\.whl\)?\[([a-z0-9,]+)\]", install)
    return set(found.group(1).split(",")) if found else set()


def test_the_image_installs_every_extra_a_rendered_profile_uses_and_litellm_has_its_own_stage():
    from anyray.config import Config
    from anyray.deploy.render import render
    from anyray.extras import EXTRAS

    stages = _stages((ROOT / "Dockerfile").read_text())
    # the stores a rendering can turn on (the compose profiles, the GKE URLs): the gateway image needs their extras
    everything = Config.model_validate({"deploy": {"postgres": True, "redis": True, "litellm": True}})
    profiles = {line.split("=", 1)[1] for line in render("compose", everything).files[".env"].splitlines()
                if line.startswith("COMPOSE_PROFILES=")}
    used = {p for p in ",".join(profiles).split(",") if p in EXTRAS and p != "litellm"}
    assert used == {"postgres", "redis"} and used <= _installed_extras(stages[""])
    # LiteLLM runs in its own image: LiteLLM's, with the wheel of the build stage installed in it
    litellm = stages["litellm"]
    assert litellm[0].startswith("ghcr.io/berriai/litellm:") and "COPY --from=build /wheels /wheels" in litellm
    assert any("pip install" in line and "/wheels/anyray-*.whl" in line for line in litellm)
    assert everything.deploy.litellm_image.startswith("anyray-litellm:")
    compose = yaml.safe_load(render("compose", Config.model_validate(
        {"deploy": {"litellm": True, "build_context": "/src/anyray"}})).files["compose.yaml"])
    assert compose["services"]["litellm"]["build"] == {"context": "/src/anyray", "target": "litellm"}
    assert "build" in compose["services"]["gateway"] and "target" not in compose["services"]["gateway"]["build"]


def test_the_build_context_builds_a_wheel_that_carries_the_templates_and_renders(tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    kept = _build_context(context)
    assert "pyproject.toml" in kept and "Dockerfile" not in kept
    assert not any(f.startswith(("tests/", ".venv/", "docs/")) for f in kept)

    # the Dockerfile's first stage: pip wheel --no-deps from exactly that context
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(wheels), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = wheels.glob("anyray-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    source_templates = {
        "anyray/" + p.relative_to(ROOT / "src" / "anyray").as_posix()
        for p in (ROOT / "src" / "anyray" / "templates").rglob("*.j2")
    }
    assert source_templates and source_templates <= names
    # the product, not its bench or test kit (issue 23): those stay in the source tree
    assert not any(n.startswith(("anyray/bench/", "benchmarks/", "tests/")) for n in names)
    assert not {"anyray/testing/kube.py", "anyray/testing/server.py"} & names
    assert "anyray/testing/upstream.py" in names and "anyray/testing/lean.py" in names  # the fakes a user runs

    # the installed package (not this source tree) renders the manifests
    env = clean_env(PYTHONPATH=str(tmp_path / "site"))
    out = tmp_path / "out"
    where = subprocess.run(
        [sys.executable, "-c", "import anyray; print(anyray.__file__)"], capture_output=True, text=True, env=env
    )
    assert where.stdout.startswith(str(tmp_path / "site")), where.stdout + where.stderr
    result = subprocess.run(
        [sys.executable, "-m", "anyray", "render", "gke", "-o", str(out), "--set", "deploy.project=p"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for path in sorted(out.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            validate_k8s(doc)
    serve = subprocess.run(
        [sys.executable, "-m", "anyray", "serve", "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert serve.returncode == 0 and "gateway" in serve.stdout and "optimizer" in serve.stdout
    assert os.path.isdir(tmp_path / "site" / "anyray" / "templates" / "gke")
