"""Directory at scale on PostgreSQL (issue 20, goal 4): search latency at 1M users and the user
creation rate, through a real ``ostiary serve``.

* Loads ``--users`` users (default 1,000,000) into a database of its own
  (``ostiary_bench_<pid>``, dropped at the end) with ``COPY`` — the schema is the migrations'
  (``ostiary token create`` runs them), the rows are valid ones: profiles, logins, statuses, the
  org's id and user type.
* Latency (p50/p95/p99, one request at a time, varied values) of
  ``search=profile.login sw "…"`` (goal p95 ≤ 50 ms), ``filter=profile.login eq "…"``,
  ``q=…`` and ``search=profile.department eq "…"``; the same-run baseline is ``GET /readyz``,
  one ``SELECT 1`` round trip through the same server.
* Creation rate (``POST /api/v1/users``, 8 at a time; goal ≥ 1,000/s) without a password, and
  with one next to argon2's own hash rate on this machine (the physical limit).

Needs ``OSTIARY_TEST_POSTGRES_URL`` (``postgresql+asyncpg://…/test``).

    python bench/directory_scale.py [--users 1000000] [--requests 200] [--creates 2000]
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import json
import random
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.load import Serve, result, serve, tree_cpu

from ostiary.ids import USER, new_id

PY_SPY = str(Path(sys.executable).with_name("py-spy"))

FIRST = [
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "lisa",
    "daniel",
    "nancy",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "carol",
    "kevin",
    "amanda",
    "brian",
    "dorothy",
    "george",
    "melissa",
    "timothy",
    "deborah",
    "ronald",
    "stephanie",
    "edward",
    "rebecca",
    "jason",
    "sharon",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
]
DEPARTMENTS = [
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Legal",
    "Support",
    "Operations",
    "Research",
    "Design",
    "Security",
    "People",
    "Product",
]
STATUSES = ["ACTIVE"] * 90 + ["STAGED"] * 5 + ["SUSPENDED"] * 3 + ["DEPROVISIONED"] * 2
COLUMNS = [
    "id",
    "org_id",
    "status",
    "login",
    "login_lower",
    "email_lower",
    "profile",
    "type_id",
    "failed_logins",
    "created",
    "last_updated",
    "activated",
    "status_changed",
]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def login_of(i: int, rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return first, last, f"{first}.{last}{i}@example.com"


def rows(org_id: str, type_id: str, start: int, count: int, rng: random.Random) -> list[tuple[object, ...]]:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    out: list[tuple[object, ...]] = []
    for i in range(start, start + count):
        first, last, login = login_of(i, rng)
        status = rng.choice(STATUSES)
        created = base + timedelta(seconds=i)
        profile = {
            "login": login,
            "email": login,
            "firstName": first.capitalize(),
            "lastName": last.capitalize(),
            "department": rng.choice(DEPARTMENTS),
        }
        active = status != "STAGED"
        out.append(
            (new_id(USER), org_id, status, login, login, login, json.dumps(profile), type_id, 0,
             created, created, created if active else None, created if active else None)
        )  # fmt: skip
    return out


async def bulk_load(dsn: str, total: int) -> float:
    """COPY ``total`` users into the org; returns rows/s (ANALYZE included)."""
    conn = await asyncpg.connect(dsn)
    try:
        org_id = await conn.fetchval("SELECT id FROM orgs ORDER BY created LIMIT 1")
        type_id = "oty" + org_id[3:]
        rng = random.Random(20)
        start = time.perf_counter()
        batch = 50_000
        for offset in range(0, total, batch):
            records = rows(org_id, type_id, offset, min(batch, total - offset), rng)
            await conn.copy_records_to_table("users", records=records, columns=COLUMNS)
            if offset and offset % 200_000 == 0:
                print(
                    f"  loaded {offset:,} users ({offset / (time.perf_counter() - start):,.0f}/s)", flush=True
                )
        await conn.execute("ANALYZE users")
        return total / (time.perf_counter() - start)
    finally:
        await conn.close()


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]

    return at(0.5), at(0.95), at(0.99)


def timed_gets(client: httpx.Client, requests: list[tuple[str, dict[str, str]]]) -> list[float]:
    samples = []
    for path, params in requests:
        started = time.perf_counter()
        response = client.get(path, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    return samples


def argon2_rate(seconds: float = 3.0, threads: int = 2) -> float:
    """Hashes/s of the server's own hasher on ``threads`` threads (argon2 releases the GIL)."""
    from ostiary.domain.directory import passwords

    hasher = passwords._HASHER
    deadline = time.perf_counter() + seconds

    def loop() -> int:
        done = 0
        while time.perf_counter() < deadline:
            hasher.hash("Bench-pass-word-1")
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: loop(), range(threads)))
    return total / (time.perf_counter() - started)


async def raw_insert_rate(dsn: str, count: int) -> float:
    """The database's own pace for the same work: one user row per transaction, 8 connections."""
    conns = [await asyncpg.connect(dsn) for _ in range(8)]
    try:
        org_id = await conns[0].fetchval("SELECT id FROM orgs ORDER BY created LIMIT 1")
        records = rows(org_id, "oty" + org_id[3:], 10**8, count, random.Random(1))
        values = ", ".join(f"${i + 1}" for i in range(len(COLUMNS)))
        sql = f"INSERT INTO users ({', '.join(COLUMNS)}) VALUES ({values})"

        async def worker(conn: asyncpg.Connection, mine: list[tuple[object, ...]]) -> None:
            for record in mine:
                async with conn.transaction():
                    await conn.execute(sql, *record)

        started = time.perf_counter()
        await asyncio.gather(*(worker(c, records[i::8]) for i, c in enumerate(conns)))
        return count / (time.perf_counter() - started)
    finally:
        for conn in conns:
            await conn.close()


async def create_rate(url: str, token: str, count: int, password: bool, tag: str) -> float:
    headers = {"Authorization": f"SSWS {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        sem = asyncio.Semaphore(8)
        failures: dict[int, int] = {}

        async def one(i: int) -> None:
            login = f"new.{tag}{i}@example.com"
            body: dict[str, object] = {
                "profile": {"login": login, "email": login, "firstName": "New", "lastName": f"User{i}"}
            }
            if password:
                body["credentials"] = {"password": {"value": f"Bench-pass-{i}-word"}}
            async with sem:
                response = await client.post("/api/v1/users", params={"activate": "true"}, json=body)
            if response.status_code != 200:
                failures[response.status_code] = failures.get(response.status_code, 0) + 1

        await asyncio.gather(*(one(i) for i in range(min(count, 50))))  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(50, count + 50)))
        rate = count / (time.perf_counter() - started)
        if failures:
            print(f"  failures: {failures}")
        return rate


class Profile:
    """``py-spy record`` (raw, non-blocking) of one server while a block runs; prints the
    frames with the most samples, on their own (leaf) and with what they call (inclusive)."""

    def __init__(self, pid: int, label: str, enabled: bool) -> None:
        self.pid, self.label, self.enabled = pid, label, enabled
        self.out = Path(tempfile.mkdtemp(prefix="ostiary-pyspy-")) / f"{label.replace(' ', '_')}.txt"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profile:
        if self.enabled:
            self.process = subprocess.Popen(
                [PY_SPY, "record", "--nonblocking", "-f", "raw", "-r", "250", "-p", str(self.pid),
                 "-o", str(self.out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.0)  # py-spy attaches
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        self.report()

    def report(self, top: int = 25) -> None:
        leaf: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        total = 0
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [f.strip() for f in stack.split(";")]
            total += int(count)
            leaf[frames[-1]] += int(count)
            for frame in set(frames):
                inclusive[frame] += int(count)
        print(f"py-spy, {self.label}: {total} samples ({self.out})")
        print("  leaf frames:")
        for frame, n in leaf.most_common(top):
            print(f"    {100 * n / max(total, 1):5.1f}%  {frame}")
        print("  inclusive (ostiary frames):")
        own = [(f, n) for f, n in inclusive.most_common() if "ostiary" in f]
        for frame, n in own[:top]:
            print(f"    {100 * n / max(total, 1):5.1f}%  {frame}")


def cpu_ms(pid: int, before: float, requests: int) -> float:
    """The event loop's CPU milliseconds per request since ``before`` (``tree_cpu``'s first)."""
    return (tree_cpu(pid)[0] - before) / requests * 1000


def search_round(server: Serve, token: str, prefixes: list[str]) -> tuple[float, float, float]:
    """``search=profile.login sw`` one at a time: p50 and p95 ms, and the server's CPU ms per request."""
    with httpx.Client(base_url=server.url, headers={"Authorization": f"SSWS {token}"}, timeout=60) as client:
        calls = [("/api/v1/users", {"search": f'profile.login sw "{p}"'}) for p in prefixes]
        timed_gets(client, calls[:10])  # warm
        before = tree_cpu(server.process.pid)[0]
        p50, p95, _ = percentiles(timed_gets(client, calls))
        return p50, p95, cpu_ms(server.process.pid, before, len(calls))


def create_round(server: Serve, token: str, count: int, password: bool, tag: str) -> tuple[float, float]:
    """Users created per second (8 at a time) and the server's CPU ms per create."""
    before = tree_cpu(server.process.pid)[0]
    rate = asyncio.run(create_rate(server.url, token, count, password, tag))
    return rate, cpu_ms(server.process.pid, before, count + min(count, 50))


def compare(
    servers: dict[str, tuple[Serve, str]], rounds: int, prefixes: list[str], creates: int, password: bool,
    spy: bool,
) -> None:  # fmt: skip
    """Alternating rounds on each server (``after`` from this tree, ``before`` from
    ``--compare-src``): search latency and CPU, create rate and CPU; medians over the rounds."""
    figures: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
    for round_no in range(rounds):
        # Alternate which server goes first: the VM's speed drifts within a run, and a fixed
        # order charges the drift to the server that always goes second.
        order = list(servers.items()) if round_no % 2 == 0 else list(reversed(servers.items()))
        for name, (server, token) in order:
            profiled = spy and round_no == rounds - 1
            mine = figures[name]
            with Profile(server.process.pid, f"{name} search", profiled and name == "after"):
                p50, p95, cpu = search_round(server, token, prefixes)
            for key, value in (("sw p50", p50), ("sw p95", p95), ("sw cpu", cpu)):
                mine.setdefault(key, []).append(value)
            with Profile(server.process.pid, f"{name} create", profiled and name == "after"):
                rate, cpu = create_round(server, token, creates, False, f"{name}{round_no}r")
            mine.setdefault("create/s", []).append(rate)
            mine.setdefault("create cpu", []).append(cpu)
            if password:
                rate, cpu = create_round(server, token, max(50, creates // 20), True, f"{name}{round_no}p")
                mine.setdefault("pw create/s", []).append(rate)
                mine.setdefault("pw create cpu", []).append(cpu)
            last = {key: values[-1] for key, values in mine.items()}
            print(f"  round {round_no + 1} {name}: sw p50 {p50:.1f} p95 {p95:.1f} ms, "
                  f"CPU {last['sw cpu']:.2f} ms/search; creates {last['create/s']:,.0f}/s, "
                  f"CPU {last['create cpu']:.2f} ms/create (load average {os.getloadavg()[0]:.1f})",
                  flush=True)  # fmt: skip
    med = {name: {k: statistics.median(v) for k, v in f.items()} for name, f in figures.items()}
    if "before" in figures:  # paired: each round's two servers ran minutes apart, not a run apart
        before_cpu, after_cpu = figures["before"]["create cpu"], figures["after"]["create cpu"]
        paired = [b / a for b, a in zip(before_cpu, after_cpu, strict=True)]
        print("create CPU before/after, per round: " + " / ".join(f"{r:.2f}" for r in paired)
              + f" (median {statistics.median(paired):.2f})")  # fmt: skip
    per = "ms CPU/create"
    units = {"sw p50": "ms", "sw p95": "ms", "sw cpu": "ms CPU/search", "create/s": "/s",
             "create cpu": per, "pw create/s": "/s", "pw create cpu": per}  # fmt: skip
    for key, unit in units.items():
        if key in med["after"]:
            line = f"{key}: after {med['after'][key]:.2f} {unit}"
            if "before" in med:
                old, new = med["before"][key], med["after"][key]
                rate = unit == "/s"  # a rate: after/before; a cost: before/after (> 1: better)
                named = "after/before" if rate else "before/after"
                line += f"; before {old:.2f} {unit} ({named} {(new / old) if rate else (old / new):.2f})"
            print(line)
    after = med["after"]
    print(f"create capacity from CPU: {1000 / after['create cpu']:,.0f}/s on one core (goal >= 1,000/s)")
    if password:
        hashes = argon2_rate()
        print(f"argon2 alone: {hashes:,.1f} hashes/s on 2 threads; creates with a password after: "
              f"{after['pw create/s']:,.1f}/s (ratio {after['pw create/s'] / hashes:.2f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measure")
    parser.add_argument("--creates", type=int, default=2000, help="users created per rate measure")
    parser.add_argument(
        "--compare-src", type=Path, help="a tree whose src/ serves as 'before' (same database)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds with --compare-src")
    parser.add_argument("--py-spy", action="store_true", help="profile the server (this tree) while measured")
    parser.add_argument("--no-password", action="store_true", help="skip creates with a password and argon2")
    args = parser.parse_args()
    base_url = os.environ.get("OSTIARY_TEST_POSTGRES_URL")
    if not base_url:
        print("skipped: set OSTIARY_TEST_POSTGRES_URL (postgresql+asyncpg://...) to run this bench")
        return
    name = f"ostiary_bench_{os.getpid()}"
    url = with_database(base_url, name)

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(plain_dsn(base_url))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    server = before = None
    try:
        server = serve(
            {"OSTIARY_DATABASE_URL": url}, data_dir=Path(tempfile.mkdtemp(prefix="ostiary-bench-"))
        )
        load_rate = asyncio.run(bulk_load(plain_dsn(url), args.users))
        print(
            f"bulk-loaded {args.users:,} users with COPY at {load_rate:,.0f} rows/s"
            " (indexes and ANALYZE included)"
        )
        token = str(server.admin.headers["Authorization"]).split(" ", 1)[1]
        rng = random.Random(4)
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"SSWS {token}"}, timeout=60
        ) as client:
            sample = client.get("/api/v1/users", params={"limit": "200"}).json()
        logins = [u["profile"]["login"] for u in sample] or ["james.smith0@example.com"]
        prefixes = [rng.choice(logins)[: rng.randint(2, 12)] for _ in range(args.requests)]
        if args.compare_src is not None:
            before_src = str(args.compare_src.resolve() / "src")
            before = serve(
                {"OSTIARY_DATABASE_URL": url, "PYTHONPATH": before_src},
                data_dir=Path(tempfile.mkdtemp(prefix="ostiary-bench-")),
            )
            before_token = str(before.admin.headers["Authorization"]).split(" ", 1)[1]
            servers = {"before": (before, before_token), "after": (server, token)}
            print(f"comparing: before = {before_src}, after = {os.environ.get('PYTHONPATH', 'installed')}")
            compare(servers, args.rounds, prefixes, args.creates, not args.no_password, args.py_spy)
            return
        with Profile(server.process.pid, "all measures", args.py_spy):
            measure(server, token, args, logins, prefixes, rng, url)
    finally:
        for running in (server, before):
            if running is not None:
                running.stop()
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def measure(
    server: Serve, token: str, args: argparse.Namespace, logins: list[str], prefixes: list[str],
    rng: random.Random, url: str,
) -> None:  # fmt: skip
    """Every measure on one server, with the RESULT lines ``bench/run_all.py`` collects."""
    with httpx.Client(base_url=server.url, headers={"Authorization": f"SSWS {token}"}, timeout=60) as client:
        n = args.requests
        measures: dict[str, list[tuple[str, dict[str, str]]]] = {
            "readyz": [("/readyz", {}) for _ in range(n)],
            "list (first page of 200, no search)": [("/api/v1/users", {"limit": "200"}) for _ in range(n)],
            'search=profile.login sw "…"': [
                ("/api/v1/users", {"search": f'profile.login sw "{p}"'}) for p in prefixes
            ],
            'filter=profile.login eq "…"': [
                ("/api/v1/users", {"filter": f'profile.login eq "{rng.choice(logins)}"'}) for _ in range(n)
            ],
            "q=…": [("/api/v1/users", {"q": p[: rng.randint(2, 6)], "limit": "50"}) for p in prefixes],
            'search=profile.department eq "…"': [
                ("/api/v1/users", {"search": f'profile.department eq "{rng.choice(DEPARTMENTS)}"'})
                for _ in range(max(20, n // 10))
            ],
        }
        timed_gets(client, measures["readyz"][:20] + measures['search=profile.login sw "…"'][:20])  # warm
        figures = {label: percentiles(timed_gets(client, calls)) for label, calls in measures.items()}
    base = figures.pop("readyz")
    print(f"baseline GET /readyz (SELECT 1 through the server): p50 {base[0]:.1f} p95 {base[1]:.1f} ms")
    for label, (p50, p95, p99) in figures.items():
        print(f"{label} at {args.users:,} users: p50 {p50:.1f} p95 {p95:.1f} p99 {p99:.1f} ms")
        goal = 50.0 if " sw " in label else None
        result(f"directory {label} p95 at {args.users:,} users (postgres)", p95, "ms",
               "GET /readyz p95 ms", base[1], p95 / base[1], goal)  # fmt: skip
    raw = asyncio.run(raw_insert_rate(plain_dsn(url), args.creates))
    plain, cpu = create_round(server, token, args.creates, False, "plain")
    print(f"create users without a password (postgres): {plain:,.0f}/s; the server's event loop spent "
          f"{cpu:.2f} ms of CPU per user (capacity {1000 / cpu:,.0f}/s on one free core); "
          f"raw INSERT + COMMIT, 8 connections: {raw:,.0f}/s")  # fmt: skip
    result("directory create users/s without password (postgres)", plain, "users/s",
           "raw INSERT+COMMIT rows/s, 8 connections", raw, plain / raw, None)  # fmt: skip
    result("directory create users/s capacity from server CPU per create (postgres, goal >= 1,000/s)",
           1000 / cpu, "users/s", "raw INSERT+COMMIT rows/s, 8 connections", raw, 1000 / cpu / raw,
           None)  # fmt: skip
    if args.no_password:
        return
    hashes = argon2_rate()
    hashed, _ = create_round(server, token, max(100, args.creates // 10), True, "pw")
    print(f"create users with a password (postgres): {hashed:,.1f}/s, argon2 alone {hashes:,.1f} "
          f"hashes/s on 2 threads (ratio {hashed / hashes:.2f})")  # fmt: skip
    result("directory create users/s with password (postgres)", hashed, "users/s",
           "argon2 hashes/s (2 threads)", hashes, hashed / hashes, None)  # fmt: skip


if __name__ == "__main__":
    main()
