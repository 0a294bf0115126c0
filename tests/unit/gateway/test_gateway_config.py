"""Specification of the gateway configuration file, route matching and the config generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ostiary.gateway.config import (
    DEFAULT_FORWARD_CLAIMS,
    ConfigError,
    GatewayConfig,
    ScopeRule,
    load_config,
    parse_config,
)
from ostiary.gateway.generate import generate_config
from ostiary.gateway.routing import NoMatch, RouteMatch, Router
from tests.support.jwt_factory import GOLD, SILVER

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "gateway.yaml"
UPSTREAM = "http://127.0.0.1:8082"
ISSUER = "http://localhost:8080/oauth2/default"


def minimal(**route: Any) -> dict[str, Any]:
    return {
        "issuers": [{"issuer": ISSUER, "audiences": ["api://default"]}],
        "routes": [{"path": "/planets", "upstream": UPSTREAM, **route}],
    }


def error_of(data: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="gateway.yaml")
    return str(caught.value)


# ---------------------------------------------------------------- the example file


def test_the_example_configures_the_solar_system_scenario() -> None:
    config = load_config(EXAMPLE)
    routes = {route.path: route for route in config.routes}
    assert routes["/planets"].scopes == ScopeRule(all_of=(SILVER,))
    assert routes["/moons"].scopes == ScopeRule(all_of=(GOLD,))
    assert routes["/asteroids"].scopes == ScopeRule() and not routes["/asteroids"].public
    assert routes["/visitors"].public
    assert {route.upstream for route in config.routes} == {UPSTREAM}
    assert config.issuers[0].audiences == ("api://default",)


# ---------------------------------------------------------------- defaults


def test_routes_default_to_get_and_the_standard_claim_headers() -> None:
    route = parse_config(minimal()).routes[0]
    assert route.methods == frozenset({"GET"})
    assert dict(route.forward_claims) == dict(DEFAULT_FORWARD_CLAIMS)


def test_a_route_may_override_the_forwarded_claims() -> None:
    config = parse_config(minimal(forward_claims={"X-User": "uid"}))
    assert dict(config.routes[0].forward_claims) == {"X-User": "uid"}
    assert config.identity_headers == {"x-subject", "x-client-id", "x-scopes", "x-user"}


def test_a_global_cors_policy_applies_to_routes_without_their_own() -> None:
    data = minimal()
    data["cors"] = {"origins": ["http://localhost:8080"]}
    data["routes"].append({"path": "/moons", "upstream": UPSTREAM, "cors": None})
    config = parse_config(data)
    assert config.routes[0].cors is not None and config.routes[0].cors.origins == ("http://localhost:8080",)
    assert config.routes[1].cors is None


def test_public_only_configurations_need_no_issuer() -> None:
    config = parse_config({"routes": [{"path": "/visitors", "upstream": UPSTREAM, "public": True}]})
    assert isinstance(config, GatewayConfig) and config.issuers == ()


# ---------------------------------------------------------------- errors name the file and the key


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (minimal(scope={"all_of": [SILVER]}), "gateway.yaml: routes[0].scope: unknown key"),
        (
            {"issuers": [{"issuer": ISSUER, "audiences": ["api://default"]}], "routes": [{"path": "/x"}]},
            "routes[0].upstream: is required",
        ),
        (minimal(upstream="ftp://host"), "routes[0].upstream: expected an http(s) URL"),
        (minimal(scopes={"all_of": [1]}), "routes[0].scopes.all_of: expected a list of strings"),
        (minimal(scopes={"one_of": [SILVER]}), "routes[0].scopes.one_of: unknown key"),
        (
            minimal(public=True, scopes={"all_of": [SILVER]}),
            "routes[0].scopes: a public route cannot require",
        ),
        (minimal(public="yes"), "routes[0].public: expected true or false"),
        (minimal(methods=["FETCH"]), "routes[0].methods: unknown method(s): FETCH"),
        (minimal(path="planets"), "routes[0].path: a route path starts with '/'"),
        (minimal(path="/a/*/b"), "routes[0].path: '*' is allowed only as a final '/*'"),
        (minimal(path="/grades/{id"), "routes[0].path: bad parameter segment"),
        (minimal(strip_prefix="/other"), "routes[0].strip_prefix: '/planets' does not start with '/other'"),
        (
            minimal(forward_claims={"Authorization": "sub"}),
            "routes[0].forward_claims.Authorization: this header",
        ),
        (
            minimal(forward_claims={"Bad Header": "sub"}),
            "routes[0].forward_claims.Bad Header: not a valid header",
        ),
        (minimal(cors={"origins": ["*"], "credentials": True}), "routes[0].cors.credentials"),
        (minimal(cors={"origins": ["localhost"]}), "routes[0].cors.origins[0]"),
        (
            {"routes": [{"path": "/x", "upstream": UPSTREAM}]},
            "issuers: protected routes need at least one issuer",
        ),
        (
            {**minimal(), "limits": {"max_request_body": -1}},
            "limits.max_request_body: expected an integer >= 0",
        ),
        ({**minimal(), "timeouts": {"read": 0}}, "timeouts.read: expected a number greater than 0"),
        (
            {**minimal(), "rate_limit": {"redis_url": "localhost"}},
            "rate_limit.redis_url: expected a redis:// URL",
        ),
        (
            {
                **minimal(),
                "issuers": [
                    {"issuer": ISSUER, "audiences": ["api://default"]},
                    {"issuer": ISSUER, "audiences": ["api://default"]},
                ],
            },
            "issuers: each issuer may appear",
        ),
        ({**minimal(), "listen": {"port": 70000}}, "listen.port"),
        ({**minimal(), "extra": 1}, "gateway.yaml: extra: unknown key"),
        ([], "expected a mapping"),
        (None, "the configuration is empty"),
    ],
)
def test_bad_configurations_are_explained(data: Any, expected: str) -> None:
    message = error_of(data)
    assert expected in message
    assert message.startswith("gateway.yaml")


def test_a_single_scope_string_is_a_one_item_list() -> None:
    assert parse_config(minimal(scopes={"all_of": SILVER})).routes[0].scopes.all_of == (SILVER,)


def test_yaml_syntax_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("routes: [\n")
    with pytest.raises(ConfigError, match=r"gateway\.yaml: not valid YAML"):
        load_config(path)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml")


# ---------------------------------------------------------------- route matching


def router(*routes: dict[str, Any]) -> Router:
    return Router(
        parse_config(
            {"issuers": [{"issuer": ISSUER, "audiences": ["api://default"]}], "routes": list(routes)}
        ).routes
    )


def test_a_parameter_segment_matches_one_segment() -> None:
    found = router({"path": "/grades/{student_id}", "upstream": UPSTREAM}).match("GET", "/grades/12345")
    assert isinstance(found, RouteMatch) and found.params == {"student_id": "12345"}
    assert isinstance(
        router({"path": "/grades/{id}", "upstream": UPSTREAM}).match("GET", "/grades/1/2"), NoMatch
    )


def test_a_trailing_star_matches_the_prefix_and_below_only() -> None:
    routes = router({"path": "/api/*", "upstream": UPSTREAM})
    for path in ("/api", "/api/", "/api/x/y"):
        assert isinstance(routes.match("GET", path), RouteMatch), path
    assert isinstance(routes.match("GET", "/apis"), NoMatch)


def test_head_is_allowed_where_get_is() -> None:
    assert isinstance(
        router({"path": "/planets", "upstream": UPSTREAM}).match("HEAD", "/planets"), RouteMatch
    )


def test_the_first_matching_route_wins() -> None:
    routes = router(
        {"path": "/api/public", "upstream": UPSTREAM, "public": True},
        {"path": "/api/*", "upstream": UPSTREAM},
    )
    found = routes.match("GET", "/api/public")
    assert isinstance(found, RouteMatch) and found.route.public


def test_a_known_path_with_another_method_reports_the_allowed_methods() -> None:
    found = router({"path": "/planets", "methods": ["GET", "POST"], "upstream": UPSTREAM}).match(
        "DELETE", "/planets"
    )
    assert isinstance(found, NoMatch) and found.allowed == {"GET", "HEAD", "POST"}


def test_a_route_for_another_method_is_passed_over_for_a_later_one() -> None:
    routes = router(
        {"path": "/planets", "methods": ["POST"], "upstream": UPSTREAM},
        {"path": "/planets/{name}", "methods": ["*"], "upstream": UPSTREAM, "public": True},
        {"path": "/planets", "methods": ["GET"], "upstream": UPSTREAM, "public": True},
    )
    found = routes.match("GET", "/planets")
    assert isinstance(found, RouteMatch) and found.route.public and found.params == {}
    found = routes.match("PATCH", "/planets/earth")
    assert isinstance(found, RouteMatch) and found.params == {"name": "earth"}
    refused = routes.match("DELETE", "/planets")
    assert isinstance(refused, NoMatch) and refused.allowed == {"GET", "HEAD", "POST"}


# ---------------------------------------------------------------- the generator

AUTH_SERVER = {
    "id": "default",
    "name": "default",
    "issuer": ISSUER,
    "audiences": ["api://default"],
}
SCOPES = [{"id": "scp1", "name": SILVER}, {"id": "scp2", "name": GOLD}, {"id": "scp3", "name": "openid"}]
MAPPING = {
    "upstream": UPSTREAM,
    "scopes": {SILVER: ["GET /planets"], GOLD: ["GET /moons", {"path": "/planets", "methods": ["GET"]}]},
    "authenticated": ["/asteroids"],
    "public": ["GET /visitors"],
}


def test_the_generator_builds_the_solar_system_routes() -> None:
    config = generate_config(AUTH_SERVER, SCOPES, MAPPING)
    assert config["issuers"] == [{"issuer": ISSUER, "audiences": ["api://default"]}]
    routes = {route["path"]: route for route in config["routes"]}
    assert routes["/planets"]["scopes"] == {"any_of": [SILVER, GOLD]}
    assert routes["/moons"]["scopes"] == {"any_of": [GOLD]}
    assert "scopes" not in routes["/asteroids"] and not routes["/asteroids"].get("public")
    assert routes["/visitors"]["public"] is True
    assert parse_config(config).routes[0].upstream == UPSTREAM


def test_the_generator_refuses_scopes_the_server_does_not_define() -> None:
    with pytest.raises(ValueError, match="is not a scope of authorization server 'default'"):
        generate_config(AUTH_SERVER, SCOPES, {"upstream": UPSTREAM, "scopes": {"platinum": ["/x"]}})


def test_the_generator_needs_an_upstream() -> None:
    with pytest.raises(ValueError, match="no upstream"):
        generate_config(AUTH_SERVER, SCOPES, {"scopes": {SILVER: ["/planets"]}})


def test_the_generator_carries_other_sections_over() -> None:
    config = generate_config(AUTH_SERVER, SCOPES, {**MAPPING, "rate_limit": {"per_client_per_minute": 5}})
    assert parse_config(config).rate_limit.per_client_per_minute == 5
