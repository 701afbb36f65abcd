"""The retrieve tool and its loop: compression the model itself can undo (docs/optimizer.md)."""

from anyray.server.gateway.retrieve.anthropic_wire import AnthropicWire
from anyray.server.gateway.retrieve.openai_wire import OpenAIWire
from anyray.server.gateway.retrieve.wire import Wire

WIRES: dict[str, Wire] = {"anthropic": AnthropicWire(), "openai": OpenAIWire()}

__all__ = ["WIRES", "Wire"]
