"""Rule 0, measured by replay: a whole session never costs more because of the optimizer.

    record:  python -m benchmarks.replay.record [--only NAME]     -> benchmarks/sessions/*.json
    replay:  python -m benchmarks.replay.run [--write docs/savings.md]

Sessions are recorded through the gateway from real clients (the anthropic SDK in a tool-use loop, and
Claude Code `claude -p`) driving the fake upstream, whose responder plays the model and asks for real
tool calls in a scratch repo, so tool output is real. Each session is then replayed request by request
through the gateway twice, optimizer off (`x-anyray-optimize: off`) and on, with the fake upstream
doing prompt-cache accounting by Anthropic's published rules, and priced from the price table.
"""
