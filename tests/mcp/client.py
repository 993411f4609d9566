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


def called(result):
    """What a tool call answered: error flag, text, structured content."""
    return {
        "error": attr(result, "is_error", "isError"),
        "text": text_of(result),
        "structured": attr(result, "structured_content", "structuredContent"),
    }


def annotations_of(tool):
    a = attr(tool, "annotations")
    if a is None:
        return None
    return {
        "title": a.title,
        "readOnlyHint": attr(a, "read_only_hint", "readOnlyHint"),
        "destructiveHint": attr(a, "destructive_hint", "destructiveHint"),
        "idempotentHint": attr(a, "idempotent_hint", "idempotentHint"),
        "openWorldHint": attr(a, "open_world_hint", "openWorldHint"),
    }


async def main(server: str, repo: str) -> None:
    params = StdioServerParameters(command=server, args=["mcp"], cwd=repo)
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = attr(init, "server_info", "serverInfo").name
            tools = (await session.list_tools()).tools
            out["tools"] = sorted(t.name for t in tools)
            out["annotations"] = {t.name: annotations_of(t) for t in tools}
            out["prompts"] = sorted(p.name for p in (await session.list_prompts()).prompts)
            store = lambda text: session.call_tool("byterover-store-knowledge", {"messages": text})
            retrieve = lambda query, limit: session.call_tool(
                "byterover-retrieve-knowledge", {"query": query, "limit": limit}
            )
            out["plan"] = called(await store(PLAN))
            out["review"] = called(await store(REVIEW))
            # The seed's own queries, as its skill words them.
            out["retrieve"] = called(await retrieve(f"{SESSION} Codex review feedback", 2))
            out["retrieve_plan"] = called(await retrieve(f"{SESSION} Claude plan sqlite", 1))
            # Texts the state machine would refuse are kept, never lost: more reviews of an
            # approved plan, and one without a verdict.
            out["again"] = [called(await store(REVIEW)) for _ in range(5)]
            out["no_verdict"] = called(
                await store(f"**[{SESSION}] CODEX REVIEW: Plan**\n\nLooks fine to me.\n")
            )
            # A second plan iteration: the session's plan is now that one.
            out["plan2"] = called(await store(PLAN.replace("Key by IP", "Key by API key")))
            out["retrieve_plan2"] = called(await retrieve(f"retrieve the plan for {SESSION}", 1))
            out["retrieve_id"] = called(await retrieve(SESSION, 1))
            out["retrieve_unknown"] = called(await retrieve("SESSION-20251027-ZZZZZZZZ plan", 1))
            # Another process writes right after the server did: seen once the moment passes.
            subprocess.run(
                [server, "plan", "-t", "Zeppelin routes", "-m", "zeppelin"],
                cwd=repo, check=True, capture_output=True,
            )
            await asyncio.sleep(0.3)
            other = await session.call_tool("byterover-retrieve-knowledge", {"query": "zeppelin"})
            out["other_writer"] = text_of(other)
            shown = await session.call_tool("handoff_show", {"session": SESSION})
            out["show"] = called(shown)
            bad = await session.call_tool(
                "handoff_review", {"session": "NOPE", "verdict": "approve", "body": "x"}
            )
            out["bad"] = called(bad)
            # A step the status refuses: the agent is told the next tool and the force
            # argument (not the CLI's flags); with force: true it is recorded.
            fresh = called(await session.call_tool(
                "handoff_plan", {"title": "Refusals", "body": "1. Refuse a step"}
            ))
            fresh_id = json.loads(fresh["text"])["session"]
            early = {"session": fresh_id, "verdict": "approve", "body": "Validated early"}
            out["refused"] = called(await session.call_tool("handoff_validate", early))
            out["forced"] = called(
                await session.call_tool("handoff_validate", {**early, "force": True})
            )
            out["refused_session"] = fresh_id
            prompt = await session.get_prompt("handoff-review", {"session_or_feature": SESSION})
            out["prompt"] = "".join(
                m.content.text for m in prompt.messages if hasattr(m.content, "text")
            )
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
