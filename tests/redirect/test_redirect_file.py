"""`anyray redirect --file`: a commented multi-document manifest changes only its env lines (and the
anyray annotations), and `--undo` gives the file back byte for byte."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from ruamel.yaml import YAML

from anyray.deploy.redirect import ANNOTATION_PREVIOUS
from tests.redirect.conftest import GATEWAY

MANIFEST = """\
# acme web stack, applied by Argo CD from this repository
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the front end
  labels:
    app: web
    team: ai
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: app
          image: "ghcr.io/acme/web:1.2"   # pinned
          env:
            # talks to Claude directly today
            - name: LOG_LEVEL
              value: info
            - name: ANTHROPIC_BASE_URL
              value: 'https://api.anthropic.com'
          ports:
            - containerPort: 8080
        - name: proxy
          image: envoyproxy/envoy:v1.31
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80     # http, odd spacing kept
    targetPort: 8080
---
# nightly summaries
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  labels: {team: ai}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: job
            image: acme/job   # no env yet
"""


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _is_env_or_annotation(line: str) -> bool:
    body = line[1:].strip()
    return (
        body in ("env:", "annotations:")
        or body.startswith(("- name: ANTHROPIC_BASE_URL", "- name: OPENAI_BASE_URL", "anyray.dev/"))
        or (body.startswith("value: ") and ("gw.anyray.test" in body or "api.anthropic.com" in body))
    )


def test_file_redirect_changes_only_env_lines_and_undo_is_byte_identical(tmp_path: Path, anyray) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(MANIFEST)

    result = anyray("redirect", "--file", str(path), "--all-containers", "--gateway-url", GATEWAY, "-y")

    assert result.exit_code == 0, result.output
    assert "deployment/web" in result.output and "cronjob/nightly" in result.output
    after = path.read_text()
    changed = _changed_lines(MANIFEST, after)
    assert changed, "the file did not change"
    assert all(_is_env_or_annotation(line) for line in changed), "\n".join(changed)
    for line in MANIFEST.splitlines():  # every comment, quote and odd spacing is still there
        if "#" in line:
            assert line in after.splitlines(), line
    docs = list(YAML(typ="safe").load_all(after))
    web, _service, nightly = (d for d in docs if d)
    app, proxy = web["spec"]["template"]["spec"]["containers"]
    assert app["env"] == [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "ANTHROPIC_BASE_URL", "value": GATEWAY},
        {"name": "OPENAI_BASE_URL", "value": f"{GATEWAY}/v1"},
    ]
    assert proxy["env"][0] == {"name": "ANTHROPIC_BASE_URL", "value": GATEWAY}
    assert json.loads(web["metadata"]["annotations"][ANNOTATION_PREVIOUS])["app"]["ANTHROPIC_BASE_URL"] == {
        "name": "ANTHROPIC_BASE_URL",
        "value": "https://api.anthropic.com",
    }
    job = nightly["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in job["env"]] == ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"]

    again = anyray("redirect", "--file", str(path), "--all-containers", "--gateway-url", GATEWAY, "-y")
    assert again.exit_code == 0 and "nothing to change" in again.output
    assert path.read_text() == after

    undo = anyray("redirect", "--file", str(path), "--undo", "-y")
    assert undo.exit_code == 0, undo.output
    assert path.read_text() == MANIFEST


def test_file_dry_run_and_selection(tmp_path: Path, anyray) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(MANIFEST)

    dry = anyray("redirect", "--file", str(path), "-l", "team=ai", "--all-containers", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "deployment/web" in dry.output and "cronjob/nightly" in dry.output
    assert path.read_text() == MANIFEST

    one = anyray("redirect", "cronjob/nightly", "--file", str(path), "--gateway-url", GATEWAY, "-y")
    assert one.exit_code == 0, one.output
    changed = _changed_lines(MANIFEST, path.read_text())
    assert any("OPENAI_BASE_URL" in line for line in changed)
    assert not any("api.anthropic.com" in line for line in changed)  # the Deployment was left alone

    missing = anyray("redirect", "statefulset/db", "--file", str(path), "-y")
    assert missing.exit_code == 1 and f"no statefulset/db in {path} matches" in missing.output


def test_kustomize_base_directory(tmp_path: Path, anyray) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "kustomization.yaml").write_text("resources:\n  - stack.yaml\n  - ../elsewhere\n")
    (base / "stack.yaml").write_text(MANIFEST)

    result = anyray("redirect", "deployment/web", "--file", str(base), "-c", "app", "--gateway-url", GATEWAY, "-y")
    assert result.exit_code == 0, result.output
    assert f"wrote {base / 'stack.yaml'}" in result.output
    assert "gw.anyray.test" in (base / "stack.yaml").read_text()

    assert anyray("redirect", "deployment/web", "--file", str(base), "--undo", "-y").exit_code == 0
    assert (base / "stack.yaml").read_text() == MANIFEST


def test_file_value_from_round_trip_and_mixed_indentation_warning(tmp_path: Path, anyray) -> None:
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
      - name: app
        image: acme/api
        env:
        - name: ANTHROPIC_BASE_URL
          valueFrom:
            secretKeyRef:
              name: llm
              key: base-url
      volumes:
        - name: data   # indented differently from the containers list above
          emptyDir: {}
"""
    path = tmp_path / "api.yaml"
    path.write_text(manifest)

    result = anyray("redirect", "deployment/api", "-f", str(path), "--gateway-url", GATEWAY, "-y")

    assert result.exit_code == 0, result.output
    assert "ANTHROPIC_BASE_URL: (secret llm key base-url) → " in result.output
    assert "mixes YAML indentation styles" in result.output  # said, not silently re-indented
    app = YAML(typ="safe").load(path.read_text())["spec"]["template"]["spec"]["containers"][0]
    assert app["env"][0] == {"name": "ANTHROPIC_BASE_URL", "value": GATEWAY}

    assert anyray("redirect", "deployment/api", "-f", str(path), "--undo", "-y").exit_code == 0
    restored = YAML(typ="safe").load(path.read_text())
    assert restored == YAML(typ="safe").load(manifest)  # the same data, the secret reference back


HEAD = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n  template:\n    spec:\n"
        "      containers:\n")
TRAILING_COMMENTS = {
    "after the last env entry, at the end of the file": (
        "        - name: app\n          image: shop/checkout:1.2\n          env:\n            - name: LOG_LEVEL\n"
        "              value: info\n# trailing comment\n"),
    "after a value, at the end of the file": (
        "        - name: app\n          image: shop/checkout:1.2  # pinned\n# end\n"),
    "after a blank line": (
        "        - name: app\n          image: shop/checkout:1.2\n          env:\n            - name: A\n"
        "              value: \"1\"  # one\n\n# trailing comment after a blank line\n"),
    "at the end of the container": "        - name: app\n          image: shop/checkout:1.2\n          # last word\n",
    "at the end of an env list, another container after": (
        "        - name: app\n          image: shop/checkout:1.2\n          env:\n            - name: A\n"
        "              value: \"1\"\n            # trailing comment in env\n        - name: sidecar\n"
        "          image: envoy\n"),
    "between env and the next key": (
        "        - name: app\n          image: shop/checkout:1.2\n          env:\n            - name: LOG_LEVEL\n"
        "              value: info  # keep quiet\n          # ports below\n          ports:\n"
        "            - containerPort: 8080\n"),
}


def test_undo_gives_back_every_trailing_comment_where_it_was(tmp_path: Path, anyray) -> None:
    """The review saw `--undo` move a trailing comment; these are the places one can trail."""
    for where, body in TRAILING_COMMENTS.items():
        path = tmp_path / "deploy.yaml"
        path.write_text(HEAD + body)
        done = anyray("redirect", "--file", str(path), "-c", "app", "--gateway-url", GATEWAY, "-y")
        assert done.exit_code == 0 and path.read_text() != HEAD + body, (where, done.output)
        undo = anyray("redirect", "--file", str(path), "--undo", "-y")
        assert undo.exit_code == 0, (where, undo.output)
        assert path.read_text() == HEAD + body, where
