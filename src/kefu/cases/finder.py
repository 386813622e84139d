"""The console's one search box for cases: whatever an agent types finds the case.

Tried in this order, and everything that matches is shown: a case reference (any spelling
``refs.parse`` reads, the keypad form too), a customer's e-mail address, phone number or
wallet account (normalised), then words, Chinese or English, through the shared text
index. Thirteen digits may be a keypad reference or a phone number with its country code:
both are tried, and a failed check digit is reported only when nothing else matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kefu import contacts
from kefu.cases import refs, service
from kefu.cases.errors import CaseNotFound
from kefu.cases.models import Case
from kefu.errors import InvalidInput
from kefu.identity import service as identity_service
from kefu.search import service as search_service

MAX_QUERY = 200
_PHONE = re.compile(r"^\+?[\d\s\-()]{7,20}$")
_ACCOUNT = re.compile(r"^[A-Za-z]{0,3}\d{5,39}$")

Pieces = list[tuple[str, bool]]


@dataclass(frozen=True)
class Hit:
    case: Case
    matched: str  # reference | email | phone | account | text
    title: Pieces
    snippet: Pieces = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    query: str
    hits: list[Hit]
    mistyped: bool = False  # shaped like a reference whose check character is wrong


def _plain(text: str) -> Pieces:
    return [(text, False)]


def _by_reference(db: Session, text: str) -> tuple[list[Hit], bool]:
    try:
        case = service.get_case(db, text)
    except refs.ReferenceMistyped:
        return [], True
    except (refs.ReferenceInvalid, CaseNotFound):
        return [], False
    return [Hit(case=case, matched="reference", title=_plain(case.subject))], False


def _customer_id(db: Session, text: str) -> tuple[int | None, str]:
    """The customer whose e-mail, wallet account or phone ``text`` is, and which it was."""
    if contacts.looks_like_email(text):
        try:
            contacts.normalise_email(text)
        except InvalidInput:
            return None, ""
        found = identity_service.find_customer_by_contact(db, text)
        return (found.id if found else None), "email"
    compact = re.sub(r"[\s\-]", "", text)
    if _ACCOUNT.match(compact):
        found = identity_service.find_customer_by_account(db, compact.upper())
        found = found or identity_service.find_customer_by_keypad_account(db, compact)
        if found is not None:
            return found.id, "account"
    if _PHONE.match(text):
        try:
            contacts.normalise_phone(text)
        except InvalidInput:
            return None, ""
        found = identity_service.find_customer_by_contact(db, text)
        return (found.id if found else None), "phone"
    return None, ""


def find(db: Session, query: str, *, limit: int = 20) -> Finding:
    text = query.strip()[:MAX_QUERY]
    if not text:
        return Finding(query=text, hits=[])
    hits, mistyped = _by_reference(db, text)
    customer_id, matched = _customer_id(db, text)
    if customer_id is not None:
        owned = service.list_cases(db, flt=service.CaseFilter(customer_id=customer_id), limit=limit)
        hits += [Hit(case=c, matched=matched, title=_plain(c.subject)) for c in owned]
    if not hits:
        found = search_service.search(db, kind=service.SEARCH_KIND, query=text, limit=limit)
        cases = {c.reference: c for c in service.cases_by_reference(db, [hit.ref for hit in found])}
        hits = [
            Hit(
                case=cases[hit.ref],
                matched="text",
                title=search_service.highlight(hit.title, text),
                snippet=search_service.highlight(hit.snippet, text),
            )
            for hit in found
            if hit.ref in cases
        ]
    unique: dict[int, Hit] = {}
    for hit in hits:
        unique.setdefault(hit.case.id, hit)
    return Finding(query=text, hits=list(unique.values())[:limit], mistyped=mistyped and not unique)
