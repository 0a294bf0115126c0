"""``examples/pytest-sample`` is a user's project: its tests run with the ostiary pytest plugin
(an org from its ``org.yaml`` over TLS, tokens, 429s the okta SDK and a retry loop wait out,
a key rotation okta-jwt-verifier follows, a JWKS outage, clock skew, lockout, reset)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.pytest_runs import run_pytest

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest-sample"
SAMPLE_TESTS = 13


def test_the_sample_projects_tests_pass_with_the_plugin() -> None:
    result = run_pytest(SAMPLE, "-q")

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(rf"\b{SAMPLE_TESTS} passed\b", result.stdout), result.stdout[-2000:]
