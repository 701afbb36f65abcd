"""The optimizer's core: Optimizer Protocol v1 messages in, decisions out.

This is the seam the gateway's in-process hook and the HTTP service share. Today it is a
pass-through that validates the message shape; the strategy pipeline plugs in behind `optimize`.
"""

from __future__ import annotations

from typing import Any

PROTOCOL_VERSION = "1"
ENDPOINTS = ("/v1/messages", "/v1/chat/completions")


class ProtocolError(ValueError):
    """A message the optimizer does not understand; `field` names the offending part."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


def validate_optimize(message: Any) -> None:
    if not isinstance(message, dict):
        raise ProtocolError("<body>", "expected a JSON object")
    if message.get("endpoint") not in ENDPOINTS:
        raise ProtocolError("endpoint", f"expected one of {', '.join(ENDPOINTS)}")
    if not isinstance(message.get("request"), dict):
        raise ProtocolError("request", "expected a JSON object")
    if not isinstance(message.get("metadata", {}), dict):
        raise ProtocolError("metadata", "expected a JSON object")


class Optimizer:
    async def optimize(self, message: dict[str, Any]) -> dict[str, Any]:
        validate_optimize(message)
        return {"request": message["request"], "decisions": []}

    async def optimize_response(self, message: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(message, dict) or "response" not in message:
            raise ProtocolError("response", "required")
        return {"response": message["response"], "decisions": []}

    def capabilities(self) -> dict[str, Any]:
        return {"protocolVersion": PROTOCOL_VERSION, "strategies": []}
