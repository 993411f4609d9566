"""A scripted stand-in for the model APIs behind the real `claude` and `codex` CLIs, on
127.0.0.1 only: a test tool, not product code.

Usage: model_stub.py STATE_DIR SCRIPT.json

It speaks just enough of two wire protocols, streaming server-sent events as the CLIs expect:
- the Anthropic Messages API (`POST /v1/messages`), for Claude Code;
- the OpenAI Responses API (`POST /v1/responses`), for Codex.

SCRIPT.json holds `{"anthropic": [step, ...], "openai": [step, ...]}`; a step is
`{"tool": NAME, "input": {...}}` (the model calls that tool; `"namespace"` may name the tool's
namespace, as Codex names deferred MCP tools), `{"item": {...}}` (a raw Responses API output
item, such as Codex's client-side `tool_search_call`), or `{"text": "..."}` (the model answers
and ends its turn). Each request that offers tools takes the next step of its API's
script; requests that offer none (Claude Code's titles, summaries and probes) get a short text.
A string `$PLAN_FILE` in a step's input stands for the plan file Claude Code's plan mode names
in the request (`~/.claude/plans/<slug>.md`, a fresh name each conversation), as a model would
read it from its instructions.
The result of every tool call the CLI sends back is appended to STATE_DIR/results.jsonl as
`{"api", "tool", "output"}`, and every request to STATE_DIR/requests.jsonl, for the test to check.
The server writes its port to STATE_DIR/port, and stops after STATE_DIR/stop appears or ten
minutes, whichever comes first.
"""

import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = sys.argv[1]
with open(sys.argv[2]) as f:
    SCRIPT = json.load(f)
LOCK = threading.Lock()
NEXT = {"anthropic": 0, "openai": 0}
# The tool each API called last, by call id, to name the results that come back.
CALLED = {}


def log(name, record):
    with LOCK, open(os.path.join(STATE, name), "a") as f:
        f.write(json.dumps(record) + "\n")


def take(api):
    with LOCK:
        steps = SCRIPT.get(api, [])
        i = NEXT[api]
        NEXT[api] = i + 1
    if i < len(steps):
        return i, steps[i]
    return i, {"text": "Done."}


PLAN_FILE = re.compile(r"(/[^\s\"'`]*/\.claude/plans/[\w.-]+\.md)")


def with_plan_file(value, request):
    """`value` with `$PLAN_FILE` replaced by the plan file the request names (the last one)."""
    text = json.dumps(value)
    if "$PLAN_FILE" not in text:
        return value
    found = PLAN_FILE.findall(json.dumps(request))
    return json.loads(text.replace("$PLAN_FILE", found[-1] if found else "$PLAN_FILE"))


def result_text(content):
    """The text of a tool result, whatever shape the CLI sent it in."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(result_text(c) for c in content)
    if isinstance(content, dict):
        for key in ("text", "output", "content"):
            if key in content:
                return result_text(content[key])
    return json.dumps(content)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        length = int(self.headers.get("content-length", 0))
        return json.loads(self.rfile.read(length) or b"{}")

    def sse(self, events):
        payload = "".join(
            f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self):
        body = b"{}"
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        request = self.body()
        log("requests.jsonl", {"path": self.path, "request": request})
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/messages"):
            return self.anthropic(request)
        if path.endswith("/responses"):
            return self.openai(request)
        self.do_GET()

    # Anthropic Messages API, streamed.
    def anthropic(self, request):
        for message in request.get("messages", [])[-1:]:
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    log(
                        "results.jsonl",
                        {
                            "api": "anthropic",
                            "tool": CALLED.get(block.get("tool_use_id")),
                            "output": result_text(block.get("content")),
                            "error": block.get("is_error", False),
                        },
                    )
        if not request.get("tools"):
            step = {"text": "ok"}
            i = -1
        else:
            i, step = take("anthropic")
        model = request.get("model", "claude-stub")
        events = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": f"msg_{i}",
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 10, "output_tokens": 1},
                    },
                },
            )
        ]
        if "tool" in step:
            call = f"toolu_{i:04d}"
            CALLED[call] = step["tool"]
            events += [
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "tool_use", "id": call, "name": step["tool"], "input": {}},
                    },
                ),
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {
                            "type": "input_json_delta",
                            "partial_json": json.dumps(with_plan_file(step["input"], request)),
                        },
                    },
                ),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ]
            stop = "tool_use"
        else:
            events += [
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                ),
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": step["text"]}},
                ),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ]
            stop = "end_turn"
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 5},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        self.sse(events)

    # OpenAI Responses API, streamed.
    def openai(self, request):
        for item in request.get("input", []):
            if isinstance(item, dict) and item.get("type", "").endswith("_call_output"):
                call = item.get("call_id")
                record = {"api": "openai", "tool": CALLED.get(call), "output": result_text(item.get("output"))}
                with LOCK:
                    seen = CALLED.setdefault("__logged__", set())
                    fresh = call not in seen
                    seen.add(call)
                if fresh:
                    log("results.jsonl", record)
        i, step = take("openai")
        response_id = f"resp_{i}"
        if "item" in step:
            # A raw output item (Codex's `tool_search_call`), with a fresh call id.
            call = f"call_{i:04d}"
            CALLED[call] = step["item"].get("type")
            item = {"id": f"it_{i}", "call_id": call, "status": "completed", **step["item"]}
        elif "tool" in step:
            call = f"call_{i:04d}"
            CALLED[call] = step["tool"]
            item = {
                "type": "function_call",
                "id": f"fc_{i}",
                "call_id": call,
                "name": step["tool"],
                "arguments": json.dumps(step["input"]),
                "status": "completed",
            }
            if "namespace" in step:
                item["namespace"] = step["namespace"]
        else:
            item = {
                "type": "message",
                "id": f"msg_{i}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": step["text"], "annotations": []}],
            }
        base = {"id": response_id, "object": "response", "model": request.get("model", "stub")}
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15,
        }
        self.sse(
            [
                ("response.created", {"type": "response.created", "response": {**base, "status": "in_progress"}}),
                ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
                (
                    "response.completed",
                    {"type": "response.completed", "response": {**base, "status": "completed", "output": [item], "usage": usage}},
                ),
            ]
        )


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(os.path.join(STATE, "port.tmp"), "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    deadline = time.time() + 600
    while time.time() < deadline and not os.path.exists(os.path.join(STATE, "stop")):
        time.sleep(0.1)
    server.shutdown()


if __name__ == "__main__":
    main()
