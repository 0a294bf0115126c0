"""Protect your own API with Ostiary (or Okta) access tokens: ASGI middleware and dependencies."""

from ostiary.cors_policy import CorsPolicy
from ostiary.resource.auth import JwtAuth, current_claims, granted_scopes, require_scopes
from ostiary.resource.bearer import BearerError, bearer_error_handler, bearer_error_response
from ostiary.resource.middleware import ProtectedAPIMiddleware

__all__ = [
    "BearerError",
    "CorsPolicy",
    "JwtAuth",
    "ProtectedAPIMiddleware",
    "bearer_error_handler",
    "bearer_error_response",
    "current_claims",
    "granted_scopes",
    "require_scopes",
]
