"""MCP memory servers side by side, from the official Python SDK client.

Run by `cargo bench --bench peers` (benches/peers.rs), which installs the peers into
`target/bench-peers` (see benches/peers/install.sh) and passes their commands here. Each server
gets a temporary HOME and working directory of its own and the same workload:

- load: one server process stores N seed-format plans (~1.6 KB each) through its own store tool
  (the reference memory server in batches of 500, which its tool takes; the others one by one);
- a second process is started: time to `initialize`, and its first retrieve by a session ID
  (the first query after another process wrote N);
- then CALLS rounds, servers interleaved: store a new plan until it is retrievable (store, then a
  retrieve by its ID that returns it), a retrieve by the ID of a session stored earlier made
  60 ms after that store (the query an agent makes seconds after another stored), and a topical
  retrieve with limit 5;
- peak RSS of the server's process tree (VmHWM summed over it) when the rounds are done.

Prints medians and each peer's ratio to git-handoff. Asserts only that every call answers and
that git-handoff's retrieve by ID returns the plan's full text; for each server it prints how
many retrieves by ID returned the session asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

WORDS = (
    "rate limiting redis cache fallback token bucket middleware express auth session user "
    "request latency retry backoff queue worker migration schema index query postgres timeout "
    "error handler route config deploy kubernetes metrics logging trace span feature flag "
    "rollout canary test coverage webhook billing invoice stripe upload storage bucket image "
    "resize thumbnail search ranking pagination cursor graphql resolver mutation subscription"
).split()


def session_id(i: int) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    rng = random.Random(i)
    return "SESSION-20251101-" + "".join(rng.choice(alphabet) for _ in range(8))


def plan_text(i: int) -> tuple[str, str]:
    """A seed-format plan of about 1.6 KB, and its session ID."""
    rng = random.Random(1_000_003 * i + 7)
    sid = session_id(i)
    title = " ".join(rng.choice(WORDS) for _ in range(4)).title()
    lines = [f"**[{sid}] CLAUDE PLAN: {title}**", "", "## Context"]
    lines += [" ".join(rng.choice(WORDS) for _ in range(12)) + "." for _ in range(3)]
    lines += ["", "## Proposed Approach", ""]
    for step in range(1, 6):
        lines.append(f"### {step}. " + " ".join(rng.choice(WORDS) for _ in range(3)).title())
        lines += ["- " + " ".join(rng.choice(WORDS) for _ in range(10)) for _ in range(2)]
    lines += ["", "## Risks", "- " + " ".join(rng.choice(WORDS) for _ in range(14))]
    lines += ["", f"Session ID: {sid}"]
    text = "\n".join(lines) + "\n"
    while len(text) < 1600:
        text = text.replace("## Risks\n", "## Risks\n- " + " ".join(rng.choice(WORDS) for _ in range(14)) + "\n", 1)
    return sid, text


def text_of(result) -> str:
    if result.is_error if hasattr(result, "is_error") else result.isError:
        raise RuntimeError(f"tool error: {result.content}")
    return "".join(getattr(c, "text", "") for c in result.content)


class Server:
    """One server's command and how its tools store and retrieve a plan."""

    name = ""
    batch = 1

    def __init__(self, command: list[str], wrap: list[str] | None = None):
        self.command = (wrap or []) + command

    def prepare(self, home: Path, work: Path) -> None:
        pass

    async def store(self, s: ClientSession, items: list[tuple[str, str]]) -> None:
        raise NotImplementedError

    async def by_id(self, s: ClientSession, sid: str) -> str:
        raise NotImplementedError

    async def topical(self, s: ClientSession, query: str) -> str:
        raise NotImplementedError


class GitHandoff(Server):
    name = "git-handoff"

    def prepare(self, home: Path, work: Path) -> None:
        for args in (["init", "-q", "--initial-branch=main"],
                     ["config", "user.name", "Bench"],
                     ["config", "user.email", "bench@example.com"]):
            subprocess.run(["git", *args], cwd=work, check=True)

    async def store(self, s, items):
        for _, text in items:
            text_of(await s.call_tool("byterover-store-knowledge", {"messages": text}))

    async def by_id(self, s, sid):
        return text_of(await s.call_tool("byterover-retrieve-knowledge", {"query": sid, "limit": 1}))

    async def topical(self, s, query):
        return text_of(await s.call_tool("byterover-retrieve-knowledge", {"query": query, "limit": 5}))


class ReferenceMemory(Server):
    """@modelcontextprotocol/server-memory: one entity per plan, named by its session ID."""

    name = "server-memory"
    batch = 500

    async def store(self, s, items):
        entities = [{"name": sid, "entityType": "plan", "observations": [text]} for sid, text in items]
        text_of(await s.call_tool("create_entities", {"entities": entities}))

    async def by_id(self, s, sid):
        return text_of(await s.call_tool("open_nodes", {"names": [sid]}))

    async def topical(self, s, query):
        return text_of(await s.call_tool("search_nodes", {"query": query}))


class Ctxmem(Server):
    name = "ctxmem"

    def prepare(self, home, work):
        # Its tools answer "No memory initialized" (not an error) until `ctxmem init` ran.
        init = str(Path(self.command[-1]).with_name("ctxmem"))
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        subprocess.run([init, "init"], cwd=work, check=True, env={**os.environ, "HOME": str(home)},
                       stdout=subprocess.DEVNULL)

    async def store(self, s, items):
        for sid, text in items:
            text_of(await s.call_tool("remember", {"content": text, "type": "plan", "title": sid}))

    async def by_id(self, s, sid):
        return text_of(await s.call_tool("recall", {"query": sid, "limit": 1}))

    async def topical(self, s, query):
        return text_of(await s.call_tool("recall", {"query": query, "limit": 5}))


class Continuity(Server):
    name = "session-continuity"

    async def store(self, s, items):
        for sid, text in items:
            text_of(await s.call_tool("memory_store", {"content": text, "type": "decision", "tags": [sid]}))

    async def by_id(self, s, sid):
        return text_of(await s.call_tool("memory_search", {"query": sid, "limit": 1}))

    async def topical(self, s, query):
        return text_of(await s.call_tool("memory_search", {"query": query, "limit": 5}))


def tree_rss_kb(root_pid: int) -> int:
    """Peak resident set (VmHWM) summed over a process and its descendants."""
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:"))
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            pass
    return total


def children_of_self() -> set[int]:
    found = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


class Running:
    """A started server with its client session and process ID."""

    def __init__(self, server: Server, home: Path, work: Path):
        self.server, self.home, self.work = server, home, work
        self.session: ClientSession | None = None
        self.pid = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TERM")}
        env.update(HOME=str(self.home), GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
                   MEMORY_FILE_PATH=str(self.home / "memory.jsonl"), WORKSPACE_ROOT=str(self.work),
                   NO_COLOR="1")
        return env

    async def start(self, stack: AsyncExitStack) -> float:
        before = children_of_self()
        params = StdioServerParameters(command=self.server.command[0], args=self.server.command[1:],
                                       env=self.env(), cwd=str(self.work))
        started = time.perf_counter()
        errlog = open(self.home / "server.log", "a")
        stack.callback(errlog.close)
        read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
        self.session = await stack.enter_async_context(ClientSession(read, write))
        await self.session.initialize()
        elapsed = time.perf_counter() - started
        new = children_of_self() - before
        self.pid = min(new) if new else 0
        return elapsed


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def timed(coro) -> tuple[float, object]:
    start = time.perf_counter()
    result = await coro
    return time.perf_counter() - start, result


async def load(server: Server, home: Path, work: Path, sessions: int) -> float:
    async with AsyncExitStack() as stack:
        running = Running(server, home, work)
        await running.start(stack)
        start = time.perf_counter()
        items = [plan_text(i) for i in range(sessions)]
        for at in range(0, sessions, server.batch):
            await server.store(running.session, items[at:at + server.batch])
        return time.perf_counter() - start


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--git-handoff", required=True, help="the git-handoff executable")
    parser.add_argument("--peers", help="target/bench-peers, where install.sh put the peers")
    parser.add_argument("--only", help="comma-separated server names")
    parser.add_argument("--reuse", help="a folder a previous run kept: measure without loading")
    parser.add_argument("--rounds-out", help="print every round's figures (for profiling)",
                        action="store_true")
    args = parser.parse_args()

    servers: list[Server] = [GitHandoff([args.git_handoff, "mcp"])]
    if args.peers:
        peers = Path(args.peers).resolve()
        offline = ["unshare", "-rn"]  # the continuity server calls out at start and per store
        servers += [
            ReferenceMemory(["node", str(peers / "node_modules/@modelcontextprotocol/server-memory/dist/index.js")]),
            Ctxmem([str(peers / "ctxmem-venv/bin/ctxmem-mcp")]),
            Continuity(["node", str(peers / "node_modules/claude-session-continuity-mcp/dist/index.js")], offline),
        ]
    if args.only:
        wanted = set(args.only.split(","))
        servers = [s for s in servers if s.name in wanted]

    root = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="mcp-peers-"))
    print(f"servers' files under {root}", flush=True)
    places = {}
    for server in servers:
        home, work = root / server.name / "home", root / server.name / "work"
        places[server.name] = (home, work)
        if args.reuse:
            continue
        home.mkdir(parents=True)
        work.mkdir(parents=True)
        server.prepare(home, work)
        took = await load(server, home, work, args.sessions)
        print(f"{server.name:>20}: {args.sessions} plans stored in {took:6.1f} s "
              f"({took / args.sessions * 1000:.2f} ms each)", flush=True)

    results: dict[str, dict[str, float]] = {s.name: {} for s in servers}
    samples: dict[str, dict[str, list[float]]] = {
        s.name: {"store": [], "by_id": [], "topical": []} for s in servers}
    # Whether each retrieve by ID returned the session asked for (a peer's keyword search may
    # rank another plan of the same day first).
    hits: dict[str, list[bool]] = {s.name: [] for s in servers}
    async with AsyncExitStack() as stack:
        running = []
        for server in servers:
            r = Running(server, *places[server.name])
            results[server.name]["initialize"] = await r.start(stack) * 1000
            sid, _ = plan_text(args.sessions // 2)
            took, found = await timed(server.by_id(r.session, sid))
            hits[server.name].append(sid in found)
            results[server.name]["first"] = took * 1000
            running.append(r)
        rng = random.Random(42)
        for call in range(args.calls):
            new = args.sessions + call
            old = rng.randrange(args.sessions)
            for r in running:
                s, srv = r.session, r.server
                sid, text = plan_text(new)
                start = time.perf_counter()
                await srv.store(s, [(sid, text)])
                found = await srv.by_id(s, sid)
                samples[srv.name]["store"].append(time.perf_counter() - start)
                hits[srv.name].append(sid in found)
                await asyncio.sleep(0.06)
                sid, text = plan_text(old)
                took, found = await timed(srv.by_id(s, sid))
                samples[srv.name]["by_id"].append(took)
                hits[srv.name].append(sid in found)
                if isinstance(srv, GitHandoff):
                    assert sid in found, f"git-handoff: retrieve by ID lacks {sid}"
                    assert text.splitlines()[-2] in found, "git-handoff: the plan's full text"
                took, _ = await timed(srv.topical(s, "redis backoff"))
                samples[srv.name]["topical"].append(took)
                if args.rounds_out:
                    print(srv.name, {k: f"{v[-1] * 1000:.1f}" for k, v in samples[srv.name].items()})
        for r in running:
            found = hits[r.server.name]
            results[r.server.name]["found"] = 100 * sum(found) / len(found)
            results[r.server.name]["rss"] = tree_rss_kb(r.pid) / 1024
            for key, values in samples[r.server.name].items():
                results[r.server.name][key] = median_ms(values)

    rows = [
        ("initialize", "start until initialize answers", "ms", None),
        ("first", f"first query after another process wrote {args.sessions}", "ms", 200),
        ("store", "store until retrievable", "ms", 10),
        ("by_id", "retrieve by session ID, 60 ms after a store", "ms", 5),
        ("topical", "topical retrieve, limit 5", "ms", 10),
        ("rss", "peak RSS of the server", "MB", 50),
        ("found", "retrieves by ID that returned the session", "%", None),
    ]
    ours = results["git-handoff"] if "git-handoff" in results else None
    print(f"\nMCP servers at {args.sessions} plans, from the Python SDK client "
          f"(medians of {args.calls}, servers interleaved):")
    names = [s.name for s in servers]
    print(f"  {'':48}" + "".join(f"{n:>20}" for n in names))
    for key, label, unit, goal in rows:
        cells = []
        for n in names:
            value = results[n][key]
            cell = f"{value:.2f} {unit}"
            if ours is not None and n != "git-handoff" and ours[key] > 0 and unit != "%":
                cell += f" ({value / ours[key]:.1f}x)"
            cells.append(f"{cell:>20}")
        goal_text = f"   goal <= {goal} {unit}" if goal else ""
        print(f"  {label:48}" + "".join(cells) + goal_text)
    print("  (a peer's figure in brackets: how many times git-handoff's)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
