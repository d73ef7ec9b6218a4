"""Request errors in the live API's words: each row is a request and what api.openai.com answered
it (``param``, ``code``, message), as client projects recorded them field by field in their
conformance tables of 2026 (chat completions and the Responses API, against models that reason),
replayed over raw HTTP against the ``openai`` profile. Left out: rows that depend on what a
model supports beyond ``checks.reasoning``, and three in which another role's message carries an
assistant's member (a tool message's ``refusal``), which the live API takes and the profile
refuses as unknown (docs/profiles.md, differences).
"""

from __future__ import annotations

import pytest
from conftest import post_json

DELETE = "__delete__"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]}
RESPONSES_BODY = {"model": "gpt-4o", "input": "ping", "max_output_tokens": 16}

# (name, what the request adds to the body (DELETE: removes), param, code, message)
CHAT = [
    ("dev content absent", {"messages": [{"role": "user", "content": "a"}, {"role": "developer"}]}, "messages[1].content", "missing_required_parameter", "Missing required parameter: 'messages[1].content'."),
    ("dev content null", {"messages": [{"role": "user", "content": "a"}, {"role": "developer", "content": None}]}, "messages[1].content", "invalid_type", "Invalid type for 'messages[1].content': expected one of a string or array of objects, but got null instead."),
    ("empty tool_calls", {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "tool_calls": []}]}, "messages[1].tool_calls", "empty_array", "Invalid 'messages[1].tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead."),
    ("tool_calls string", {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "x", "tool_calls": "x"}]}, "messages[1].tool_calls", "invalid_type", "Invalid type for 'messages[1].tool_calls': expected an array of objects, but got a string instead."),
    ("later content type beats", {"messages": [{"role": "user"}, {"role": "user", "content": 7}]}, "messages[1].content", "invalid_type", "Invalid type for 'messages[1].content': expected one of a string or array of objects, but got an integer instead."),
    ("missing content", {"messages": [{"role": "user"}, {"role": "user", "content": "a"}]}, "messages.[0].content", None, "Invalid value for 'content': expected a string, got null."),
    ("bad role later", {"messages": [{"role": "user"}, {"role": "bogus", "content": "a"}]}, "messages[1].role", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."),
    ("a null refusal is no substitute", {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "refusal": None}]}, "messages.[1].content", None, "Invalid value for 'content': expected a string, got null."),
    ("a null tool_calls is no substitute", {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "tool_calls": None}]}, "messages.[1].content", None, "Invalid value for 'content': expected a string, got null."),
    ("a null function_call is no substitute", {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "function_call": None}]}, "messages.[1].content", None, "Invalid value for 'content': expected a string, got null."),
    ("a developer message in its own words", {"messages": [{"role": "user", "content": "a"}, {"role": "developer", "refusal": "no"}]}, "messages[1].content", "missing_required_parameter", "Missing required parameter: 'messages[1].content'."),
    ("unknown", {"zzz_unknown": 1}, "zzz_unknown", "unknown_parameter", "Unknown parameter: 'zzz_unknown'."),
    ("reasoning", {"reasoning": {"effort": "low"}}, "reasoning", "unknown_parameter", "Unknown parameter: 'reasoning'."),
    ("stor", {"stor": 1}, "stor", "unknown_parameter", "Unknown parameter: 'stor'. Did you mean 'stop' or 'store'?"),
    ("temperatur", {"temperatur": 1}, "temperatur", "unknown_parameter", "Unknown parameter: 'temperatur'. Did you mean 'temperature'?"),
    ("messagess", {"messagess": 1}, "messagess", "unknown_parameter", "Unknown parameter: 'messagess'."),
    ("pcr outside", {"prompt_cache_retention": "x"}, "prompt_cache_retention", None, "Invalid prompt_cache_retention argument"),
    ("n string", {"n": "2"}, "n", "invalid_type", "Invalid type for 'n': expected an integer, but got a string instead."),
    ("temp string", {"temperature": "hot"}, "temperature", "invalid_type", "Invalid type for 'temperature': expected a decimal, but got a string instead."),
    ("store string", {"store": "yes"}, "store", "invalid_type", "Invalid type for 'store': expected a boolean, but got a string instead."),
    ("seed 1.5", {"seed": 1.5}, "seed", "invalid_type", "Invalid type for 'seed': expected an integer, but got a decimal number instead."),
    ("user object", {"user": {"a": 1}}, "user", "invalid_type", "Invalid type for 'user': expected a string, but got an object instead."),
    ("tools string", {"tools": "none"}, "tools", "invalid_type", "Invalid type for 'tools': expected an array of objects, but got a string instead."),
    ("tool_choice int", {"tool_choice": 7}, "tool_choice", "invalid_type", "Invalid type for 'tool_choice': expected one of one of 'none', 'auto', or 'required' or object, but got an integer instead."),
    ("rf string", {"response_format": "json"}, "response_format", "invalid_type", "Invalid type for 'response_format': expected an object, but got a string instead."),
    ("messages string", {"messages": "ping"}, "messages", "invalid_type", "Invalid type for 'messages': expected an array of objects, but got a string instead."),
    ("message item string", {"messages": ["ping"]}, "messages[0]", "invalid_type", "Invalid type for 'messages[0]': expected an object, but got a string instead."),
    ("content 7", {"messages": [{"role": "user", "content": 7}]}, "messages[0].content", "invalid_type", "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an integer instead."),
    ("pcr object", {"prompt_cache_retention": {"a": 1}}, "prompt_cache_retention", "invalid_type", "Invalid type for 'prompt_cache_retention': expected one of 'in_memory' or '24h', but got an object instead."),
    ("tier object", {"service_tier": {"a": 1}}, "service_tier", "invalid_type", "Invalid type for 'service_tier': expected one of 'auto', 'default', 'fast', 'flex', or 'priority', but got an object instead."),
    ("n 0", {"n": 0}, "n", "integer_below_min_value", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."),
    ("mct 0", {"max_completion_tokens": 0}, "max_completion_tokens", "integer_below_min_value", "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead."),
    ("top_logprobs -1", {"logprobs": True, "top_logprobs": -1}, "top_logprobs", "integer_below_min_value", "Invalid 'top_logprobs': integer below minimum value. Expected a value >= 0, but got -1 instead."),
    ("top_logprobs w/o logprobs", {"top_logprobs": 1}, "top_logprobs", None, "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled."),
    ("metadata 17", {"metadata": {"k0": "v", "k1": "v", "k2": "v", "k3": "v", "k4": "v", "k5": "v", "k6": "v", "k7": "v", "k8": "v", "k9": "v", "k10": "v", "k11": "v", "k12": "v", "k13": "v", "k14": "v", "k15": "v", "k16": "v"}}, "metadata", "object_above_max_properties", "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead."),
    ("metadata value 600", {"metadata": {"k": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}, "metadata.k", "string_above_max_length", "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, but got a string with length 600 instead."),
    ("metadata key 70", {"metadata": {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": "v"}}, "metadata.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "property_name_above_max_length", "Invalid property name in 'metadata': 'kkk...kkk' is too long. Expected a string with maximum length 64, but got a string with length 70 instead."),
    ("metadata int", {"metadata": {"k": 7}}, "metadata.k", "invalid_type", "Invalid type for 'metadata.k': expected a string, but got an integer instead."),
    ("tier bogus", {"service_tier": "bogus"}, "service_tier", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'auto', 'default', 'fast', 'flex', and 'priority'."),
    ("verbosity bogus", {"verbosity": "bogus"}, "verbosity", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'low', 'medium', and 'high'."),
    ("rf type bogus", {"response_format": {"type": "bogus"}}, "response_format.type", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'json_object', 'json_schema', and 'text'."),
    ("tool_choice bogus", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "tool_choice": "bogus"}, "tool_choice", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'none', 'auto', and 'required'."),
    ("rf no type", {"response_format": {}}, "response_format.type", "missing_required_parameter", "Missing required parameter: 'response_format.type'."),
    ("function no name", {"functions": [{"parameters": {}}]}, "functions[0].name", "missing_required_parameter", "Missing required parameter: 'functions[0].name'."),
    # continuedev/continue#3370 (gpt-4o, 2024), dnakov/anon-kode#20 (2025).
    ("tools empty", {"tools": []}, "tools", "empty_array", "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead."),
    ("tool no function", {"tools": [{"type": "function"}]}, "tools[0].function", "missing_required_parameter", "Missing required parameter: 'tools[0].function'."),
    ("tool fn no name", {"tools": [{"type": "function", "function": {"parameters": {}}}]}, "tools[0].function.name", "missing_required_parameter", "Missing required parameter: 'tools[0].function.name'."),
    ("tool_choice obj no fn", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "tool_choice": {"type": "bogus"}}, "tool_choice.function", "missing_required_parameter", "Missing required parameter: 'tool_choice.function'."),
    ("tool_choice fn no name", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "tool_choice": {"type": "function", "function": {}}}, "tool_choice.function.name", "missing_required_parameter", "Missing required parameter: 'tool_choice.function.name'."),
    ("blank fn name", {"tools": [{"type": "function", "function": {"name": "", "parameters": {}}}]}, "tools[0].function.name", "empty_string", "Invalid 'tools[0].function.name': empty string. Expected a string with minimum length 1, but got an empty string instead."),
    ("tool_choice undeclared", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "tool_choice": {"type": "function", "function": {"name": "never_declared"}}}, "function_call", None, "Invalid value for 'function_call': no function named 'never_declared' was specified in the 'functions' parameter."),
    ("function_call no name", {"functions": [{"name": "f", "parameters": {}}], "function_call": {"__probe__": "x"}}, "function_call.name", "missing_required_parameter", "Missing required parameter: 'function_call.name'."),
    ("no messages", {"messages": "__delete__"}, "messages", "missing_required_parameter", "Missing required parameter: 'messages'."),
    ("empty messages", {"messages": []}, "messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."),
    ("no role", {"messages": [{"content": "ping"}]}, "messages[0].role", "missing_required_parameter", "Missing required parameter: 'messages[0].role'."),
    ("moderation no model", {"moderation": {}}, "moderation.model", "missing_required_parameter", "Missing required parameter: 'moderation.model'."),
    ("fp 3", {"frequency_penalty": 3}, "frequency_penalty", "decimal_above_max_value", "Invalid 'frequency_penalty': decimal above maximum value. Expected a value <= 2, but got 3 instead."),
    ("pp -3", {"presence_penalty": -3}, "presence_penalty", "decimal_below_min_value", "Invalid 'presence_penalty': decimal below minimum value. Expected a value >= -2, but got -3 instead."),
    ("js no member", {"response_format": {"type": "json_schema"}}, "response_format.json_schema", "missing_required_parameter", "Missing required parameter: 'response_format.json_schema'."),
    ("js no name", {"response_format": {"type": "json_schema", "json_schema": {}}}, "response_format.json_schema.name", "missing_required_parameter", "Missing required parameter: 'response_format.json_schema.name'."),
    ("so bogus", {"stream_options": {"bogus": 1}}, "stream_options.bogus", "unknown_parameter", "Unknown parameter: 'stream_options.bogus'."),
    ("pco bogus", {"prompt_cache_options": {"bogus": 1}}, "prompt_cache_options.bogus", "unknown_parameter", "Unknown parameter: 'prompt_cache_options.bogus'."),
    ("missing model beats unknown", {"model": "__delete__", "zzz_unknown": 1}, None, None, "you must provide a model parameter"),
    ("missing messages beats unknown", {"messages": "__delete__", "zzz_unknown": 1}, "messages", "missing_required_parameter", "Missing required parameter: 'messages'."),
    ("unknown beats type", {"zzz_unknown": 1, "n": "abc"}, "zzz_unknown", "unknown_parameter", "Unknown parameter: 'zzz_unknown'."),
    ("unknown beats empty messages", {"zzz_unknown": 1, "messages": []}, "zzz_unknown", "unknown_parameter", "Unknown parameter: 'zzz_unknown'."),
    ("unknown beats enum", {"zzz_unknown": 1, "service_tier": "bogus"}, "zzz_unknown", "unknown_parameter", "Unknown parameter: 'zzz_unknown'."),
    ("metadata string", {"metadata": "x"}, "metadata", "invalid_type", "Invalid type for 'metadata': expected a metadata object, but got a string instead."),
    ("functions string", {"functions": "x"}, "functions", "invalid_type", "Invalid type for 'functions': expected an array of function definitions, but got a string instead."),
    ("pco string", {"prompt_cache_options": "x"}, "prompt_cache_options", "invalid_type", "Invalid type for 'prompt_cache_options': expected an object, but got a string instead."),
    ("stream string", {"stream": "y"}, "stream", "invalid_type", "Invalid type for 'stream': expected a boolean, but got a string instead."),
]  # fmt: skip

RESPONSES = [
    ("unknown key", {"zzz_unknown": 1}, "zzz_unknown", "unknown_parameter", "Unknown parameter: 'zzz_unknown'."),
    ("n", {"n": 2}, "n", "unknown_parameter", "Unknown parameter: 'n'."),
    ("stop", {"stop": ["ZZ"]}, "stop", "unknown_parameter", "Unknown parameter: 'stop'. Did you mean 'store'?"),
    ("seed", {"seed": 1}, "seed", "unknown_parameter", "Unknown parameter: 'seed'."),
    ("logprobs", {"logprobs": True}, "logprobs", "unknown_parameter", "Unknown parameter: 'logprobs'."),
    ("max_tokens", {"max_tokens": 16}, "max_tokens", "unknown_parameter", "Unknown parameter: 'max_tokens'."),
    ("model absent", {"model": "__delete__"}, "model", "missing_required_parameter", "Missing required parameter: 'model'."),
    ("model int", {"model": 7}, "model", "invalid_type", "Invalid type for 'model': expected a string, but got an integer instead."),
    ("input object", {"input": {"a": 1}}, "input", "invalid_type", "Invalid type for 'input': expected one of a string or array of input items, but got an object instead."),
    ("input item unknown member", {"input": [{"role": "user", "content": "ping", "bogus": 1}]}, "input[0].bogus", "unknown_parameter", "Unknown parameter: 'input[0].bogus'."),
    ("reasoning string", {"reasoning": "low"}, "reasoning", "invalid_type", "Invalid type for 'reasoning': expected an object, but got a string instead."),
    ("reasoning.effort unknown", {"reasoning": {"effort": "bogus"}}, "reasoning.effort", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', and 'max'."),
    ("reasoning.summary unknown", {"reasoning": {"summary": "bogus"}}, "reasoning.summary", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'concise', 'detailed', and 'auto'."),
    ("reasoning.generate_summary", {"reasoning": {"generate_summary": "concise"}}, "reasoning.generate_summary", "unknown_parameter", "Unknown parameter: 'reasoning.generate_summary'."),
    ("reasoning unknown member", {"reasoning": {"bogus": 1}}, "reasoning.bogus", "unknown_parameter", "Unknown parameter: 'reasoning.bogus'."),
    ("temperature string", {"temperature": "hot"}, "temperature", "invalid_type", "Invalid type for 'temperature': expected a decimal, but got a string instead."),
    ("top_p string", {"top_p": "wide"}, "top_p", "invalid_type", "Invalid type for 'top_p': expected a decimal, but got a string instead."),
    ("top_logprobs string", {"top_logprobs": "x"}, "top_logprobs", "invalid_type", "Invalid type for 'top_logprobs': expected an integer, but got a string instead."),
    ("prev id object", {"previous_response_id": {"a": 1}}, "previous_response_id", "invalid_type", "Invalid type for 'previous_response_id': expected a string, but got an object instead."),
    ("prompt string", {"prompt": "x"}, "prompt", "invalid_type", "Invalid type for 'prompt': expected an object, but got a string instead."),
    ("truncation unknown", {"truncation": "bogus"}, "truncation", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'auto' and 'disabled'."),
    ("truncation object", {"truncation": {"a": 1}}, "truncation", "invalid_type", "Invalid type for 'truncation': expected one of 'auto' or 'disabled', but got an object instead."),
    ("include unknown", {"include": ["bogus.thing"]}, "include[0]", "invalid_value", "Invalid value: 'bogus.thing'. Supported values are: 'file_search_call.results', 'web_search_call.results', 'web_search_call.action.sources', 'message.input_image.image_url', 'computer_call_output.output.image_url', 'code_interpreter_call.outputs', 'reasoning.encrypted_content', and 'message.output_text.logprobs'."),
    ("max_tool_calls 0", {"max_tool_calls": 0}, "max_tool_calls", "integer_below_min_value", "Invalid 'max_tool_calls': integer below minimum value. Expected a value >= 1, but got 0 instead."),
    ("max_tool_calls string", {"max_tool_calls": "x"}, "max_tool_calls", "invalid_type", "Invalid type for 'max_tool_calls': expected an integer, but got a string instead."),
    ("max_output_tokens 0", {"max_output_tokens": 0}, "max_output_tokens", "integer_below_min_value", "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 0 instead."),
    ("metadata string", {"metadata": "x"}, "metadata", "invalid_type", "Invalid type for 'metadata': expected a metadata object, but got a string instead."),
    ("service_tier unknown", {"service_tier": "bogus"}, "service_tier", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'auto', 'default', 'fast', 'flex', and 'priority'."),
    ("service_tier object", {"service_tier": {"a": 1}}, "service_tier", "invalid_type", "Invalid type for 'service_tier': expected one of 'auto', 'default', 'fast', 'flex', or 'priority', but got an object instead."),
    ("pcr object", {"prompt_cache_retention": {"a": 1}}, "prompt_cache_retention", "invalid_type", "Invalid type for 'prompt_cache_retention': expected one of 'in_memory' or '24h', but got an object instead."),
    ("pco unknown member", {"prompt_cache_options": {"bogus": 1}}, "prompt_cache_options.bogus", "unknown_parameter", "Unknown parameter: 'prompt_cache_options.bogus'."),
    ("pck object", {"prompt_cache_key": {"a": 1}}, "prompt_cache_key", "invalid_type", "Invalid type for 'prompt_cache_key': expected a string, but got an object instead."),
    ("stream_options include_usage", {"stream_options": {"include_usage": True}}, "stream_options.include_usage", "unknown_parameter", "Unknown parameter: 'stream_options.include_usage'."),
    ("stream_options string", {"stream_options": "x"}, "stream_options", "invalid_type", "Invalid type for 'stream_options': expected an object, but got a string instead."),
    ("stream string", {"stream": "yes"}, "stream", "invalid_type", "Invalid type for 'stream': expected a boolean, but got a string instead."),
    ("instructions object", {"instructions": {"a": 1}}, "instructions", "invalid_type", "Invalid type for 'instructions': expected a string, but got an object instead."),
    ("text string", {"text": "wrong type"}, "text", "invalid_type", "Invalid type for 'text': expected an object, but got a string instead."),
    ("tools string", {"tools": "wrong type"}, "tools", "invalid_type", "Invalid type for 'tools': expected an array of tools, but got a string instead."),
    ("context_management string", {"context_management": "wrong type"}, "context_management", "invalid_type", "Invalid type for 'context_management': expected an array of objects, but got a string instead."),
    ("moderation string", {"moderation": "wrong type"}, "moderation", "invalid_type", "Invalid type for 'moderation': expected an object, but got a string instead."),
    ("tool_choice int", {"tool_choice": 7}, "tool_choice", "invalid_type", "Invalid type for 'tool_choice': expected one of an object or 'none', 'auto', or 'required', but got an integer instead."),
    ("tool_choice unknown string", {"tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}], "tool_choice": "bogus"}, "tool_choice", "invalid_value", "Invalid value: 'bogus'. Supported values are: 'none', 'auto', and 'required'."),
    ("tool_choice no name", {"tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}], "tool_choice": {"type": "function"}}, "tool_choice.name", "missing_required_parameter", "Missing required parameter: 'tool_choice.name'."),
    ("chat tool_choice", {"tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}], "tool_choice": {"type": "function", "function": {"name": "f"}}}, "tool_choice.name", "missing_required_parameter", "Missing required parameter: 'tool_choice.name'."),
    ("order unknown beats input item", {"input": [{"role": "user", "content": "ping", "bogus": 1}], "zzz_unknown": 1}, "zzz_unknown", "unknown_parameter", "Unknown parameter: 'zzz_unknown'."),
    ("order model beats unknown", {"model": "__delete__", "zzz_unknown": 1}, "model", "missing_required_parameter", "Missing required parameter: 'model'."),
    ("order input beats truncation", {"input": 7, "truncation": "bogus"}, "input", "invalid_type", "Invalid type for 'input': expected one of a string or array of input items, but got an integer instead."),
    ("sto", {"sto": 1}, "sto", "unknown_parameter", "Unknown parameter: 'sto'. Did you mean 'store'?"),
    ("st", {"st": 1}, "st", "unknown_parameter", "Unknown parameter: 'st'."),
    ("stre", {"stre": 1}, "stre", "unknown_parameter", "Unknown parameter: 'stre'. Did you mean 'store' or 'stream'?"),
    ("usr", {"usr": 1}, "usr", "unknown_parameter", "Unknown parameter: 'usr'. Did you mean 'user'?"),
    ("inclde", {"inclde": 1}, "inclde", "unknown_parameter", "Unknown parameter: 'inclde'. Did you mean 'include'?"),
    ("modell", {"modell": 1}, "modell", "unknown_parameter", "Unknown parameter: 'modell'."),
    ("max_output_tokens 15", {"max_output_tokens": 15}, "max_output_tokens", "integer_below_min_value", "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 15 instead."),
    ("pcr outside", {"prompt_cache_retention": "x"}, "prompt_cache_retention", "invalid_value", "Invalid value: 'x'. Supported values are: 'in_memory' and '24h'."),
    ("conv+prev", {"conversation": "conv_x", "previous_response_id": "resp_x"}, None, "mutually_exclusive_parameters", "Mutually exclusive parameters: ''. Ensure you are only providing one of: 'pre..._id' or 'conversation'."),
]  # fmt: skip


def _answer(server, path: str, base: dict, fragment: dict) -> dict:
    body = {key: value for key, value in {**base, **fragment}.items() if value != DELETE}
    response = post_json(server, path, body)
    assert response.status == 400, response.body[:300]
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    return error


@pytest.mark.parametrize(("name", "fragment", "param", "code", "message"), CHAT)
def test_chat_completions(server, name, fragment, param, code, message):
    error = _answer(server, "/v1/chat/completions", CHAT_BODY, fragment)
    assert (error["param"], error["code"], error["message"]) == (param, code, message)


@pytest.mark.parametrize(("name", "fragment", "param", "code", "message"), RESPONSES)
def test_responses(server, name, fragment, param, code, message):
    error = _answer(server, "/v1/responses", RESPONSES_BODY, fragment)
    assert (error["param"], error["code"], error["message"]) == (param, code, message)


def test_a_functions_result_may_be_null(server):
    """The missing-content rule spares a ``function`` message, whose result may be null
    (openai-python's ``ChatCompletionFunctionMessageParam``: ``content: Required[Optional[str]]``)."""
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": None},
    ]
    answered = post_json(server, "/v1/chat/completions", {**CHAT_BODY, "messages": messages})
    assert answered.status == 200, answered.body[:300]
