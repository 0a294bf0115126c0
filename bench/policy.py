"""Policy engine benchmark: evaluations/s with 100 policies x 10 rules, where only the very last
rule matches (the worst case: every policy and rule is considered), next to the same request
against a one-policy, one-rule set measured in the same run (the ratio is the cost of size).

    python bench/policy.py [--seconds 3]
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import time

from ostiary.domain.authz.policy_engine import CompiledPolicySet, PolicyView, RuleView, TokenRequest

SILVER, GOLD = "http://myapp.com/scp/silver", "http://myapp.com/scp/gold"


def rule(policy: int, index: int, *, last: bool) -> RuleView:
    return RuleView(
        id=f"0pr{policy:03d}{index:02d}",
        name=f"rule {policy}.{index}",
        priority=index + 1,
        active=True,
        groups_include=frozenset({"00ggold" if last else f"00gother{policy}{index}"}),
        grant_types=frozenset({"authorization_code", "implicit"}),
        scopes=frozenset({"openid", "profile", SILVER, GOLD}),
    )


def policy_set(policies: int, rules: int) -> CompiledPolicySet:
    views = []
    for p in range(policies):
        last_policy = p == policies - 1
        views.append(
            PolicyView(
                id=f"00p{p:03d}",
                name=f"policy {p}",
                priority=p + 1,
                active=True,
                clients_include=frozenset({"ALL_CLIENTS"}),
                rules=tuple(rule(p, r, last=last_policy and r == rules - 1) for r in range(rules)),
            )
        )
    return CompiledPolicySet(views)


def rate(engine: CompiledPolicySet, request: TokenRequest, seconds: float) -> float:
    assert engine.evaluate(request).granted
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            engine.evaluate(request)
        count += 100
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    request = TokenRequest(
        client_id="0oaapp",
        user_id="00ulois",
        user_group_ids=frozenset({"00ggold", "00geveryone"}),
        grant_type="authorization_code",
        scopes=("openid", "profile", SILVER, GOLD),
    )
    small = rate(policy_set(1, 1), request, args.seconds)
    large = rate(policy_set(100, 10), request, args.seconds)
    print(f"1 policy x 1 rule (baseline): {small:,.0f} evaluations/s ({1e6 / small:.1f} us each)")
    print(f"100 policies x 10 rules, last rule matches: {large:,.0f}/s ({1e6 / large:.1f} us each)")
    print(f"ratio large/small: {large / small:.3f}; the token endpoint caches the compiled set per server")
    print("token issuance on a custom server next to the org server: see bench/token.py")
    print(
        "RESULT "
        + json.dumps(
            {
                "measure": "policy evaluation, 100 policies x 10 rules",
                "value": large,
                "unit": "evaluations/s",
                "baseline": "1 policy x 1 rule",
                "baseline_value": small,
                "ratio": large / small,
                "goal": None,
            }
        )
    )


if __name__ == "__main__":
    main()
