"""Staff administration: invitations and password resets by a link sent by e-mail (the
admin never types anyone's password), profile edits with stale-edit protection, and
deactivation that ends every session and token at once. Every change is audited with the
fields before and after.

Functions flush and never commit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu import audit
from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.contacts import normalise_email
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.i18n import LANGUAGES, Lang, normalise_lang, translate
from kefu.identity import secrets as kefu_secrets
from kefu.identity.errors import EmailTaken, LinkUnusable, StaleEdit, WeakPassword
from kefu.identity.models import AccessToken, StaffPasswordLink, StaffUser
from kefu.identity.permissions import Role
from kefu.identity.service import MIN_PASSWORD_LENGTH, create_staff

# the audit actions about one staff member, which their page lists as its history
AUDITED = (
    "staff.invited",
    "staff.updated",
    "staff.activated",
    "staff.deactivated",
    "staff.password_reset_sent",
    "staff.password_set",
    "staff.two_factor.enabled",
    "staff.two_factor.reset",
    "staff.two_factor.locked",
    "staff.two_factor.recovery_used",
)
TEAM_MAX = 40
NAME_MAX = 120
PASSWORD_MAX = 256


@dataclass(frozen=True)
class Invite:
    username: str
    display_name: str
    email: str
    role: str
    language: str


@dataclass(frozen=True)
class Profile:
    display_name: str
    email: str | None
    role: str
    team: str | None
    language: str


def snapshot(user: StaffUser) -> dict[str, Any]:
    """The fields an admin edits, as the audit trail records them."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "team": user.team,
        "language": user.language,
        "active": user.is_active,
    }


def _email_free(db: Session, email: str, *, except_id: int | None = None) -> str:
    address = normalise_email(email)
    clash = db.scalar(select(StaffUser.id).where(StaffUser.email == address))
    if clash is not None and clash != except_id:
        raise EmailTaken("e-mail address already used by a staff member", field="email")
    return address


def _text(value: str, field: str, limit: int, *, required: bool) -> str | None:
    cleaned = " ".join(unicodedata.normalize("NFKC", value or "").split())
    if not cleaned:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if len(cleaned) > limit:
        raise InvalidInput(f"{field} is too long", field=field, max=limit)
    return cleaned


def _role(value: str) -> str:
    if value not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role {value!r}", field="role")
    return value


def _language(value: str) -> str:
    lang = normalise_lang(value)
    if lang is None:
        raise InvalidInput(f"unknown language {value!r}", field="language")
    return lang


def _send_link(
    db: Session,
    user: StaffUser,
    *,
    purpose: str,
    settings: Settings,
    senders: Senders,
    now: datetime,
) -> StaffPasswordLink:
    """Retire the person's earlier links, make a new one and mail it; the token leaves
    Kefu only in the mail itself."""
    if user.email is None:
        raise InvalidInput("this staff member has no e-mail address", field="email")
    db.execute(
        update(StaffPasswordLink)
        .where(StaffPasswordLink.staff_user_id == user.id, StaffPasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    token = kefu_secrets.new_token()
    ttl = (
        timedelta(hours=settings.staff_invite_ttl_hours)
        if purpose == "invite"
        else timedelta(minutes=settings.staff_reset_ttl_minutes)
    )
    link = StaffPasswordLink(
        staff_user_id=user.id,
        token_hash=kefu_secrets.token_digest(token),
        purpose=purpose,
        created_at=now,
        expires_at=now + ttl,
    )
    db.add(link)
    db.flush()
    lang: Lang = normalise_lang(user.language) or settings.default_language
    url = f"{settings.public_url.rstrip('/')}/console/set-password/{token}"
    hours = max(1, round(ttl.total_seconds() / 3600))
    senders.email.send(
        db,
        OutgoingMessage(
            to=user.email,
            purpose=f"staff_{purpose}",
            subject=translate(f"staff.mail.{purpose}.subject", lang),
            body=translate(
                f"staff.mail.{purpose}.body", lang, name=user.display_name, url=url, hours=hours
            ),
            secrets=(token,),
        ),
    )
    return link


def invite(
    db: Session,
    invite: Invite,
    *,
    actor: audit.Actor,
    settings: Settings,
    senders: Senders,
    now: datetime | None = None,
) -> StaffUser:
    """A new staff member with no usable password, and the mail with their set-password
    link. An address another staff member uses is refused."""
    now = now or utcnow()
    email = _email_free(db, invite.email)
    display_name = _text(invite.display_name, "display_name", NAME_MAX, required=True)
    # a random password nobody knows: the person sets their own through the link
    user = create_staff(
        db,
        username=invite.username,
        password=kefu_secrets.new_token(),
        role=_role(invite.role),
        display_name=display_name,
        language=_language(invite.language),
        actor=actor,
    )
    user.email = email
    _send_link(db, user, purpose="invite", settings=settings, senders=senders, now=now)
    audit.record(db, actor=actor, action="staff.invited", after=snapshot(user))
    return user


def send_reset(
    db: Session,
    user: StaffUser,
    *,
    actor: audit.Actor,
    settings: Settings,
    senders: Senders,
    now: datetime | None = None,
) -> None:
    if not user.is_active:
        raise InvalidInput("this staff member is deactivated", field="active")
    _send_link(db, user, purpose="reset", settings=settings, senders=senders, now=now or utcnow())
    audit.record(
        db, actor=actor, action="staff.password_reset_sent", after={"username": user.username}
    )


def link_holder(db: Session, token: str, *, now: datetime | None = None) -> StaffUser:
    """Whose set-password link this is, if it can still be used."""
    now = now or utcnow()
    link = _usable_link(db, token, now)
    user = db.get(StaffUser, link.staff_user_id)
    if user is None or not user.is_active:
        raise LinkUnusable("the staff member is deactivated")
    return user


def _usable_link(db: Session, token: str, now: datetime) -> StaffPasswordLink:
    if not token or len(token) > 100:
        raise LinkUnusable("no such link")
    link = db.scalar(
        select(StaffPasswordLink)
        .where(StaffPasswordLink.token_hash == kefu_secrets.token_digest(token))
        .with_for_update()
    )
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise LinkUnusable("link used, replaced or expired")
    return link


def set_password(
    db: Session, token: str, *, password: str, repeated: str, now: datetime | None = None
) -> StaffUser:
    """Use a set-password link once: the new password replaces the old, and every session
    and token signed in with the old one ends."""
    now = now or utcnow()
    link = _usable_link(db, token, now)
    user = link_holder(db, token, now=now)
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > PASSWORD_MAX:
        raise WeakPassword("password too short", field="password", min=MIN_PASSWORD_LENGTH)
    if password != repeated:
        raise InvalidInput("the two passwords differ", field="repeated")
    if password.lower() in {user.username, (user.email or "").lower()}:
        raise WeakPassword("password is the username", field="password", min=MIN_PASSWORD_LENGTH)
    user.password_hash = kefu_secrets.hash_password(password)
    link.used_at = now
    _revoke_all(db, user, now)
    audit.record(
        db,
        actor=audit.Actor(name=f"staff:{user.username}", role=user.role),
        action="staff.password_set",
        after={"username": user.username, "by": link.purpose},
    )
    return user


def _revoke_all(db: Session, user: StaffUser, now: datetime) -> int:
    result = db.execute(
        update(AccessToken)
        .where(AccessToken.staff_user_id == user.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def _check_version(user: StaffUser, expected_version: int) -> None:
    if expected_version != user.version:
        raise StaleEdit("changed meanwhile", field="version", version=user.version)


def update_profile(
    db: Session,
    user: StaffUser,
    profile: Profile,
    *,
    expected_version: int,
    actor: audit.Actor,
) -> StaffUser:
    _check_version(user, expected_version)
    before = snapshot(user)
    user.display_name = _text(profile.display_name, "display_name", NAME_MAX, required=True) or ""
    user.email = _email_free(db, profile.email, except_id=user.id) if profile.email else None
    user.role = _role(profile.role)
    user.team = _text(profile.team or "", "team", TEAM_MAX, required=False)
    user.language = _language(profile.language)
    user.version += 1
    db.flush()
    after = snapshot(user)
    if after != before:
        audit.record(db, actor=actor, action="staff.updated", before=before, after=after)
    return user


def set_active(
    db: Session,
    user: StaffUser,
    *,
    active: bool,
    expected_version: int,
    actor: audit.Actor,
    now: datetime | None = None,
) -> int:
    """Deactivating ends every session and API token of the person at once (returns how
    many); reactivating lets them sign in again with their password."""
    now = now or utcnow()
    _check_version(user, expected_version)
    if actor.name == f"staff:{user.username}" and not active:
        raise InvalidInput("you cannot deactivate yourself", field="active")
    before = snapshot(user)
    user.is_active = active
    user.version += 1
    ended = 0 if active else _revoke_all(db, user, now)
    audit.record(
        db,
        actor=actor,
        action="staff.activated" if active else "staff.deactivated",
        before=before,
        after={**snapshot(user), "sessions_ended": ended},
    )
    return ended


def teams(db: Session) -> list[str]:
    return sorted({t for t in db.scalars(select(StaffUser.team)) if t})


def languages() -> tuple[str, ...]:
    return LANGUAGES
