"""A Byterover-like MCP server built with the official Python SDK (`mcp` on PyPI), for the sync
tests: the seed's two tools (`byterover-store-knowledge {messages}` and
`byterover-retrieve-knowledge {query, limit}`) over streamable HTTP on 127.0.0.1, or over
stdio, with faults injected at the HTTP layer and every call counted at the server.

Usage:
  server.py http STATE_DIR [--json-response] [--token T]
  server.py stdio STATE_DIR

STATE_DIR holds:
  port      written once the HTTP server listens (its port)
  log       one JSON line per tools/call request that reached the server
            ({"tool", "fault"}), per stored text ({"stored": messages}), and per call
            served without a fault, how long the server took ({"served_ms"})
  faults    a JSON list the test writes; each tools/call request takes the first entry:
            "500", "429:SECONDS" (Retry-After), "401", "403", "hang:SECONDS" (answers 503
            after that long, storing nothing), "drop-session" (404: the session is forgotten),
            "garbage" (200 with a body that is not JSON), "close" (an event stream that ends
            before the answer), null (no fault)
"""

import asyncio
import json
import os
import socket
import sys
import time

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as MCPServer

STATE = sys.argv[2]
LOG = os.path.join(STATE, "log")
FAULTS = os.path.join(STATE, "faults")
STORED = []
try:  # what earlier runs stored (a stdio server is a new process per connection)
    with open(LOG, encoding="utf-8") as f:
        STORED = [e["stored"] for e in map(json.loads, f) if "stored" in e]
except OSError:
    pass


def log(entry):
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def take_fault():
    try:
        with open(FAULTS, encoding="utf-8") as f:
            faults = json.load(f)
    except (OSError, ValueError):
        return None
    if not faults:
        return None
    first, rest = faults[0], faults[1:]
    with open(FAULTS, "w", encoding="utf-8") as f:
        json.dump(rest, f)
    return first


server = MCPServer("byterover-test")


@server.tool(name="byterover-store-knowledge")
def store(messages: str) -> str:
    """Store programming knowledge."""
    STORED.append(messages)
    log({"stored": messages})
    return "Memory creation has been queued for processing. Estimated time: 25s"


@server.tool(name="byterover-retrieve-knowledge")
def retrieve(query: str, limit: int = 3) -> str:
    """Retrieve stored knowledge."""
    words = [w.lower() for w in query.split() if w.strip()]
    scored = []
    for text in STORED:
        lower = text.lower()
        score = sum(lower.count(w) for w in words)
        if score:
            scored.append((score, text))
    scored.sort(key=lambda s: -s[0])
    return json.dumps(
        {"results": [{"text": t, "score": float(s)} for s, t in scored[:limit]]}
    )


class Faults:
    """ASGI middleware: counts tools/call requests and injects the next fault."""

    def __init__(self, app, token):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        if self.token is not None:
            headers = dict(scope["headers"])
            if headers.get(b"authorization", b"").decode() != f"Bearer {self.token}":
                return await respond(send, 401, b"unauthorized")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            method = json.loads(body).get("method")
        except (ValueError, AttributeError):
            method = None
        fault = None
        if method == "tools/call":
            fault = take_fault()
            tool = json.loads(body).get("params", {}).get("name")
            log({"tool": tool, "fault": fault})
            if fault is None:
                started = time.perf_counter()

                async def timed_send(message):
                    await send(message)
                    if message["type"] == "http.response.body" and not message.get(
                        "more_body"
                    ):
                        log({"served_ms": (time.perf_counter() - started) * 1000})

                send_on = timed_send
            else:
                send_on = send
        else:
            send_on = send
        if fault == "500":
            return await respond(send, 500, b"internal error")
        if fault in ("401", "403"):
            return await respond(send, int(fault), b"no")
        if fault == "drop-session":
            return await respond(send, 404, b"session not found")
        if fault == "garbage":
            return await respond(send, 200, b"<html>not json", b"application/json")
        if fault == "close":
            # An event stream that ends before the answer.
            return await respond(send, 200, b"", b"text/event-stream")
        if isinstance(fault, str) and fault.startswith("429:"):
            return await respond(
                send, 429, b"slow down", headers=[(b"retry-after", fault[4:].encode())]
            )
        if isinstance(fault, str) and fault.startswith("hang:"):
            await asyncio.sleep(float(fault[5:]))
            return await respond(send, 503, b"too late")

        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send_on)


async def respond(send, status, body, content_type=b"text/plain", headers=()):
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main():
    mode = sys.argv[1]
    if mode == "stdio":
        server.run("stdio")
        return
    import uvicorn

    args = sys.argv[3:]
    json_response = "--json-response" in args
    token = args[args.index("--token") + 1] if "--token" in args else None
    app = Faults(server.streamable_http_app(json_response=json_response), token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections: without it an answer written in two pieces waits for
    # the client's delayed ACK (40 ms a call).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)

    async def serve():
        task = asyncio.create_task(uv.serve(sockets=[sock]))
        while not uv.started:
            await asyncio.sleep(0.01)
        with open(os.path.join(STATE, "port.tmp"), "w", encoding="utf-8") as f:
            f.write(str(port))
        os.replace(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
        await task

    asyncio.run(serve())


if __name__ == "__main__":
    main()
