"""Custom claims of an authorization server, evaluated for one token.

Expressions were parsed when the claim was created; here they only run. A claim whose value is
null, or whose expression fails at run time, is left out of the token (and logged) rather than
failing the request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ostiary.domain.authz.expressions import EvalContext, ExpressionEvaluationError, filter_groups
from ostiary.domain.authz.policy_sets import ClaimView

log = logging.getLogger("ostiary.claims")


def evaluate_claims(claims: Iterable[ClaimView], ctx: EvalContext) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for claim in claims:
        value: Any
        if claim.value_type == "GROUPS" and claim.group_filter_type:
            value = filter_groups(ctx.groups, claim.group_filter_type, claim.value)
            if not value:
                continue
        elif claim.expression is not None:
            try:
                value = claim.expression.evaluate(ctx)
            except ExpressionEvaluationError as exc:
                log.warning("claim %s (%s) left out: %s", claim.name, claim.id, exc.message)
                continue
        else:
            continue
        if value is None:
            continue
        values[claim.name] = value
    return values
