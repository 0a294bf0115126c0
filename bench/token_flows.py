"""Token endpoint flows next to plain client_credentials, from one `ostiary serve --workers 1`
(issue 20, goal 1), with the server's CPU per token (``bench/support/load.py``):

* **capacity**: client_credentials RS256 (org AS) tokens/s the server's CPU per token allows on
  this machine's cores, ÷ ``openssl speed rsa2048`` (1 core, CPU time) — goal 1.5 (2.0 is the
  physical limit: two cores signing and nothing else); ES256 (custom AS) ÷ that RS256 — goal 5;
* **policies**: a custom server with 10 policies x 10 rules (only the very last rule matches)
  and two expression claims, ÷ a custom server with one policy and one rule — goal 0.8;
* **authorization code**: redeeming codes minted beforehand through the real flow (``/authn``,
  then ``/authorize`` with the session), ÷ client_credentials on the org AS — goal 0.7; with
  ``openid`` (an access and an ID token: two signatures) and without (one).

Rounds interleave the loads; figures are medians of per-round ratios. The wall-clock rates
are printed too, but on a shared machine they measure the neighbours as much as the server.

With ``--compare-src DIR`` (a tree with ``src/``, or a ``src`` folder itself, e.g.
``/work/main``), a second server runs that code (``PYTHONPATH``) beside this tree's, and each
round loads both, in alternating order, with client_credentials RS256 and the two code
redemptions only: the CPU per redemption before and after, and each one's ratio to its own
client_credentials, from the same run.

    python bench/token_flows.py [--seconds 5] [--rounds 3] [--connections 32] [--compare-src DIR]
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.load import (
    Load,
    Serve,
    basic,
    openssl_sign_rate,
    result,
    serve,
    service_app,
    settle,
    wrk,
    wrk_script,
)
from tests.e2e.servers import client_credentials_server

REDIRECT = "https://app.example.com/callback"
LOGIN, PASSWORD = "bench.user@example.com", "Tr1cky-Secret!"
FORM = "application/x-www-form-urlencoded"


def policy_heavy_server(admin: requests.Session, url: str, policies: int, rules: int) -> str:
    """A custom server whose only matching rule is the last rule of its last policy, with two
    expression claims in every access token."""
    created = admin.post(
        f"{url}/api/v1/authorizationServers", json={"name": "heavy", "audiences": ["api://heavy"]}
    )
    assert created.status_code == 201, created.text
    server_id = created.json()["id"]
    base = f"{url}/api/v1/authorizationServers/{server_id}"
    for scope in ("bench", "elsewhere"):
        assert admin.post(f"{base}/scopes", json={"name": scope}).status_code == 201
    for p in range(policies):
        policy = admin.post(
            f"{base}/policies",
            json={
                "type": "OAUTH_AUTHORIZATION_POLICY",
                "name": f"p{p}",
                "description": "bench",
                "priority": p + 1,
                "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
            },
        ).json()
        for r in range(rules):
            last = p == policies - 1 and r == rules - 1
            rule = admin.post(
                f"{base}/policies/{policy['id']}/rules",
                json={
                    "type": "RESOURCE_ACCESS",
                    "name": f"r{p}.{r}",
                    "priority": r + 1,
                    "conditions": {
                        "grantTypes": {"include": ["client_credentials"]},
                        "scopes": {"include": ["*" if last else "elsewhere"]},
                    },
                },
            )
            assert rule.status_code == 201, rule.text
    for name, value in (("client_label", '"app-" + app.clientId'), ("tenant", "org.id")):
        claim = {
            "name": name,
            "status": "ACTIVE",
            "claimType": "RESOURCE",
            "valueType": "EXPRESSION",
            "value": value,
            "conditions": {"scopes": []},
            "alwaysIncludeInToken": True,
        }
        response = admin.post(f"{base}/claims", json=claim)
        assert response.status_code == 201, response.text
    return str(server_id)


def web_app(admin: requests.Session, url: str) -> tuple[str, str]:
    body = {
        "name": "oidc_client",
        "label": "bench web",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": [REDIRECT],
            }
        },
    }
    oauth = admin.post(f"{url}/api/v1/apps", json=body).json()["credentials"]["oauthClient"]
    everyone = admin.get(f"{url}/api/v1/groups", params={"q": "Everyone"}).json()[0]["id"]
    assert admin.put(f"{url}/api/v1/apps/{oauth['client_id']}/groups/{everyone}", json={}).status_code == 200
    user = {
        "profile": {"login": LOGIN, "email": LOGIN, "firstName": "Bench", "lastName": "User"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    assert admin.post(f"{url}/api/v1/users?activate=true", json=user).status_code == 200
    assert (
        admin.post(f"{url}/api/v1/authorizationServers/default/scopes", json={"name": "bench"}).status_code
        == 201
    )
    return oauth["client_id"], oauth["client_secret"]


def mint_codes(url: str, client_id: str, scope: str, count: int, workers: int = 4) -> list[str]:
    """``count`` authorization codes through the real flow: one sign-in per worker, then
    ``/authorize`` with its session cookie for each code."""

    def codes_of(n: int) -> list[str]:
        http = requests.Session()
        session_token = http.post(
            f"{url}/api/v1/authn", json={"username": LOGIN, "password": PASSWORD}
        ).json()["sessionToken"]
        params = {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "s",
            "nonce": "n",
        }
        found = []
        for i in range(n):
            extra = {"sessionToken": session_token} if i == 0 else {}
            answer = http.get(
                f"{url}/oauth2/default/v1/authorize", params={**params, **extra}, allow_redirects=False
            )
            location = answer.headers.get("location", "")
            code = parse_qs(urlsplit(location).query).get("code")
            if answer.status_code != 302 or not code:
                raise RuntimeError(f"no code: {answer.status_code} {location[:200]} {answer.text[:200]}")
            found.append(code[0])
        return found

    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        return [code for part in pool.map(codes_of, shares) for code in part]


def redeem(server: Serve, client: tuple[str, str], scope: str, seconds: float, estimate: float) -> Load:
    codes = mint_codes(server.url, client[0], scope, max(200, int(estimate * seconds * 1.5)))
    bodies = Path(tempfile.mkdtemp(prefix="ostiary-codes-")) / "bodies.txt"
    bodies.write_text(
        "\n".join(
            urlencode({"grant_type": "authorization_code", "code": c, "redirect_uri": REDIRECT})
            for c in codes
        )
    )
    script = wrk_script(
        "POST", headers={"Content-Type": FORM, "Authorization": basic(*client)}, bodies_file=str(bodies)
    )
    settle()
    return wrk(f"{server.url}/oauth2/default/v1/token", script, seconds, 16, server.process.pid)


THIS_SRC = Path(__file__).resolve().parents[1] / "src"


def source_dir(tree: Path) -> Path:
    """``tree/src`` when there is one, else ``tree`` (a ``src`` folder given directly)."""
    tree = tree.resolve()
    return tree / "src" if (tree / "src" / "ostiary").is_dir() else tree


def compare(args: argparse.Namespace) -> None:
    """Before (``--compare-src``) and after (this tree), same run, alternating rounds."""
    servers = {
        "after": serve({"PYTHONPATH": str(THIS_SRC)}),
        "before": serve({"PYTHONPATH": str(source_dir(args.compare_src))}),
    }
    rows: dict[tuple[str, str], list[Load]] = {}
    try:
        setups = {}
        for name, server in servers.items():
            setups[name] = (
                service_app(server.admin, server.url, "okta.users.read"),
                web_app(server.admin, server.url),
            )
        for index in range(1, args.rounds + 1):
            order = list(servers) if index % 2 else list(reversed(servers))
            print(f"round {index} ({' then '.join(order)}):", flush=True)
            for name in order:
                server = servers[name]
                service, web = setups[name]
                script = wrk_script(
                    "POST",
                    "grant_type=client_credentials&scope=okta.users.read",
                    {"Content-Type": FORM, "Authorization": basic(*service)},
                )
                target = f"{server.url}/oauth2/v1/token"
                wrk(target, script, 1, 8, server.process.pid)
                settle()
                previous = rows.get((name, "code"))
                estimate = max(previous[-1].rate, previous[-1].capacity) if previous else 400.0
                loads = {
                    "rs": wrk(target, script, args.seconds, args.connections, server.process.pid),
                    "code_openid": redeem(server, web, "openid profile email", args.seconds, estimate),
                    "code": redeem(server, web, "bench", args.seconds, estimate),
                }
                for kind, load in loads.items():
                    rows.setdefault((name, kind), []).append(load)
                    print(f"  {name:6} {kind:12} {load.describe()}", flush=True)
    finally:
        for server in servers.values():
            server.stop()

    print()
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) at the end")
    for kind, label in (("code_openid", "with openid"), ("code", "without openid")):
        for name in ("before", "after"):
            cpu = [load.cpu_us for load in rows[(name, kind)]]
            ratios = [
                c.capacity / r.capacity for c, r in zip(rows[(name, kind)], rows[(name, "rs")], strict=True)
            ]
            rs_cpu = [load.cpu_us for load in rows[(name, "rs")]]
            print(
                f"{name:6} redemption {label:15}: CPU per redemption "
                + " / ".join(f"{c:,.0f}" for c in cpu)
                + " us; client_credentials "
                + " / ".join(f"{c:,.0f}" for c in rs_cpu)
                + " us; capacity ratio "
                + " / ".join(f"{r:.2f}" for r in ratios)
                + f" (median {statistics.median(ratios):.2f}, goal 0.7)"
            )
        speedup = statistics.median(
            b.cpu_us / a.cpu_us for b, a in zip(rows[("before", kind)], rows[("after", kind)], strict=True)
        )
        print(f"       CPU per redemption {label}, before / after: {speedup:.2f} x (median of rounds)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--policies", type=int, default=10)
    parser.add_argument("--rules", type=int, default=10)
    parser.add_argument("--compare-src", type=Path, help="a tree (or its src/) to run as the 'before' server")
    args = parser.parse_args()
    if args.compare_src:
        compare(args)
        return

    server = serve()
    url, admin = server.url, server.admin
    try:
        service = service_app(admin, url, "okta.users.read")
        es_server, _ = client_credentials_server(
            admin, url, "bench", credentials={"signing": {"alg": "ES256"}}
        )
        plain_server, _ = client_credentials_server(admin, url, "plain")
        heavy_server = policy_heavy_server(admin, url, args.policies, args.rules)
        web = web_app(admin, url)

        def cc(path: str, scope: str) -> Load:
            script = wrk_script(
                "POST",
                f"grant_type=client_credentials&scope={scope}",
                {"Content-Type": FORM, "Authorization": basic(*service)},
            )
            target = f"{url}{path}"
            wrk(target, script, 1, 8, server.process.pid)  # warm-up: caches, signing processes
            settle()
            return wrk(target, script, args.seconds, args.connections, server.process.pid)

        rows: dict[str, list[Load]] = {}
        openssl: list[float] = []
        for index in range(1, args.rounds + 1):
            openssl.append(openssl_sign_rate("rsa2048"))
            loads = {
                "rs": cc("/oauth2/v1/token", "okta.users.read"),
                "es": cc(f"/oauth2/{es_server}/v1/token", "bench"),
                "plain": cc(f"/oauth2/{plain_server}/v1/token", "plain"),
                "heavy": cc(f"/oauth2/{heavy_server}/v1/token", "bench"),
            }
            # Codes live 60 s: mint for what the last round redeemed (a guess at first), not more.
            previous = rows.get("code")
            estimate = max(previous[-1].rate, previous[-1].capacity) if previous else 400.0
            loads["code_openid"] = redeem(server, web, "openid profile email", args.seconds, estimate)
            loads["code"] = redeem(server, web, "bench", args.seconds, estimate)
            for name, load in loads.items():
                rows.setdefault(name, []).append(load)
            print(
                f"round {index}: openssl speed rsa2048 {openssl[-1]:,.0f} sign/s (1 core, CPU time)",
                flush=True,
            )
            for name, load in loads.items():
                print(f"  {name:12} {load.describe()}", flush=True)
    finally:
        server.stop()

    def median_ratio(top: str, bottom: str | list[float], attr: str = "capacity") -> float:
        below = bottom if isinstance(bottom, list) else [getattr(b, attr) for b in rows[bottom]]
        return statistics.median(getattr(t, attr) / b for t, b in zip(rows[top], below, strict=True))

    def value(name: str, attr: str = "capacity") -> float:
        return statistics.median(getattr(load, attr) for load in rows[name])

    base = statistics.median(openssl)
    print()
    print(f"openssl speed rsa2048, 1 core: {base:,.0f} sign/s (median of rounds)")
    figures = [
        (
            "client_credentials RS256 (org AS), capacity",
            "rs",
            openssl,
            "openssl speed rsa2048 sign/s, 1 core",
            1.5,
        ),
        ("client_credentials ES256 (custom AS), capacity", "es", "rs", "RS256 capacity", 5.0),
        (
            f"custom AS {args.policies}x{args.rules} policies/rules + 2 EL claims, capacity",
            "heavy",
            "plain",
            "custom AS 1 policy x 1 rule",
            0.8,
        ),
        (
            "authorization_code redemption (openid: 2 signatures), capacity",
            "code_openid",
            "rs",
            "client_credentials RS256",
            0.7,
        ),
        (
            "authorization_code redemption (no openid: 1 signature), capacity",
            "code",
            "rs",
            "client_credentials RS256",
            0.7,
        ),
    ]
    for measure, top, bottom, baseline, goal in figures:
        ratio = median_ratio(top, bottom)
        base_value = statistics.median(bottom) if isinstance(bottom, list) else value(bottom)
        wall = (
            median_ratio(top, bottom, "rate")
            if not isinstance(bottom, list)
            else median_ratio(top, openssl, "rate")
        )
        print(
            f"{measure}: {value(top):,.0f} tokens/s vs {baseline} {base_value:,.0f} -> ratio {ratio:.2f} "
            f"(goal {goal}); wall-clock ratio {wall:.2f}; CPU {value(top, 'cpu_us'):,.0f} us/token, "
            f"event loop {value(top, 'main_us'):,.0f}"
        )
        result(measure, value(top), "tokens/s", baseline, base_value, ratio, goal)


if __name__ == "__main__":
    main()
