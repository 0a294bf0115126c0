"""What one authorization request carries through the steps of the pipeline.

:mod:`.request` fills the first block; each later step adds what it establishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from ostiary.domain.clients.client_cache import Client
from ostiary.domain.directory.sessions import SignedIn
from ostiary.domain.orgs import Org
from ostiary.domain.tokens.token_user import TokenUser
from ostiary.domain.tokens.user_context import UserContext
from ostiary.domain.tokens.user_scopes import UserScopeDecision
from ostiary.http.oauth.server_context import ServerContext


@dataclass
class Authorization:
    request: Request
    params: dict[str, str]
    org: Org
    server: ServerContext
    client: Client
    redirect_uri: str
    state: str | None
    # response_type.py
    response_types: frozenset[str] = frozenset()
    response_mode: str = "query"
    # scopes.py
    scopes: tuple[str, ...] = ()
    nonce: str | None = None
    # pkce.py
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    # prompt.py
    prompts: frozenset[str] = frozenset()
    max_age: int | None = None
    # session.py
    user_session: SignedIn | None = None
    new_session_secret: str | None = None
    fresh_sign_in: bool = False
    # assignment.py
    user: TokenUser | None = None
    user_context: UserContext | None = None
    # scopes.decide_scopes: the policies' decision by grant type
    decisions: dict[str, UserScopeDecision] = field(default_factory=dict)

    @property
    def wants_code(self) -> bool:
        return "code" in self.response_types

    @property
    def wants_token(self) -> bool:
        return "token" in self.response_types

    @property
    def wants_id_token(self) -> bool:
        return "id_token" in self.response_types

    @property
    def signed_in_user(self) -> TokenUser:
        assert self.user is not None, "the assignment step runs before this one"
        return self.user

    @property
    def signed_in_session(self) -> SignedIn:
        assert self.user_session is not None, "the session step runs before this one"
        return self.user_session
