"""Client API dialects (Anthropic Messages, OpenAI Chat Completions), one module each behind `Dialect`."""

from anyray.server.gateway.dialects.anthropic import ANTHROPIC, AnthropicDialect
from anyray.server.gateway.dialects.base import BadAnswer, Dialect, Leg, Outbound, Relay
from anyray.server.gateway.dialects.openai import OPENAI, OpenAIDialect, anthropic_dialect

__all__ = [
    "ANTHROPIC",
    "OPENAI",
    "AnthropicDialect",
    "BadAnswer",
    "Dialect",
    "Leg",
    "OpenAIDialect",
    "Outbound",
    "Relay",
    "anthropic_dialect",
]
