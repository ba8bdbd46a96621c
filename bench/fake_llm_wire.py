"""The two wire formats the fake LLM speaks: reading a request, writing answers and errors.

Shapes follow the SDKs in the venv: `openai.types.chat.ChatCompletion` (finish_reason "stop" or
"length", usage prompt/completion/total tokens, errors as `{"error": {message, type, param,
code}}`) and `anthropic.types.Message` (content blocks, stop_reason "tool_use", "end_turn" or
"max_tokens", usage input/output tokens, errors as `{"type": "error", "error": {type, message}}`).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from playparse import heuristic
from playparse.llm.prompt import DOCUMENT_CLOSE, DOCUMENT_OPEN, TOOL_NAME, ChunkOutput
from playparse.schema import CharacterRef, ChunkContext

Protocol = Literal["openai", "anthropic"]

# Anthropic's error types by status (anthropic.types.shared.ErrorType); 529 is its overload.
_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# OpenAI's (type, code) by status, as its API sends them.
_OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


# What a model that ignores the format says: prose, then JSON without its closing brace.
_NOT_JSON = "Here is the structure of the chunk:\n"


class BadRequest(Exception):
    """A request the real API would reject with 400."""


# Models whose documented request rules the fake enforces, so that a request the real API
# refuses for that model is refused here too. OpenAI's reasoning models take no temperature
# but the default 1, and no max_tokens (max_completion_tokens instead). Claude models that
# always think refuse a forced tool choice; those from before structured outputs (Claude 4.5)
# refuse output_config.format.
_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5|gpt-6)")
_CLAUDE_ALWAYS_THINKING = re.compile(r"^claude-((opus|sonnet)-5-5|fable|mythos)")
_CLAUDE_BEFORE_STRUCTURED_OUTPUTS = re.compile(
    r"^claude-(3|2|instant|(opus|sonnet)-4(-[01])?(-\d{8})?$)"
)


@dataclass(frozen=True)
class Prompt:
    """What the fake needs from a request, whichever protocol carried it."""

    model: str
    # Every piece of prompt text (system, messages, tool results), for counting input tokens.
    chars: int
    # The text between the delimiters of the last user message that has them.
    document: str | None
    context: ChunkContext = field(default_factory=ChunkContext)
    # The tool (Anthropic) or function (OpenAI) the answer goes to; None: answer as text.
    tool: str | None = None
    # OpenAI answers a named tool_choice with finish_reason "stop", any other with "tool_calls".
    tool_forced: bool = False
    max_tokens: int | None = None
    # The JSON schema the answer must follow (a strict response format or the tool's input).
    schema: dict[str, Any] | None = None


def tokens(chars: int) -> int:
    """About four characters per token, rounded up."""
    return math.ceil(chars / 4)


# --- reading requests ----------------------------------------------------------------------------


def read_request(protocol: Protocol, body: Any) -> Prompt:
    """The prompt of a request body; raises BadRequest where the real API answers 400."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        raise BadRequest("model: field required")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: at least one message is required")
    if body.get("stream"):
        raise BadRequest("stream: the fake LLM answers only non-streaming requests")
    texts: list[str] = []
    user_texts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            raise BadRequest("messages: each message must be an object")
        text = _content_text(message.get("content"))
        if message.get("tool_calls"):
            text += json.dumps(message["tool_calls"])
        texts.append(text)
        if message.get("role") == "user":
            user_texts.append(text)
    if protocol == "anthropic":
        texts.append(_content_text(body.get("system")))
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int):
            raise BadRequest("max_tokens: field required")
        tool, forced = _anthropic_tool(body)
        schema = _anthropic_schema(body, tool)
        _check_anthropic_model(model, body, forced)
    else:
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        tool, forced = _openai_tool(body)
        schema = _openai_schema(body, tool)
        _check_openai_model(model, body)
    document, context = _document(user_texts)
    return Prompt(
        model=model,
        chars=sum(len(t) for t in texts),
        document=document,
        context=context,
        tool=tool,
        tool_forced=forced,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        schema=schema,
    )


def _check_anthropic_model(model: str, body: dict[str, Any], forced: bool) -> None:
    if forced and _CLAUDE_ALWAYS_THINKING.match(model):
        raise BadRequest(
            f"tool_choice: forcing a tool is not supported with {model}; use tool_choice "
            "auto or output_config.format"
        )
    if _output_format(body) is not None and _CLAUDE_BEFORE_STRUCTURED_OUTPUTS.match(model):
        raise BadRequest(f"output_config.format: structured outputs are not supported by {model}")


def _check_openai_model(model: str, body: dict[str, Any]) -> None:
    if not _OPENAI_REASONING.match(model):
        return
    if "max_tokens" in body:
        raise BadRequest(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead."
        )
    if body.get("temperature", 1) != 1:
        raise BadRequest(
            f"Unsupported value: 'temperature' does not support {body['temperature']} with "
            "this model. Only the default (1) value is supported."
        )


def _output_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """Anthropic's structured-output format (output_config.format), if the request has one."""
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else None
    return fmt if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None


def _content_text(content: Any) -> str:
    """The text of a message content: a string or a list of blocks (text, tool_use, ...)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif block.get("type") == "tool_use":
            parts.append(json.dumps(block.get("input")))
        elif block.get("type") == "tool_result":
            parts.append(_content_text(block.get("content")))
    return "\n".join(parts)


def _anthropic_tool(body: dict[str, Any]) -> tuple[str | None, bool]:
    tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    choice = body.get("tool_choice") or {}
    if isinstance(choice, dict) and choice.get("type") == "tool":
        return str(choice.get("name")), True
    if not tools or (isinstance(choice, dict) and choice.get("type") == "none"):
        return None, False
    return (TOOL_NAME if TOOL_NAME in tools else str(tools[0])), choice.get("type") == "any"


def _openai_tool(body: dict[str, Any]) -> tuple[str | None, bool]:
    tools = [
        (t.get("function") or {}).get("name")
        for t in body.get("tools") or []
        if isinstance(t, dict)
    ]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        return str(choice["function"]["name"]), True
    if not tools or choice == "none":
        return None, False
    return (TOOL_NAME if TOOL_NAME in tools else str(tools[0])), False


def _anthropic_schema(body: dict[str, Any], tool: str | None) -> dict[str, Any] | None:
    if tool is None:
        schema = (_output_format(body) or {}).get("schema")
        return schema if isinstance(schema, dict) else None
    for each in body.get("tools") or []:
        if isinstance(each, dict) and each.get("name") == tool:
            schema = each.get("input_schema")
            return schema if isinstance(schema, dict) else None
    return None


def _openai_schema(body: dict[str, Any], tool: str | None) -> dict[str, Any] | None:
    if tool is not None:
        for each in body.get("tools") or []:
            function = each.get("function") if isinstance(each, dict) else None
            if isinstance(function, dict) and function.get("name") == tool:
                schema = function.get("parameters")
                return schema if isinstance(schema, dict) else None
        return None
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else None
    return None


def _document(user_texts: list[str]) -> tuple[str | None, ChunkContext]:
    """The document block and context of the last user message carrying one."""
    for text in reversed(user_texts):
        start = text.find(DOCUMENT_OPEN + "\n")
        end = text.rfind("\n" + DOCUMENT_CLOSE)
        if start < 0 or end < start:
            continue
        document = text[start + len(DOCUMENT_OPEN) + 1 : end]
        return document, _context(text[:start])
    return None, ChunkContext()


def _context(preamble: str) -> ChunkContext:
    """A ChunkContext from the context JSON that playparse.llm.prompt.context_block writes."""
    try:
        facts = json.loads(preamble[preamble.index("{") : preamble.rindex("}") + 1])
        return ChunkContext(
            index=facts.get("chunk") or 0,
            language=facts.get("language"),
            act_title=facts.get("act"),
            scene_title=facts.get("scene"),
            characters=[CharacterRef.model_validate(c) for c in facts.get("characters") or []],
            open_speakers=facts.get("speech_running_on_from_before_the_chunk") or [],
        )
    except (ValueError, TypeError, AttributeError, ValidationError):
        return ChunkContext()


# --- answers -------------------------------------------------------------------------------------


def answer(prompt: Prompt) -> dict[str, Any]:
    """The ChunkOutput a model would return: the offline parser's reading of the document."""
    if prompt.document is None:
        return ChunkOutput(title=None, author=None, cast=[], items=[]).model_dump(mode="json")
    parse = heuristic.parse_chunk(prompt.document, prompt.context)
    output = {
        "title": parse.title,
        "author": parse.author,
        "cast": [{"name": c.name, "description": c.description} for c in parse.cast],
        "items": [
            {
                "type": item.type,
                "text": item.text,
                "speakers": item.speakers,
                "number": item.number,
                "setting": item.setting,
            }
            for item in parse.items
        ],
    }
    return ChunkOutput.model_validate(output).model_dump(mode="json")


def conform(value: Any, schema: dict[str, Any] | None, defs: dict[str, Any] | None = None) -> Any:
    """`value` as a model bound to `schema` returns it: no property the schema does not name.

    Structured outputs and tool inputs follow the schema sent, so a field missing from the
    request's schema is missing from the answer too, as with the real APIs.
    """
    if schema is None:
        return value
    defs = schema.get("$defs", {}) if defs is None else defs
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = defs.get(ref.removeprefix("#/$defs/"), {})
    for branch in schema.get("anyOf") or []:
        if isinstance(branch, dict) and branch.get("type") != "null" and value is not None:
            return conform(value, branch, defs)
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        return {k: conform(v, properties[k], defs) for k, v in value.items() if k in properties}
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        return [conform(v, items, defs) for v in value]
    return value


def compose(
    protocol: Protocol,
    prompt: Prompt,
    output: dict[str, Any],
    kind: str,
    ids: str,
    *,
    as_text: bool = False,
) -> tuple[dict[str, Any], int]:
    """The success body of one reply kind and the output tokens it reports.

    ok: the answer; invalid: the answer with an item of type "song" first; malformed: prose
    and the answer without its closing brace; truncated: stopped by max_tokens (see
    bench.fake_llm_script.truncated); refused: the model declines; empty: an answer that
    records nothing; filtered: OpenAI's content filter cut the answer.
    """
    if kind == "refused":
        return _refusal(protocol, prompt, ids)
    if kind == "empty":
        output = {**output, "title": None, "author": None, "cast": [], "items": []}
    if kind == "invalid":
        song: dict[str, Any] = {
            "type": "song",
            "text": "La la.",
            "speakers": [],
            "number": None,
            "setting": None,
        }
        output = {**output, "items": [song, *output["items"]]}
    full = json.dumps(output, ensure_ascii=False)
    half, not_json = full[: len(full) // 2], _NOT_JSON + full[:-1]
    if protocol == "openai":
        content = {"malformed": not_json, "truncated": half, "filtered": half}.get(kind, full)
        finish = {"truncated": "length", "filtered": "content_filter"}.get(kind, "stop")
        used = _used(prompt, finish == "length", content)
        return _openai_completion(ids, prompt, content, finish, used), used
    stop = "tool_use" if prompt.tool else "end_turn"
    block = _tool_use(ids, prompt.tool, output) if prompt.tool else _text_block(full)
    sent = full
    if kind == "malformed":
        stop, block, sent = "end_turn", _text_block(not_json), not_json
    elif kind == "truncated":
        stop = "max_tokens"
        if as_text or not prompt.tool:
            block, sent = _text_block(half), half
        else:
            partial = _cut(output)
            block, sent = _tool_use(ids, prompt.tool, partial), json.dumps(partial)
    used = _used(prompt, stop == "max_tokens", sent)
    return _anthropic_message(ids, prompt, block, stop, used), used


REFUSAL = "I can't help with recording this text."


def _refusal(protocol: Protocol, prompt: Prompt, ids: str) -> tuple[dict[str, Any], int]:
    used = tokens(len(REFUSAL))
    if protocol == "openai":
        body = _openai_completion(ids, prompt, "", "stop", used)
        choice = body["choices"][0]
        choice["finish_reason"] = "stop"
        choice["message"].pop("tool_calls", None)
        choice["message"].update(content=None, refusal=REFUSAL)
        return body, used
    return _anthropic_message(ids, prompt, _text_block(REFUSAL), "refusal", used), used


def _used(prompt: Prompt, at_limit: bool, sent: str) -> int:
    """Output tokens: the request's limit when it stopped there, else the length of the text."""
    if at_limit and prompt.max_tokens:
        return prompt.max_tokens
    return tokens(len(sent))


def _cut(output: dict[str, Any]) -> dict[str, Any]:
    """What a tool input stopped by max_tokens holds: the first half, the last item cut short."""
    items = [dict(item) for item in output["items"][: max(1, len(output["items"]) // 2)]]
    if items:
        items[-1]["text"] = items[-1]["text"][: len(items[-1]["text"]) // 2]
    return {**output, "items": items}


def _openai_completion(
    ids: str, prompt: Prompt, content: str, finish: str, output_tokens: int
) -> dict[str, Any]:
    """A ChatCompletion; `content` goes to message.content or, with a tool, to its arguments."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if prompt.tool is not None:
        call = {"name": prompt.tool, "arguments": content}
        message["content"] = None
        message["tool_calls"] = [{"id": f"call_{ids}", "type": "function", "function": call}]
        if finish == "stop" and not prompt.tool_forced:
            finish = "tool_calls"
    input_tokens = tokens(prompt.chars)
    return {
        "id": f"chatcmpl-{ids}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": prompt.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake_llm",
    }


def _anthropic_message(
    ids: str, prompt: Prompt, block: dict[str, Any], stop: str, output_tokens: int
) -> dict[str, Any]:
    """A Message with one content block (a tool_use or a text block)."""
    return {
        "id": f"msg_{ids}",
        "type": "message",
        "role": "assistant",
        "model": prompt.model,
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": tokens(prompt.chars),
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }


def _tool_use(ids: str, name: str, value: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{ids}", "name": name, "input": value}


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "citations": None}


def error(
    protocol: Protocol,
    status: int,
    message: str,
    ids: str,
    retry_after: float | None = None,
    error_code: str | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The error body each API sends with a non-2xx status, and the headers to go with it."""
    headers = {}
    if retry_after is not None:
        # Whole seconds in the standard header, the exact wait in the one both SDKs read first.
        headers["retry-after"] = str(math.ceil(retry_after))
        headers["retry-after-ms"] = str(math.ceil(retry_after * 1000))
    if protocol == "anthropic":
        kind = _ANTHROPIC_ERRORS.get(status, "api_error")
        detail: dict[str, Any] = {"type": kind, "message": message}
        if error_code is not None:
            # Where the API names the cause (a spend limit, say) and the SDK reads error_code.
            detail["details"] = {"error_code": error_code}
        body = {"type": "error", "error": detail}
        return {**body, "request_id": f"req_{ids}"}, headers
    kind, code = _OPENAI_ERRORS.get(status, ("server_error", None))
    code = error_code or code
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers
