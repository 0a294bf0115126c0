"""The org-file client of Okta's management API: paging by ``Link: rel="next"``, 429s waited
out by ``Retry-After`` or ``X-Rate-Limit-Reset``, a spent budget waited for before the next call."""

from __future__ import annotations

import httpx
import pytest

from ostiary.org_remote.client import ManagementClient, RemoteError

ORG = "https://acme.okta.example"
NOW = 1_700_000_000.0


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def client(handler: httpx.MockTransport, recorder: Recorder, **kwargs: float) -> ManagementClient:
    return ManagementClient(
        ORG,
        "tok",
        transport=handler,
        sleep=recorder.sleep,
        clock=lambda: NOW,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_get_all_follows_link_next_and_sends_ssws() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("after") == "g2":
            return httpx.Response(
                200, json=[{"id": "g3"}], headers={"Link": f'<{ORG}/api/v1/groups?after=g2>; rel="self"'}
            )
        links = [
            f'<{ORG}/api/v1/groups?limit=200>; rel="self"',
            f'<{ORG}/api/v1/groups?after=g2&limit=2>; rel="next"',
        ]
        return httpx.Response(
            200, json=[{"id": "g1"}, {"id": "g2"}], headers=[("Link", link) for link in links]
        )

    recorder = Recorder()
    async with client(httpx.MockTransport(handler), recorder) as api:
        groups = await api.get_all("/api/v1/groups")
    assert [g["id"] for g in groups] == ["g1", "g2", "g3"]
    assert [str(r.url) for r in seen] == [
        f"{ORG}/api/v1/groups?limit=200",
        f"{ORG}/api/v1/groups?after=g2&limit=2",
    ]
    assert all(r.headers["Authorization"] == "SSWS tok" for r in seen) and recorder.sleeps == []


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "3"}, 3.0),
        (
            {
                "X-Rate-Limit-Limit": "600",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": str(int(NOW) + 7),
            },
            8.0,
        ),
    ],
)
async def test_a_429_is_waited_out_and_retried(headers: dict[str, str], wait: float) -> None:
    answers = [
        httpx.Response(
            429,
            json={"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit"},
            headers=headers,
        )
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else httpx.Response(200, json={"id": "u1"})

    recorder = Recorder()
    async with client(httpx.MockTransport(handler), recorder) as api:
        assert await api.json("GET", "/api/v1/users/u1") == {"id": "u1"}
        assert api.retried == 1
    assert recorder.sleeps[0] == wait


async def test_a_spent_budget_waits_for_the_reset_before_the_next_call() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        limits = {
            "X-Rate-Limit-Limit": "2",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(int(NOW) + 5),
        }
        return httpx.Response(200, json=[], headers=limits)

    recorder = Recorder()
    async with client(httpx.MockTransport(handler), recorder) as api:
        await api.get_all("/api/v1/groups")
        assert recorder.sleeps == []
        await api.get_all("/api/v1/users")
    assert recorder.sleeps == [5.0]


async def test_too_many_429s_and_other_errors_raise_with_okta_summary() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/busy"):
            return httpx.Response(
                429, headers={"Retry-After": "1"}, json={"errorSummary": "API call exceeded rate limit"}
            )
        return httpx.Response(
            400,
            json={
                "errorCode": "E0000001",
                "errorSummary": "Api validation failed: label",
                "errorCauses": [{"errorSummary": "label: The field cannot be left blank"}],
            },
        )

    recorder = Recorder()
    async with client(httpx.MockTransport(handler), recorder, max_retries=2) as api:
        with pytest.raises(RemoteError, match="exceeded rate limit"):
            await api.json("GET", "/api/v1/busy")
        assert recorder.sleeps == [1.0, 1.0]
        with pytest.raises(
            RemoteError, match=r"POST /api/v1/apps: Api validation failed: label \(label: The field"
        ):
            await api.json("POST", "/api/v1/apps", {})


async def test_waits_are_capped() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "3600"})]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else httpx.Response(204)

    recorder = Recorder()
    async with client(httpx.MockTransport(handler), recorder, max_wait=30.0) as api:
        assert await api.json("DELETE", "/api/v1/groups/g1") is None
    assert recorder.sleeps == [30.0]
