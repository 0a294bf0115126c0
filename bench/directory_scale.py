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
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.load import result, serve, tree_cpu

from ostiary.ids import USER, new_id

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
    out = []
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measure")
    parser.add_argument("--creates", type=int, default=2000, help="users created per rate measure")
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
    server = None
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
            n = args.requests
            prefixes = [rng.choice(logins)[: rng.randint(2, 12)] for _ in range(n)]
            measures = {
                "readyz": [("/readyz", {}) for _ in range(n)],
                "list (first page of 200, no search)": [
                    ("/api/v1/users", {"limit": "200"}) for _ in range(n)
                ],
                'search=profile.login sw "…"': [
                    ("/api/v1/users", {"search": f'profile.login sw "{p}"'}) for p in prefixes
                ],
                'filter=profile.login eq "…"': [
                    ("/api/v1/users", {"filter": f'profile.login eq "{rng.choice(logins)}"'})
                    for _ in range(n)
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
        before = tree_cpu(server.process.pid)[0]
        plain = asyncio.run(create_rate(server.url, token, args.creates, False, "plain"))
        cpu_ms = (tree_cpu(server.process.pid)[0] - before) / (args.creates + 50) * 1000
        hashes = argon2_rate()
        hashed = asyncio.run(create_rate(server.url, token, max(100, args.creates // 10), True, "pw"))
        print(f"create users (postgres): {plain:,.0f}/s without a password; {hashed:,.1f}/s with one, "
              f"argon2 alone {hashes:,.1f} hashes/s on 2 threads (ratio {hashed / hashes:.2f})")  # fmt: skip
        print(f"create users without a password: the server's event loop spent {cpu_ms:.2f} ms of CPU "
              f"per user (capacity {1000 / cpu_ms:,.0f}/s on one free core); "
              f"raw INSERT + COMMIT, 8 connections: {raw:,.0f}/s")  # fmt: skip
        result("directory create users/s without password (postgres)", plain, "users/s",
               "raw INSERT+COMMIT rows/s, 8 connections", raw, plain / raw, None)  # fmt: skip
        result("directory create users/s capacity from server CPU per create (postgres, goal >= 1,000/s)",
               1000 / cpu_ms, "users/s", "raw INSERT+COMMIT rows/s, 8 connections", raw, 1000 / cpu_ms / raw,
               None)  # fmt: skip
        result("directory create users/s with password (postgres)", hashed, "users/s",
               "argon2 hashes/s (2 threads)", hashes, hashed / hashes, None)  # fmt: skip
    finally:
        if server is not None:
            server.stop()
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
