"""The yardstick: a bare aiohttp handler returning a fixed completion (or a fixed 100-chunk
stream when the body asks for one). No validation, no matching, no state."""

from __future__ import annotations

import json
import sys

from aiohttp import web

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-0123456789abcdefghijklmnopqrs",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
    }
).encode()
CHUNK = (
    b'data: {"id":"chatcmpl-0123456789abcdefghijklmnopqrs","object":"chat.completion.chunk",'
    b'"created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" word"},'
    b'"logprobs":null,"finish_reason":null}]}\n\n'
)


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    if b'"stream":true' in body.replace(b" ", b""):
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for _ in range(100):
            await response.write(CHUNK)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
    return web.Response(body=COMPLETION, content_type="application/json")


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/__admin/health", health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
