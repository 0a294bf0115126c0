"""Users: create, read, update, list and Okta's lifecycle transitions."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.context import Tx
from ostiary.domain.directory import (
    directory_facts,
    password_import,
    passwords,
    recovery_question,
    user_schema,
)
from ostiary.domain.directory.profile import validate_profile
from ostiary.domain.errors import Forbidden, Invalid, NotFound
from ostiary.domain.roles import principal_cleanup
from ostiary.store import write_behind
from ostiary.store.models import GroupMembership, User
from ostiary.store.repositories.paging import Page, fetch_page, fetch_sorted_page
from ostiary.timeutil import utcnow

STAGED = "STAGED"
PROVISIONED = "PROVISIONED"
ACTIVE = "ACTIVE"
RECOVERY = "RECOVERY"
LOCKED_OUT = "LOCKED_OUT"
PASSWORD_EXPIRED = "PASSWORD_EXPIRED"
SUSPENDED = "SUSPENDED"
DEPROVISIONED = "DEPROVISIONED"

NOT_ALLOWED = "This operation is not allowed in the user's current status."


def not_found(user_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {user_id} (User)", code="E0000007")


def target(user: User) -> Target:
    return Target(user.id, "User", user.login, _display_name(user))


def _display_name(user: User) -> str:
    names = [user.profile.get("firstName"), user.profile.get("lastName")]
    return " ".join(str(n) for n in names if n) or user.login


def _forbidden(message: str = NOT_ALLOWED, code: str = "E0000038") -> Forbidden:
    return Forbidden(message, code=code)


async def get_user(tx: Tx, id_or_login: str) -> User:
    """Look a user up by id, or by login (case-insensitive) as Okta's GET /users/{id} does."""
    stmt = select(User).where(User.org_id == tx.org_id)
    if id_or_login.startswith(ids.USER) and len(id_or_login) == 20:
        stmt = stmt.where(User.id == id_or_login)
    else:
        stmt = stmt.where(or_(User.id == id_or_login, User.login_lower.in_(login_keys(id_or_login))))
    user = (await tx.session.scalars(stmt)).first()
    if user is None:
        raise not_found(id_or_login)
    return user


def email_verified(user: User) -> bool:
    """Is the user's primary email verified?

    Ostiary sends no verification mail, so the one party that can vouch for an address is the
    administrator who activates the user with it (created with ``activate=true`` and a password,
    or activated later with one), which is how Okta shows an admin-activated user's email
    (VERIFIED). The address verified then is remembered; an address set or changed afterwards
    through the API is not verified until it is that address again. So an API client that may
    edit profiles cannot make relying parties trust an arbitrary address for an existing user.
    """
    return user.email_lower is not None and user.email_lower == user.verified_email_lower


def _vouch_for_email(user: User) -> None:
    user.verified_email_lower = user.email_lower


CHANGE_PASSWORD = "changePassword"
"""``nextLogin=changePassword``: the new user's password is expired at once."""


@dataclass(frozen=True)
class NewPassword:
    """A password from a user body: a plaintext ``value`` (checked against the policy) or the
    stored form of an imported ``hash``."""

    value: str | None = None
    imported: str | None = None


def _new_password(credentials: object) -> NewPassword | None:
    if isinstance(credentials, Mapping) and isinstance(credentials.get("password"), Mapping):
        password = credentials["password"]
        if password.get("hash") is not None:
            if password.get("value") is not None:
                raise Invalid(
                    "Api validation failed: password",
                    code="E0000001",
                    causes=["password: value and hash cannot both be set"],
                )
            return NewPassword(imported=password_import.stored_hash(password["hash"]))
    value = _password_from(credentials)
    return NewPassword(value=value) if value is not None else None


def _password_from(credentials: object) -> str | None:
    if credentials is None:
        return None
    if not isinstance(credentials, Mapping):
        raise Invalid("Api validation failed: credentials", code="E0000001", causes=["credentials: invalid"])
    password = credentials.get("password")
    if password is None:
        return None
    if not isinstance(password, Mapping):
        raise Invalid("Api validation failed: password", code="E0000001", causes=["password: invalid"])
    if password.get("hash") is not None:
        raise Invalid(
            "Api validation failed: password",
            code="E0000001",
            causes=["password: a hashed password can only be set when creating or updating a user"],
        )
    value = password.get("value")
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("Api validation failed: password", code="E0000001", causes=["password: invalid"])
    return value


def sets_password(body: Mapping[str, Any]) -> bool:
    """Does a user body (``POST``/``PUT /users/{id}``) set a new password?"""
    return _new_password(body.get("credentials")) is not None


def parse_next_login(value: str | None) -> bool:
    """``nextLogin``: absent, or ``changePassword`` (expire the password); anything else is refused."""
    if value is None or value == "":
        return False
    if value != CHANGE_PASSWORD:
        raise Invalid(
            "Api validation failed: nextLogin",
            code="E0000001",
            causes=[f"nextLogin: must be {CHANGE_PASSWORD}"],
        )
    return True


async def _stored_password(new: NewPassword | None, profile: Mapping[str, Any]) -> str | None:
    if new is None:
        return None
    if new.imported is not None:
        return new.imported
    assert new.value is not None
    passwords.check_password(new.value, profile)
    return await passwords.hash_password(new.value)


async def create_user(
    tx: Tx, body: Mapping[str, Any], *, activate: bool = True, expire_password: bool = False
) -> User:
    """``POST /users``; ``expire_password`` (``nextLogin=changePassword``) makes an activated user
    with a password PASSWORD_EXPIRED, so that the first sign-in must change it."""
    profile = validate_profile(body.get("profile"))
    facts = await directory_facts.of(tx)
    profile = user_schema.check_custom_attributes(profile, dict(facts.custom), incoming=body["profile"])
    type_id = _requested_type_id(tx, body.get("type"))
    new = _new_password(body.get("credentials"))
    question = recovery_question.parse(body.get("credentials"))
    if new is not None and new.value is not None:
        passwords.check_password(new.value, profile)
    if new is not None or question is not None or len(login_keys(profile["login"])) > 1:
        # Otherwise the unique (org, login_lower) index refuses a taken login at the INSERT
        # (insert_user), one round trip fewer; asked first only where that is not enough: a
        # login whose plain lower() differs from its key (rows stored before normalisation),
        # and before hashing a password or a recovery answer for a login that is taken.
        await _ensure_login_free(tx, profile["login"])
    password_hash = await _stored_password(new, profile)
    now = utcnow()
    user = User(
        id=ids.new_id(ids.USER),
        org_id=tx.org_id,
        status=STAGED,
        login=profile["login"],
        login_lower=login_key(profile["login"]),
        email_lower=(profile.get("email") or "").lower() or None,
        profile=profile,
        password_hash=password_hash,
        type_id=type_id,
        failed_logins=0,
        created=now,
        last_updated=now,
        status_changed=None,
        password_changed=now if password_hash else None,
    )
    if question is not None:
        await recovery_question.store(user, *question)
    if activate:
        user.status = ACTIVE if password_hash else PROVISIONED
        if password_hash and expire_password:
            user.status = PASSWORD_EXPIRED
        user.activated = now
        user.status_changed = now
        if password_hash:
            _vouch_for_email(user)
    await insert_user(tx, user)
    group_ids = body.get("groupIds")
    if group_ids:
        from ostiary.domain.directory import groups

        for gid in _string_list(group_ids, "groupIds"):
            await groups.add_member(tx, gid, user.id, audit=False)
    if facts.has_active_rules:  # a new user holds no rule-given membership yet: none to drop
        await _apply_group_rules(tx, user, new=True)
    record(tx, "user.lifecycle.create", "Create okta user", [target(user)])
    if activate:
        record(tx, "user.lifecycle.activate", "Activate Okta user", [target(user)])
    return user


_USERS = cast(Table, User.__table__)
_USER_COLUMNS = tuple(column.key for column in _USERS.columns)


async def insert_user(tx: Tx, user: User) -> None:
    """Write the new (transient) ``user`` with a Core ``INSERT``, not through the session, held
    back until the transaction next sends something (``store.write_behind``): a create that
    writes nothing else commits the user and its log events in one round trip on PostgreSQL.
    A login taken meanwhile is refused where the row is written, as :func:`_duplicate_login`.

    Why not the session: the ORM's flush of one new object (unit of work, state tracking, the
    identity map) was about a tenth of a create's CPU on PostgreSQL (py-spy); nothing in the
    request reads the user back through the session. Code that loads it later in the
    transaction (group memberships) gets it from the database like any other row. Columns left
    ``None`` are left out, as a flush leaves them (a JSON column would otherwise hold JSON
    ``null``, not NULL)."""
    values = {key: value for key in _USER_COLUMNS if (value := getattr(user, key)) is not None}
    await write_behind.insert_later(tx.session, _USERS, values, conflict=_LOGIN_TAKEN)


def default_type_id(tx: Tx) -> str:
    return ids.USER_TYPE + tx.org_id[3:]


def _requested_type_id(tx: Tx, requested: object) -> str:
    """``type.id`` of a new user: absent, or the org's one user type; anything else is refused
    rather than silently replaced by the default."""
    if requested is None:
        return default_type_id(tx)
    default = default_type_id(tx)
    if not isinstance(requested, Mapping) or requested.get("id") != default:
        raise Invalid(
            "Api validation failed: type",
            code="E0000001",
            causes=["type.id: The user type does not exist or is not valid"],
        )
    return default


def _string_list(value: object, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"Api validation failed: {name}", code="E0000001", causes=[f"{name}: must be a list"])
    return list(value)


def login_key(login: str) -> str:
    """What makes two logins the same: equal after Unicode NFKC and lower-casing, so ``é`` composed
    and decomposed, or full-width and ASCII letters, are one login (stored in ``login_lower``)."""
    return unicodedata.normalize("NFKC", login).lower()


def login_keys(login: str) -> tuple[str, ...]:
    """The keys a stored login may have: :func:`login_key`, and plain ``lower()`` for rows written
    before logins were normalised (identical for ASCII logins)."""
    return tuple(dict.fromkeys((login_key(login), login.lower())))


def _duplicate_login() -> Invalid:
    return Invalid(
        "Api validation failed: login",
        code="E0000001",
        causes=["login: An object with this field already exists in the current organization"],
    )


_LOGIN_TAKEN = write_behind.Conflict("uq_users_org_login", _duplicate_login)


async def _ensure_login_free(tx: Tx, login: str, *, except_id: str | None = None) -> None:
    stmt = select(User.id).where(User.org_id == tx.org_id, User.login_lower.in_(login_keys(login)))
    if any(found != except_id for found in (await tx.session.scalars(stmt)).all()):
        raise _duplicate_login()


async def update_user(tx: Tx, user_id: str, body: Mapping[str, Any], *, partial: bool) -> User:
    """POST (partial: profile merged) or PUT (profile replaced) on /users/{id}."""
    user = await get_user(tx, user_id)
    if "profile" in body:
        incoming = body["profile"]
        if partial:
            if not isinstance(incoming, Mapping):
                validate_profile(incoming)
            merged = {**user.profile, **incoming}
        else:
            merged = incoming
        profile = validate_profile(merged)
        profile = user_schema.check_custom_attributes(
            profile, await user_schema.custom_properties(tx), incoming=incoming
        )
        if login_key(profile["login"]) != user.login_lower:
            await _ensure_login_free(tx, profile["login"], except_id=user.id)
        user.profile = profile
        user.login = profile["login"]
        user.login_lower = login_key(profile["login"])
        user.email_lower = (profile.get("email") or "").lower() or None
    elif not partial:
        validate_profile(None)
    new = _new_password(body.get("credentials"))
    question = recovery_question.parse(body.get("credentials"))
    if question is not None:
        await recovery_question.store(user, *question)
    status_before = user.status
    if new is not None:
        if new.imported is not None and user.status != STAGED:
            raise Invalid(
                "Api validation failed: password",
                code="E0000001",
                causes=["password.hash: a hashed password can only be imported for a STAGED user"],
            )
        user.password_hash = await _stored_password(new, user.profile)
        user.password_changed = utcnow()
        if user.status in (PASSWORD_EXPIRED, RECOVERY):
            _set_status(user, ACTIVE)  # an admin's new password ends an expiry or a reset
    user.last_updated = utcnow()
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise _duplicate_login() from exc
    if "profile" in body or user.status != status_before:
        await _apply_group_rules(tx, user)
    record(tx, "user.account.update_profile", "Update user profile for Okta", [target(user)])
    return user


async def _apply_group_rules(tx: Tx, user: User, *, new: bool = False) -> None:
    """Group rules follow the user's profile (imported here: group_rules reads users' rows)."""
    from ostiary.domain.directory import group_rules

    await group_rules.apply_to_user(tx, user, new=new)


def _set_status(user: User, status: str) -> None:
    now = utcnow()
    user.status = status
    user.status_changed = now
    user.last_updated = now
    user.transitioning_to_status = None


async def activate(tx: Tx, user_id: str, *, expire_password: bool = False) -> User:
    """STAGED or DEPROVISIONED → ACTIVE (with a password; PASSWORD_EXPIRED with
    ``expire_password``) or PROVISIONED (without: the activation token sets one)."""
    user = await get_user(tx, user_id)
    if user.status in (ACTIVE, PASSWORD_EXPIRED, RECOVERY, LOCKED_OUT, SUSPENDED):
        raise _forbidden("Activation failed because the user is already active", code="E0000016")
    if user.status == PROVISIONED:
        raise _forbidden("Activation failed because the user is already activated; use reactivate")
    _set_status(user, ACTIVE if user.password_hash else PROVISIONED)
    user.activated = utcnow()
    if user.status == ACTIVE:
        _vouch_for_email(user)
        if expire_password:
            user.status = PASSWORD_EXPIRED
    record(tx, "user.lifecycle.activate", "Activate Okta user", [target(user)])
    await _apply_group_rules(tx, user)  # rules skip deactivated users: catch up on activation
    return user


async def reactivate(tx: Tx, user_id: str) -> User:
    """Only PROVISIONED or RECOVERY users can be reactivated (a new activation token)."""
    user = await get_user(tx, user_id)
    if user.status not in (PROVISIONED, RECOVERY):
        raise _forbidden()
    user.last_updated = utcnow()
    record(tx, "user.lifecycle.reactivate", "Reactivate Okta user", [target(user)])
    await _apply_group_rules(tx, user)
    return user


async def deactivate(tx: Tx, user_id: str) -> User:
    user = await get_user(tx, user_id)
    if user.status == DEPROVISIONED:
        raise _forbidden()
    _set_status(user, DEPROVISIONED)
    record(tx, "user.lifecycle.deactivate", "Deactivate Okta user", [target(user)])
    return user


async def _transition(tx: Tx, user_id: str, allowed: tuple[str, ...], to: str, event: str, msg: str) -> User:
    user = await get_user(tx, user_id)
    if user.status not in allowed:
        raise _forbidden()
    _set_status(user, to)
    if to == ACTIVE:
        user.failed_logins = 0
    record(tx, event, msg, [target(user)])
    await _apply_group_rules(tx, user)  # an expression may read user.status
    return user


async def suspend(tx: Tx, user_id: str) -> User:
    return await _transition(tx, user_id, (ACTIVE,), SUSPENDED, "user.lifecycle.suspend", "Suspend Okta user")


async def unsuspend(tx: Tx, user_id: str) -> User:
    return await _transition(
        tx, user_id, (SUSPENDED,), ACTIVE, "user.lifecycle.unsuspend", "Unsuspend Okta user"
    )


async def lock_out(tx: Tx, user_id: str) -> User:
    """Lock an account as too many failed sign-ins would (a test fault: Okta's API has no lock)."""
    return await _transition(
        tx, user_id, (ACTIVE, PASSWORD_EXPIRED), LOCKED_OUT, "user.account.lock", "Lock user account"
    )


async def unlock(tx: Tx, user_id: str) -> User:
    return await _transition(tx, user_id, (LOCKED_OUT,), ACTIVE, "user.account.unlock", "Unlock user account")


async def expire_password(tx: Tx, user_id: str) -> User:
    user = await _transition(
        tx,
        user_id,
        (ACTIVE, PASSWORD_EXPIRED),
        PASSWORD_EXPIRED,
        "user.account.expire_password",
        "Expire password",
    )
    if user.password_hash is None:
        raise _forbidden()
    return user


async def reset_password(tx: Tx, user_id: str) -> User:
    """ACTIVE-ish users → RECOVERY: no sign-in with the old password until the reset is done
    (the caller issues the recovery token)."""
    return await _transition(
        tx,
        user_id,
        (ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY),
        RECOVERY,
        "user.account.reset_password",
        "Reset password",
    )


async def expire_with_temp_password(tx: Tx, user_id: str) -> tuple[User, str]:
    """A random temporary password that satisfies the policy, already expired (PASSWORD_EXPIRED):
    the user signs in with it once and must change it."""
    user = await get_user(tx, user_id)
    if user.status not in (ACTIVE, PASSWORD_EXPIRED):
        raise _forbidden()
    temp = _temporary_password(user.profile)
    user.password_hash = await passwords.hash_password(temp)
    user.password_changed = utcnow()
    _set_status(user, PASSWORD_EXPIRED)
    record(tx, "user.account.expire_password", "Expire password", [target(user)])
    await _apply_group_rules(tx, user)
    return user, temp


def _temporary_password(profile: Mapping[str, Any]) -> str:
    while True:
        candidate = "Tmp" + ids.random_token(9).replace("-", "x").replace("_", "y") + "7a"
        try:
            return passwords.check_password(candidate, profile)
        except Invalid:
            continue


async def set_password_by_token(tx: Tx, user: User, new_password: object) -> User:
    """The end of an activation or recovery transaction (``/api/v1/authn/credentials/
    reset_password``): the user's new password, and the user ACTIVE."""
    if user.status not in (PROVISIONED, RECOVERY, ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT):
        raise _forbidden()
    checked = passwords.check_password(new_password, user.profile)
    user.password_hash = await passwords.hash_password(checked)
    user.password_changed = utcnow()
    user.failed_logins = 0
    was = user.status
    if was != ACTIVE:
        _set_status(user, ACTIVE)
    if user.activated is None:
        user.activated = utcnow()
    if was == PROVISIONED:
        record(tx, "user.lifecycle.activate", "Activate Okta user", [target(user)])
    record(tx, "user.account.reset_password", "Reset password", [target(user)])
    if was != ACTIVE:
        await _apply_group_rules(tx, user)
    return user


async def change_password(tx: Tx, user_id: str, body: Mapping[str, Any]) -> User:
    user = await get_user(tx, user_id)
    if user.status not in (ACTIVE, PASSWORD_EXPIRED):
        raise _forbidden()
    old = _password_from({"password": body.get("oldPassword")})
    new = _password_from({"password": body.get("newPassword")})
    if old is None or new is None:
        raise Invalid(
            "Api validation failed: password",
            code="E0000001",
            causes=["password: oldPassword and newPassword are required"],
        )
    if not await passwords.verify_password(old, user.password_hash):
        raise Forbidden("Update of credentials failed", code="E0000014", causes=["oldPassword is incorrect"])
    passwords.check_password(new, user.profile)
    user.password_hash = await passwords.hash_password(new)
    user.password_changed = utcnow()
    if user.status == PASSWORD_EXPIRED:
        _set_status(user, ACTIVE)
        await _apply_group_rules(tx, user)
    record(tx, "user.account.update_password", "User update password for Okta", [target(user)])
    return user


async def change_recovery_question(tx: Tx, user_id: str, body: Mapping[str, Any]) -> User:
    """``credentials/change_recovery_question``: the user's current password proves the change."""
    user = await get_user(tx, user_id)
    if user.status not in (ACTIVE, PASSWORD_EXPIRED):
        raise _forbidden()
    password = _password_from({"password": body.get("password")})
    question = recovery_question.parse({"recovery_question": body.get("recovery_question")})
    if password is None or question is None:
        raise Invalid(
            "Api validation failed: credentials",
            code="E0000001",
            causes=["credentials: password and recovery_question are required"],
        )
    if not await passwords.verify_password(password, user.password_hash):
        raise Forbidden("Update of credentials failed", code="E0000014", causes=["password is incorrect"])
    await recovery_question.store(user, *question)
    user.last_updated = utcnow()
    record(tx, "user.account.update_profile", "Update recovery question", [target(user)])
    return user


async def delete_user(tx: Tx, user_id: str) -> None:
    """First call deactivates; a call on a DEPROVISIONED user deletes it (Okta's two-step delete)."""
    user = await get_user(tx, user_id)
    if user.status != DEPROVISIONED:
        _set_status(user, DEPROVISIONED)
        record(tx, "user.lifecycle.deactivate", "Deactivate Okta user", [target(user)])
        return
    await tx.session.execute(delete(GroupMembership).where(GroupMembership.user_id == user.id))
    await principal_cleanup.forget_principal(tx, principal_cleanup.USER, user.id, target(user))
    from ostiary.domain.directory import group_rules

    await group_rules.forget_user(tx, user.id)
    await tx.session.delete(user)
    record(tx, "user.lifecycle.delete.completed", "Delete Okta user completed", [target(user)])


async def list_users(
    tx: Tx,
    *,
    q: str | None = None,
    condition: Any = None,
    after: str | None = None,
    limit: int = 200,
    sort: Any = None,
    descending: bool = False,
) -> Page[User]:
    """Users of the org; ``sort`` (a ``search``'s ``sortBy``) orders them, ties by id."""
    stmt = _listed(select(User), tx, q, condition)
    return await _page(tx, stmt, after, limit, sort, descending, rows=False)


async def list_user_rows(
    tx: Tx,
    *,
    q: str | None = None,
    condition: Any = None,
    after: str | None = None,
    limit: int = 200,
    sort: Any = None,
    descending: bool = False,
) -> Page[Any]:
    """:func:`list_users` as rows of ``user_page.COLUMNS`` (no ORM objects), for
    ``user_page.render_users``."""
    from ostiary.domain.directory.user_page import COLUMNS

    stmt = _listed(select(*COLUMNS), tx, q, condition)
    return await _page(tx, stmt, after, limit, sort, descending, rows=True)


async def _page(
    tx: Tx, stmt: Any, after: str | None, limit: int, sort: Any, descending: bool, *, rows: bool
) -> Page[Any]:
    """One page of ``stmt`` by ``sort`` (ties by id), else by id."""
    if sort is not None:
        return await fetch_sorted_page(
            tx.session, stmt, sort, User.id, descending=descending, after=after, limit=limit, rows=rows
        )
    return await fetch_page(tx.session, stmt, User.id, after=after, limit=limit, rows=rows)


def _listed(stmt: Any, tx: Tx, q: str | None, condition: Any) -> Any:
    stmt = stmt.where(User.org_id == tx.org_id)
    if condition is not None:
        stmt = stmt.where(condition)
    elif not q:
        stmt = stmt.where(User.status != DEPROVISIONED)
    if q:
        stmt = stmt.where(User.status != DEPROVISIONED).where(_q_condition(q))
    return stmt


def _q_condition(q: str) -> Any:
    """Okta's ``q``: a prefix of firstName, lastName, email or login (case-insensitive)."""
    prefix = _escape_like(q.lower()) + "%"
    fields: list[Any] = [User.login_lower, User.email_lower]
    fields += [func.lower(User.profile[attr].as_string()) for attr in ("firstName", "lastName")]
    return or_(*(f.like(prefix, escape="\\") for f in fields))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def count_users(tx: Tx) -> int:
    stmt = select(func.count()).select_from(User).where(User.org_id == tx.org_id)
    return int((await tx.session.scalar(stmt)) or 0)
