"""Staff accounts, logins, tokens and customers.

Routes and the CLI call these; they flush but never commit, so one caller owns each
transaction.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, inspect, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from kefu import audit
from kefu.contacts import normalise_email, normalise_phone
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from kefu.identity import secrets as kefu_secrets
from kefu.identity.models import AccessToken, Customer, LoginAttempt, StaffUser
from kefu.identity.permissions import Role

MIN_PASSWORD_LENGTH = 10


# --- staff -------------------------------------------------------------------------------


def create_staff(
    db: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    language: str = "zh-CN",
    actor: audit.Actor | None = None,
) -> StaffUser:
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace("_", "").isalnum():
        raise InvalidInput("username must be letters, digits or _", field="username")
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role {role!r}", field="role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict("username already taken", field="username")
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=kefu_secrets.hash_password(password),
        language=language,
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        actor=actor or audit.Actor.system(),
        action="staff.create",
        after={"username": username, "role": role},
    )
    return user


def get_staff_by_username(db: Session, username: str) -> StaffUser | None:
    return db.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))


def get_staff(db: Session, staff_id: int) -> StaffUser:
    user = db.get(StaffUser, staff_id)
    if user is None:
        raise NotFound("no such staff user")
    return user


def list_staff(db: Session) -> list[StaffUser]:
    return list(db.scalars(select(StaffUser).order_by(StaffUser.username)))


def _recent_failures(db: Session, username: str, since: datetime) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.attempted_at >= since,
            )
        )
        or 0
    )


def authenticate_staff(
    db: Session,
    *,
    username: str,
    password: str,
    client_ip: str | None,
    max_failures: int,
    window_seconds: int,
    now: datetime | None = None,
) -> StaffUser | None:
    """Check a staff password, throttled per username; None for wrong credentials.

    After ``max_failures`` wrong passwords within the window every further try, right or
    wrong, is refused until the oldest failure leaves the window. The attempt is recorded
    either way, so the caller commits before it reports a failure.
    """
    now = now or utcnow()
    username = (username or "").strip().lower()[:64]
    since = now - timedelta(seconds=window_seconds)
    if _recent_failures(db, username, since) >= max_failures:
        raise TooManyRequests("too many failed logins", retry_after=window_seconds)
    user = get_staff_by_username(db, username) if username else None
    password_ok = kefu_secrets.verify_password(user.password_hash if user else None, password or "")
    ok = bool(user and user.is_active and password_ok)
    db.add(LoginAttempt(username=username, client_ip=client_ip, succeeded=ok, attempted_at=now))
    db.flush()
    if not ok or user is None:
        return None
    user.last_login_at = now
    db.execute(
        delete(LoginAttempt).where(
            LoginAttempt.username == username, LoginAttempt.attempted_at < since
        )
    )
    return user


# --- tokens and sessions -----------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    csrf_token: str | None
    record: AccessToken


def issue_token(
    db: Session,
    *,
    kind: str,
    ttl_seconds: int,
    staff_user_id: int | None = None,
    customer_id: int | None = None,
    verification_id: int | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    now = now or utcnow()
    token = kefu_secrets.new_token()
    csrf = kefu_secrets.new_token() if kind == "session" else None
    record = AccessToken(
        token_hash=kefu_secrets.token_digest(token),
        kind=kind,
        staff_user_id=staff_user_id,
        customer_id=customer_id,
        verification_id=verification_id,
        csrf_token=csrf,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    db.add(record)
    db.flush()
    return IssuedToken(token=token, expires_in=ttl_seconds, csrf_token=csrf, record=record)


# Built once, the digest bound at each call: every authenticated request looks its token up,
# and building a statement (and its cache key) cost more than running it.
_TOKEN = select(AccessToken).where(AccessToken.token_hash == bindparam("token_hash"))
_STAFF_TOKEN = (
    select(AccessToken, StaffUser)
    .join(StaffUser, StaffUser.id == AccessToken.staff_user_id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


def _usable(record: AccessToken, kinds: set[str], now: datetime) -> bool:
    return record.kind in kinds and record.revoked_at is None and record.expires_at > now


def resolve_token(
    db: Session, token: str, *, kinds: set[str], now: datetime | None = None
) -> AccessToken | None:
    if not token or len(token) > 200:
        return None
    record = db.scalar(_TOKEN, {"token_hash": kefu_secrets.token_digest(token)})
    if record is None or not _usable(record, kinds, now or utcnow()):
        return None
    return record


def resolve_staff_token(
    db: Session, token: str, *, kinds: set[str], now: datetime | None = None
) -> tuple[AccessToken, StaffUser] | None:
    """A usable staff token and its staff member, read in one query (every staff request
    asks; the token is found by its unique hash, the member by primary key)."""
    if not token or len(token) > 200:
        return None
    found = db.execute(_STAFF_TOKEN, {"token_hash": kefu_secrets.token_digest(token)}).first()
    if found is None or not _usable(found[0], kinds, now or utcnow()):
        return None
    return found[0], found[1]


def revoke_token(db: Session, record: AccessToken) -> None:
    record.revoked_at = utcnow()
    db.flush()


# --- customers ---------------------------------------------------------------------------


def create_customer(
    db: Session,
    *,
    wallet_account_id: str,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    language: str = "zh-CN",
) -> Customer:
    phone_e164 = normalise_phone(phone) if phone else None
    email_norm = normalise_email(email) if email else None
    if phone_e164 is None and email_norm is None:
        raise InvalidInput("a customer needs a phone number or an e-mail address")
    conditions = [Customer.wallet_account_id == wallet_account_id]
    if phone_e164:
        conditions.append(Customer.phone == phone_e164)
    if email_norm:
        conditions.append(Customer.email == email_norm)
    clash = db.scalar(select(Customer.id).where(or_(*conditions)))
    if clash is not None:
        raise Conflict("a customer with this wallet account, phone or e-mail exists")
    customer = Customer(
        wallet_account_id=wallet_account_id,
        name=name,
        phone=phone_e164,
        email=email_norm,
        language=language,
        created_at=utcnow(),
    )
    db.add(customer)
    db.flush()
    return customer


def staff_actor(staff: StaffUser) -> audit.Actor:
    """How a staff member is named in the audit log: the one definition every surface uses."""
    return audit.Actor(name=f"staff:{staff.username}", role=staff.role)


def get_customer(db: Session, customer_id: int) -> Customer:
    customer = db.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    return customer


@dataclass(frozen=True, slots=True)
class CustomerContact:
    """What opening a case needs of its customer: the language, where to tell them."""

    id: int
    language: str
    phone: str | None
    email: str | None


# built once with the id bound at each call: every new case asks
_CONTACT = select(
    Customer.__table__.c.id,
    Customer.__table__.c.language,
    Customer.__table__.c.phone,
    Customer.__table__.c.email,
).where(Customer.__table__.c.id == bindparam("customer_id"))


def customer_contact(db: Session, customer_id: int) -> CustomerContact:
    """``get_customer``'s answer in four columns, without an ORM object: loading one cost
    about four times the statement. A customer the session holds is taken from it (with
    any change not flushed yet), as ``get_customer`` would; one it does not hold, or holds
    expired, has none."""
    held: Customer | None = db.identity_map.get(identity_key(Customer, customer_id))
    if held is not None and not inspect(held).expired:
        return CustomerContact(held.id, held.language, held.phone, held.email)
    row = db.connection().execute(_CONTACT, {"customer_id": customer_id}).first()
    if row is None:
        raise NotFound("no such customer")
    return CustomerContact(row.id, row.language, row.phone, row.email)


def customers_by_id(db: Session, customer_ids: set[int]) -> dict[int, Customer]:
    """Customers for a list of rows, in one query."""
    if not customer_ids:
        return {}
    return {c.id: c for c in db.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}


def find_customer_by_contact(db: Session, contact: str) -> Customer | None:
    """The customer registered with this phone number or e-mail address, if any."""
    if "@" in contact:
        return db.scalar(select(Customer).where(Customer.email == normalise_email(contact)))
    return db.scalar(select(Customer).where(Customer.phone == normalise_phone(contact)))


def find_customer_by_account(db: Session, wallet_account_id: str) -> Customer | None:
    """The customer holding this wallet account, as the wallet's own systems name it."""
    return db.scalar(select(Customer).where(Customer.wallet_account_id == wallet_account_id))


def find_customer_by_keypad_account(db: Session, digits: str) -> Customer | None:
    """The customer whose wallet account id, typed on a phone keypad, is ``digits``.

    A keypad has no letters, so an account id is typed without its letter prefix
    (``W000000002`` → ``000000002``); the candidates are the digits alone or behind one
    capital letter, which keeps the look-up to one indexed query.
    """
    if not digits.isascii() or not digits.isdigit() or len(digits) > 39:
        return None
    candidates = [digits, *(letter + digits for letter in string.ascii_uppercase)]
    found = list(db.scalars(select(Customer).where(Customer.wallet_account_id.in_(candidates))))
    return found[0] if len(found) == 1 else None


MAIL_CONTACT_PREFIX = "mail:"


def mail_contact(db: Session, *, address: str, name: str) -> Customer:
    """The stand-in customer for mail from an address no customer registered.

    Its cases are unverified. It keeps no e-mail address, so it can neither be found by
    ``find_customer_by_contact`` nor pass a one-time-code check, and the address stays free
    for the real customer to register; the same address always maps to the same stand-in
    (a hash of it is the account id), so one stranger's mails stay together.
    """
    account = MAIL_CONTACT_PREFIX + hashlib.sha256(address.lower().encode()).hexdigest()[:32]
    found = db.scalar(select(Customer).where(Customer.wallet_account_id == account))
    if found is not None:
        return found
    customer = Customer(
        wallet_account_id=account,
        name=(name or address.partition("@")[0])[:120],
        language="zh-CN",
        created_at=utcnow(),
    )
    db.add(customer)
    db.flush()
    return customer


def is_mail_contact(customer: Customer) -> bool:
    return customer.wallet_account_id.startswith(MAIL_CONTACT_PREFIX)


def list_customers(db: Session, *, query: str | None = None, limit: int = 50) -> list[Customer]:
    statement = select(Customer).order_by(Customer.id).limit(limit)
    if query:
        like = f"%{query.strip()}%"
        statement = statement.where(
            or_(
                Customer.name.like(like),
                Customer.phone.like(like),
                Customer.email.like(like),
                Customer.wallet_account_id.like(like),
            )
        )
    return list(db.scalars(statement))
