"""OpenAI ⇄ Anthropic translation: requests, responses and streams (docs/openai.md).

Used when the model map sends an OpenAI-dialect request to a Claude model (Vertex or Anthropic), so
the client never sees an Anthropic shape. Everything here is a pure function of parsed JSON (the
stream translator holds only its own position in the stream), which is what makes it unit-testable.
"""

from anyray.translate.request import Translated, TranslationError, chat_to_messages, unmappable_params
from anyray.translate.response import chat_usage, finish_reason, message_to_completion
from anyray.translate.stream import (
    DONE,
    ChatStreamTranslator,
    chunks_to_completion,
    completion_to_chunks,
    sse_bytes,
    stream_error,
)

__all__ = [
    "DONE",
    "ChatStreamTranslator",
    "Translated",
    "TranslationError",
    "chat_to_messages",
    "chat_usage",
    "chunks_to_completion",
    "completion_to_chunks",
    "finish_reason",
    "message_to_completion",
    "sse_bytes",
    "stream_error",
    "unmappable_params",
]
