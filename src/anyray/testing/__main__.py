"""`python -m anyray.testing serve|sa-key`: the fakes from a shell, for demos and benchmarks."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

from anyray.testing.google import make_service_account_key
from anyray.testing.upstream import FakeUpstream


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m anyray.testing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake provider APIs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9999)
    serve.add_argument("--anthropic-key", default=None, help="require this x-api-key")
    serve.add_argument("--openai-key", default=None, help="require this Bearer key")
    serve.add_argument("--token-lifetime", type=float, default=3600.0, help="seconds an access token lives")
    serve.add_argument("--trust-key", type=Path, default=None, help="verify JWTs against this key file")
    key = commands.add_parser("sa-key", help="write a service-account key whose token_uri is the fake")
    key.add_argument("--token-uri", required=True)
    key.add_argument("--project", default="anyray-test")
    key.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "sa-key":
        info = make_service_account_key(args.token_uri, args.project)
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(info, f, indent=2)
        print(args.output)
        return

    fake = FakeUpstream(args.anthropic_key, args.openai_key, token_lifetime_s=args.token_lifetime)
    if args.trust_key:
        fake.trust_service_account(json.loads(args.trust_key.read_text()))
    url = f"http://{args.host}:{args.port}"
    print(f"Anthropic base URL:  {url}")
    print(f"Vertex base URL:     {url}/v1   (providers.vertex.base_url)")
    print(f"OpenAI base URL:     {url}/v1")
    print(f"Google token URI:    {url}/token  (python -m anyray.testing sa-key --token-uri {url}/token -o sa.json)")
    from anyray.server.runner import run, serve_stack  # the server `anyray up` runs on: core install only

    with contextlib.suppress(KeyboardInterrupt):
        run(serve_stack([(fake.app, args.host, args.port)]))


if __name__ == "__main__":
    main()
