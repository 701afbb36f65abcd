"""An OpenAI chat.completions request -> an Anthropic Messages request.

Pure functions over parsed JSON: no I/O, no config object. What Claude cannot honour is either refused
(`TranslationError`, a 400 naming the parameter) or, when the caller allows it (`drop_params`), left out
and reported in `Translated.dropped` so the client can be told in a response header. A parameter whose
value is the OpenAI default (`n: 1`, `presence_penalty: 0`, `logprobs: false`...) changes nothing, so it
is neither refused nor reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

# Parameters this module maps onto Claude (or that only steer the translation itself).
HANDLED = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "top_k",  # not OpenAI's, but OpenAI-dialect clients of Claude send it and Claude has it
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "user",
        "safety_identifier",
        "n",
    }
)
# Parameters that change nothing when they carry these values (OpenAI's defaults).
NO_OP_VALUES: dict[str, tuple[Any, ...]] = {
    "n": (1,),
    "presence_penalty": (0, 0.0),
    "frequency_penalty": (0, 0.0),
    "logprobs": (False,),
    "top_logprobs": (0,),
    "store": (False,),
    "service_tier": ("auto", "default"),
    "logit_bias": ({},),
    "modalities": (["text"],),
}
# Hints with no effect on the answer: accepted and ignored (`metadata` only means something with `store`).
IGNORED = frozenset({"prompt_cache_key", "metadata"})

CLAUDE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)((?:;[\w-]+=[^;,]*)*);base64,(.*)$", re.DOTALL)
JSON_OBJECT_INSTRUCTION = (
    "Respond with a single valid JSON object and nothing else: no prose before or after it, no code fences."
)
DEFAULT_JSON_TOOL = "json_response"


class TranslationError(ValueError):
    """A request Claude cannot serve as asked; `param` names the offending part (OpenAI's `param`)."""

    def __init__(self, message: str, param: str | None = None, code: str | None = "invalid_value") -> None:
        self.message = message
        self.param = param
        self.code = code
        super().__init__(message)


@dataclass(slots=True)
class Translated:
    payload: dict[str, Any]
    dropped: list[str] = field(default_factory=list)
    include_usage: bool = False
    # the tool that stands in for response_format json_schema: its input is the answer's content
    json_tool: str | None = None


def chat_to_messages(chat: dict[str, Any], *, drop_params: bool = False, default_max_tokens: int = 4096) -> Translated:
    """Translate a (validated: has `model` and a `messages` list) chat.completions body."""
    _refuse_n(chat.get("n"))
    unmappable = unmappable_params(chat)
    if unmappable and not drop_params:
        names = ", ".join(unmappable)
        raise TranslationError(
            f"Claude models do not support the parameter(s) {names}; remove them, or set translate.drop_params: "
            "true on the gateway (or send the header x-anyray-drop-params: true) to have them dropped",
            unmappable[0],
            "unsupported_parameter",
        )
    system, messages = _messages(chat["messages"])
    out: dict[str, Any] = {"model": chat["model"]}
    out["max_tokens"] = _max_tokens(chat, default_max_tokens)
    if chat.get("stream") is True:
        out["stream"] = True
    _sampling(chat, out)
    if (stop := _stop(chat.get("stop"))) is not None:
        out["stop_sequences"] = stop
    user = chat.get("safety_identifier") or chat.get("user")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user[:256]}
    tools = _tools(chat.get("tools"))
    if tools:
        out["tools"] = tools
        if (choice := _tool_choice(chat.get("tool_choice"), chat.get("parallel_tool_calls"), tools)) is not None:
            out["tool_choice"] = choice
    json_tool = _response_format(chat.get("response_format"), out, system)
    if system:
        out["system"] = system
    if not messages:
        raise TranslationError(
            "messages: Claude needs at least one user or assistant message besides system messages", "messages"
        )
    out["messages"] = messages
    stream_options = chat.get("stream_options")
    include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
    return Translated(out, unmappable, include_usage, json_tool)


def unmappable_params(chat: dict[str, Any]) -> list[str]:
    """The top-level parameters Claude cannot honour, in the order the client sent them."""
    out = []
    for name, value in chat.items():
        if name in HANDLED or name in IGNORED or value is None:
            continue
        if name in NO_OP_VALUES and value in NO_OP_VALUES[name]:
            continue
        out.append(name)
    return out


def _refuse_n(n: Any) -> None:
    if n is None or n == 1:
        return
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise TranslationError("n: expected a positive integer", "n")
    raise TranslationError(
        f"n: Claude models return one choice per request; n={n} cannot be served. Send {n} requests instead.",
        "n",
        "unsupported_value",
    )


def _max_tokens(chat: dict[str, Any], default: int) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = chat.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise TranslationError(f"{name}: expected a positive integer", name)
        return value
    return default


def _number(chat: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = chat.get(name)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise TranslationError(f"{name}: expected a number between {low:g} and {high:g}", name)
    return value


def _sampling(chat: dict[str, Any], out: dict[str, Any]) -> None:
    temperature = _number(chat, "temperature", 0, 2)
    if temperature is not None:
        out["temperature"] = min(temperature, 1.0)  # OpenAI's range is 0..2, Claude's 0..1
    top_p = _number(chat, "top_p", 0, 1)
    if top_p is not None:
        out["top_p"] = top_p
    top_k = chat.get("top_k")
    if top_k is not None:
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise TranslationError("top_k: expected a positive integer", "top_k")
        out["top_k"] = top_k


def _stop(stop: Any) -> list[str] | None:
    if stop is None:
        return None
    values = [stop] if isinstance(stop, str) else stop
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise TranslationError("stop: expected a string or a list of strings", "stop")
    values = [v for v in values if v]
    return values or None


# ---------------------------------------------------------------------------------------------- messages


def _messages(raw: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for i, message in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise TranslationError(f"{where}: expected an object", where)
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            # Claude has one system prompt; system turns anywhere in the conversation join it, in order
            system.extend(_text_blocks(content, f"{where}.content"))
            continue
        if role == "user":
            blocks = _user_blocks(content, f"{where}.content")
            _append(messages, "user", blocks)
        elif role == "assistant":
            blocks = _assistant_blocks(message, where)
            _append(messages, "assistant", blocks)
        elif role == "tool":
            _append(messages, "user", [_tool_result(message, where)])
        elif role == "function":
            raise TranslationError(
                f"{where}.role: the legacy 'function' role is not supported for Claude models; use tools and "
                "'tool' messages",
                f"{where}.role",
            )
        else:
            raise TranslationError(
                f"{where}.role: expected one of system, developer, user, assistant, tool (got {role!r})",
                f"{where}.role",
            )
    return system, [_compact(m) for m in messages]


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Claude wants user and assistant turns to alternate: consecutive turns of one role are merged."""
    if not blocks:  # an empty turn says nothing, and must not keep its neighbours apart
        return
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(blocks)
    else:
        messages.append({"role": role, "content": list(blocks)})


def _compact(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if len(content) == 1 and content[0]["type"] == "text" and set(content[0]) == {"type", "text"}:
        return {"role": message["role"], "content": content[0]["text"]}
    return message


def _text_block(part: dict[str, Any], where: str) -> dict[str, Any] | None:
    text = part.get("text")
    if not isinstance(text, str):
        raise TranslationError(f"{where}.text: expected a string", f"{where}.text")
    if not text:
        return None  # Claude refuses empty text blocks; an empty part says nothing
    block: dict[str, Any] = {"type": "text", "text": text}
    if isinstance(part.get("cache_control"), dict):  # Claude-aware clients place their own breakpoints
        block["cache_control"] = part["cache_control"]
    return block


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict):
                raise TranslationError(f"{where}[{j}]: expected an object", f"{where}[{j}]")
        return content
    raise TranslationError(f"{where}: expected a string or a list of content parts", where)


def _text_blocks(content: Any, where: str, allowed: tuple[str, ...] = ("text",)) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    out = []
    for j, part in enumerate(_parts(content, where)):
        kind = part.get("type")
        if kind not in allowed:
            raise TranslationError(
                f"{where}[{j}].type: expected {' or '.join(allowed)} here (got {kind!r})", f"{where}[{j}].type"
            )
        if kind == "refusal":
            part = {"text": part.get("refusal")}
        if (block := _text_block(part, f"{where}[{j}]")) is not None:
            out.append(block)
    return out


def _user_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if content is None:
        raise TranslationError(f"{where}: user messages need content", where)
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    out = []
    for j, part in enumerate(_parts(content, where)):
        here = f"{where}[{j}]"
        kind = part.get("type")
        if kind == "text":
            if (block := _text_block(part, here)) is not None:
                out.append(block)
        elif kind == "image_url":
            out.append(image_block(part.get("image_url"), f"{here}.image_url"))
        elif kind == "file":
            out.append(_file_block(part.get("file"), f"{here}.file"))
        elif kind == "input_audio":
            raise TranslationError(f"{here}: Claude models do not accept audio input", f"{here}.type")
        else:
            raise TranslationError(f"{here}.type: expected text, image_url or file (got {kind!r})", f"{here}.type")
    return out


def parse_data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a `data:<type>[;k=v];base64,<data>` URL, or None if it is not one."""
    m = _DATA_URL.match(url)
    return (m.group(1).lower(), m.group(3)) if m else None


def image_block(image: Any, where: str) -> dict[str, Any]:
    """An OpenAI `image_url` -> a Claude image block: data URLs inline (base64), http(s) URLs by reference."""
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise TranslationError(f"{where}.url: expected a data: or https: URL", f"{where}.url")
    if url.startswith("data:"):
        parsed = parse_data_url(url)
        if parsed is None:
            raise TranslationError(f"{where}.url: expected a base64 data URL (data:image/png;base64,...)", where)
        media_type, data = parsed
        if media_type == "image/jpg":
            media_type = "image/jpeg"
        if media_type not in CLAUDE_IMAGE_TYPES:
            raise TranslationError(
                f"{where}.url: Claude accepts {', '.join(sorted(CLAUDE_IMAGE_TYPES))} images (got {media_type})",
                f"{where}.url",
            )
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise TranslationError(f"{where}.url: expected a data: or http(s): URL", f"{where}.url")


def _file_block(file: Any, where: str) -> dict[str, Any]:
    if not isinstance(file, dict):
        raise TranslationError(f"{where}: expected an object with file_data", where)
    if file.get("file_id"):
        raise TranslationError(
            f"{where}.file_id: files stored at OpenAI cannot be read by Claude models; send file_data inline",
            f"{where}.file_id",
        )
    data = file.get("file_data")
    parsed = parse_data_url(data) if isinstance(data, str) else None
    if parsed is None or parsed[0] != "application/pdf":
        raise TranslationError(
            f"{where}.file_data: Claude models accept PDF files as data:application/pdf;base64,... URLs",
            f"{where}.file_data",
        )
    return {"type": "document", "source": {"type": "base64", "media_type": parsed[0], "data": parsed[1]}}


def _assistant_blocks(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    blocks = _text_blocks(message.get("content"), f"{where}.content", ("text", "refusal"))
    tool_calls = message.get("tool_calls")
    if tool_calls is None:
        if message.get("function_call") is not None:
            raise TranslationError(
                f"{where}.function_call: the legacy function_call is not supported for Claude models; use tool_calls",
                f"{where}.function_call",
            )
        return blocks
    if not isinstance(tool_calls, list):
        raise TranslationError(f"{where}.tool_calls: expected a list", f"{where}.tool_calls")
    for j, call in enumerate(tool_calls):
        here = f"{where}.tool_calls[{j}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not call.get("id"):
            raise TranslationError(f"{here}: expected {{id, type: function, function: {{name, arguments}}}}", here)
        blocks.append({"type": "tool_use", "id": call["id"], "name": fn["name"], "input": _arguments(fn, here)})
    return blocks


def _arguments(fn: dict[str, Any], where: str) -> dict[str, Any]:
    raw = fn.get("arguments")
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = orjson.loads(raw) if isinstance(raw, str) else None
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise TranslationError(
            f"{where}.function.arguments: expected a JSON object encoded as a string", f"{where}.function.arguments"
        )
    return value


def _tool_result(message: dict[str, Any], where: str) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise TranslationError(f"{where}.tool_call_id: required for tool messages", f"{where}.tool_call_id")
    content = message.get("content")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    if isinstance(content, str):
        block["content"] = content
    else:
        block["content"] = _text_blocks(content, f"{where}.content")
    return block


# ---------------------------------------------------------------------------------------------- tools


def _tools(tools: Any) -> list[dict[str, Any]]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise TranslationError("tools: expected a list", "tools")
    out = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise TranslationError(
                f"{where}.type: only function tools can be sent to Claude models (got {kind!r})", f"{where}.type"
            )
        fn = tool.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise TranslationError(f"{where}.function.name: required", f"{where}.function.name")
        schema = fn.get("parameters")
        if schema is None:
            schema = {"type": "object", "properties": {}}
        elif not isinstance(schema, dict):
            raise TranslationError(f"{where}.function.parameters: expected a JSON schema object", where)
        entry: dict[str, Any] = {"name": fn["name"]}
        if isinstance(fn.get("description"), str) and fn["description"]:
            entry["description"] = fn["description"]
        entry["input_schema"] = schema
        if isinstance(tool.get("cache_control"), dict):  # a Claude-aware client's (or the optimizer's) breakpoint
            entry["cache_control"] = tool["cache_control"]
        out.append(entry)
    return out


def _tool_choice(choice: Any, parallel: Any, tools: list[dict[str, Any]]) -> dict[str, Any] | None:
    out: dict[str, Any] | None
    if choice is None or choice == "auto":
        out = {"type": "auto"}
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name") if isinstance(choice.get("function"), dict) else None
        if name not in {t["name"] for t in tools}:
            raise TranslationError(f"tool_choice.function.name: {name!r} is not one of the tools", "tool_choice")
        out = {"type": "tool", "name": name}
    else:
        raise TranslationError(
            "tool_choice: expected none, auto, required or {type: function, function: {name}}", "tool_choice"
        )
    if parallel is False:
        out["disable_parallel_tool_use"] = True
    elif choice is None:
        return None  # Claude's default is auto already: send nothing the client did not ask for
    return out


def _response_format(fmt: Any, out: dict[str, Any], system: list[dict[str, Any]]) -> str | None:
    """JSON output where Claude can honour it: a schema becomes a forced tool whose input is the answer
    (when the request has no tools of its own); otherwise an instruction in the system prompt."""
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        system.append({"type": "text", "text": JSON_OBJECT_INSTRUCTION})
        return None
    if kind != "json_schema":
        raise TranslationError("response_format.type: expected text, json_object or json_schema", "response_format")
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        raise TranslationError("response_format.json_schema.schema: expected a JSON schema object", "response_format")
    if "tools" not in out:
        name = spec.get("name") if isinstance(spec.get("name"), str) and spec.get("name") else DEFAULT_JSON_TOOL
        tool: dict[str, Any] = {"name": name, "input_schema": schema}
        tool["description"] = spec.get("description") or "Give the answer as this tool's input."
        out["tools"] = [tool]
        out["tool_choice"] = {"type": "tool", "name": name}
        return name
    instruction = f"{JSON_OBJECT_INSTRUCTION} The object must match this JSON schema: {orjson.dumps(schema).decode()}"
    system.append({"type": "text", "text": instruction})
    return None
