"""A real MCP client (the official Python SDK, `mcp` on PyPI) driving `git handoff mcp`.

Usage: client.py SERVER_BINARY REPO_DIR
Runs the seed's flow through the seed's own tools and prints one JSON document of what it saw,
for tests/test_mcp.rs to check.
"""

import asyncio
import json
import subprocess
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

SESSION = "SESSION-20251027-A7F3K2M9"

PLAN = f"""**[{SESSION}] CLAUDE PLAN: Rate Limiting for Express API**

## Steps
1. express-rate-limit with a Redis store
2. Key by IP

Session ID: {SESSION}
"""

REVIEW = f"""**[{SESSION}] CODEX REVIEW: Rate Limiting Plan**

## Concerns
1. **IP-based limiting problematic**: users behind corporate NAT share IPs

## Verdict
✅ APPROVE with modifications above

Session ID: {SESSION}
"""


def attr(obj, *names):
    """The first attribute that exists: the SDK renamed camelCase fields in version 2."""
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    raise AttributeError(names)


def text_of(result):
    return "".join(block.text for block in result.content if hasattr(block, "text"))


async def main(server: str, repo: str) -> None:
    params = StdioServerParameters(command=server, args=["mcp"], cwd=repo)
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = attr(init, "server_info", "serverInfo").name
            out["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
            out["prompts"] = sorted(p.name for p in (await session.list_prompts()).prompts)
            plan = await session.call_tool("byterover-store-knowledge", {"messages": PLAN})
            out["plan"] = {"error": attr(plan, "is_error", "isError"), "text": text_of(plan)}
            review = await session.call_tool("byterover-store-knowledge", {"messages": REVIEW})
            out["review"] = {"error": attr(review, "is_error", "isError"), "text": text_of(review)}
            found = await session.call_tool(
                "byterover-retrieve-knowledge",
                {"query": f"{SESSION} Codex review feedback", "limit": 2},
            )
            out["retrieve"] = {"error": attr(found, "is_error", "isError"), "text": text_of(found)}
            # Another process writes right after the server did: seen once the moment passes.
            subprocess.run(
                [server, "plan", "-t", "Zeppelin routes", "-m", "zeppelin"],
                cwd=repo, check=True, capture_output=True,
            )
            await asyncio.sleep(0.3)
            other = await session.call_tool("byterover-retrieve-knowledge", {"query": "zeppelin"})
            out["other_writer"] = text_of(other)
            shown = await session.call_tool("handoff_show", {"session": SESSION})
            out["show"] = {"error": attr(shown, "is_error", "isError"), "text": text_of(shown)}
            bad = await session.call_tool(
                "handoff_review", {"session": "NOPE", "verdict": "approve", "body": "x"}
            )
            out["bad"] = {"error": attr(bad, "is_error", "isError"), "text": text_of(bad)}
            prompt = await session.get_prompt("handoff-review", {"session_or_feature": SESSION})
            out["prompt"] = "".join(
                m.content.text for m in prompt.messages if hasattr(m.content, "text")
            )
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
