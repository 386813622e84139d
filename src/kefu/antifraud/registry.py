"""The registry of official channels and known scams: admin edits with every version kept
and audited, the public channel list, and the demo's entries.

Nothing about the wallet company's numbers, sites or accounts is written in code: Contact
us, the assistant and the phone menu all read ``contact_channels``, so they cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from kefu import audit, paging
from kefu.antifraud import values
from kefu.antifraud.models import RegistryEntry, RegistryVersion
from kefu.antifraud.schemas import ROLES, ContactChannel, EntryFields
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound

DEMO_FILE = Path(__file__).parent / "data" / "demo_registry.json"
_EDITABLE = (
    "role",
    "status",
    "value",
    "label_zh",
    "label_en",
    "notes_zh",
    "notes_en",
    "toll_free",
    "cost_zh",
    "cost_en",
    "hours_zh",
    "hours_en",
    "public",
    "position",
    "source",
    "reported_on",
)


def snapshot(entry: RegistryEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": entry.kind, "normalised": entry.normalised}
    for name in (*_EDITABLE, "active", "version"):
        value = getattr(entry, name)
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return data


def _role(fields: EntryFields) -> str:
    allowed = ROLES[fields.kind]
    if fields.kind == "email":
        return "domain" if fields.value.strip().startswith("@") else "address"
    role = fields.role or allowed[0]
    if role not in allowed:
        raise InvalidInput(f"role {role!r} is not one of {list(allowed)}", field="role")
    return role


def _check(fields: EntryFields) -> values.Parsed:
    if fields.kind == "account" and fields.status == "official":
        raise InvalidInput("official accounts are entered as wechat or weibo", field="kind")
    parsed = values.normalise_for(fields.kind, fields.value)
    if len(parsed.normalised) > values.MAX_NORMALISED:
        raise InvalidInput("value too long", field="value")
    return parsed


def _history(db: Session, entry: RegistryEntry, change: str, actor: audit.Actor) -> None:
    db.add(
        RegistryVersion(
            entry_id=entry.id,
            version=entry.version,
            change=change,
            data=snapshot(entry),
            edited_by=actor.name,
            edited_at=entry.updated_at,
        )
    )
    db.flush()


def find(db: Session, kind: str, normalised: str) -> RegistryEntry | None:
    return db.scalar(
        select(RegistryEntry).where(
            RegistryEntry.kind == kind, RegistryEntry.normalised == normalised
        )
    )


def get_entry(db: Session, entry_id: int) -> RegistryEntry:
    entry = db.get(RegistryEntry, entry_id)
    if entry is None:
        raise NotFound("no such registry entry")
    return entry


def create_entry(
    db: Session, fields: EntryFields, *, actor: audit.Actor, now: datetime | None = None
) -> RegistryEntry:
    parsed = _check(fields)
    role = _role(fields)
    if find(db, fields.kind, parsed.normalised) is not None:
        raise Conflict(f"{parsed.display} is already in the registry", field="value")
    now = now or utcnow()
    data = fields.model_dump(exclude={"kind", "value", "role"})
    entry = RegistryEntry(
        kind=fields.kind,
        role=role,
        value=parsed.display,
        normalised=parsed.normalised,
        active=True,
        version=1,
        created_at=now,
        updated_at=now,
        **data,
    )
    db.add(entry)
    db.flush()
    _history(db, entry, "create", actor)
    audit.record(db, actor=actor, action="antifraud.registry.create", after=snapshot(entry))
    return entry


def update_entry(
    db: Session,
    entry_id: int,
    fields: EntryFields,
    *,
    actor: audit.Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> RegistryEntry:
    """Replace an entry's fields. ``expected_version`` refuses an edit made on a stale copy
    (two admins editing at once) instead of silently losing the first edit."""
    entry = get_entry(db, entry_id)
    db.refresh(entry, with_for_update=True)
    if expected_version is not None and expected_version != entry.version:
        raise Conflict("the entry was changed meanwhile; reload it", field="version")
    if fields.kind != entry.kind:
        raise InvalidInput("the kind of an entry cannot change", field="kind")
    parsed = _check(fields)
    other = find(db, fields.kind, parsed.normalised)
    if other is not None and other.id != entry.id:
        raise Conflict(f"{parsed.display} is already in the registry", field="value")
    before = snapshot(entry)
    data = fields.model_dump(exclude={"kind", "value", "role"})
    for name, value in data.items():
        setattr(entry, name, value)
    entry.role = _role(fields)
    entry.value = parsed.display
    entry.normalised = parsed.normalised
    entry.version += 1
    entry.updated_at = now or utcnow()
    db.flush()
    _history(db, entry, "update", actor)
    audit.record(
        db, actor=actor, action="antifraud.registry.update", before=before, after=snapshot(entry)
    )
    return entry


def set_active(
    db: Session,
    entry_id: int,
    *,
    active: bool,
    actor: audit.Actor,
    now: datetime | None = None,
) -> RegistryEntry:
    """Retire an entry (it stops counting and is no longer listed) or restore it."""
    entry = get_entry(db, entry_id)
    db.refresh(entry, with_for_update=True)
    if entry.active == active:
        return entry
    before = snapshot(entry)
    entry.active = active
    entry.version += 1
    entry.updated_at = now or utcnow()
    db.flush()
    change = "restore" if active else "retire"
    _history(db, entry, change, actor)
    audit.record(
        db,
        actor=actor,
        action=f"antifraud.registry.{change}",
        before=before,
        after=snapshot(entry),
    )
    return entry


def history(db: Session, entry_id: int) -> list[RegistryVersion]:
    get_entry(db, entry_id)
    return list(
        db.scalars(
            select(RegistryVersion)
            .where(RegistryVersion.entry_id == entry_id)
            .order_by(RegistryVersion.version)
        )
    )


@dataclass(frozen=True)
class EntryFilter:
    kind: str | None = None
    status: str | None = None
    active: bool | None = True
    query: str | None = None


LIST_ORDER = paging.Keyset(
    (RegistryEntry.status, paging.ASC),
    (RegistryEntry.position, paging.ASC),
    (RegistryEntry.id, paging.ASC),
)


def list_entries(
    db: Session,
    flt: EntryFilter,
    *,
    limit: int = 100,
    offset: int = 0,
    after: str | None = None,
) -> tuple[list[RegistryEntry], int]:
    """One page in ``LIST_ORDER`` after the cursor ``after`` (``offset``: the API's
    deprecated way), and how many match in all."""
    query = select(RegistryEntry)
    if flt.kind:
        query = query.where(RegistryEntry.kind == flt.kind)
    if flt.status:
        query = query.where(RegistryEntry.status == flt.status)
    if flt.active is not None:
        query = query.where(RegistryEntry.active.is_(flt.active))
    if flt.query:
        text = flt.query.strip().lower()
        try:
            keys = values.parse(text).candidates[:1]
        except InvalidInput:
            keys = ()
        pattern = f"%{text}%"
        query = query.where(
            or_(
                RegistryEntry.normalised.in_(keys),
                RegistryEntry.normalised.like(pattern),
                RegistryEntry.label_zh.like(f"%{flt.query.strip()}%"),
                func.lower(RegistryEntry.label_en).like(pattern),
            )
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(LIST_ORDER.page(query, after=after).limit(limit).offset(offset))
    return list(rows), int(total)


_OFFICIAL = (
    select(RegistryEntry)
    .where(
        RegistryEntry.status == "official",
        RegistryEntry.kind.in_(bindparam("kinds", expanding=True)),
        RegistryEntry.active.is_(True),
    )
    .order_by(RegistryEntry.position, RegistryEntry.id)
)
_OFFICIAL_HOSTS = select(RegistryEntry.kind, RegistryEntry.normalised).where(
    RegistryEntry.status == "official",
    RegistryEntry.kind.in_(("domain", "email")),
    RegistryEntry.active.is_(True),
)


def official(db: Session, kinds: tuple[str, ...]) -> list[RegistryEntry]:
    return list(db.scalars(_OFFICIAL, {"kinds": list(kinds)}))


def official_hosts(db: Session) -> list[str]:
    """Our web and e-mail domains (ASCII), the names look-alikes are compared with."""
    hosts: list[str] = []
    for kind, normalised in db.execute(_OFFICIAL_HOSTS):
        host = normalised.rpartition("@")[2] if kind == "email" else normalised
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def _channel(entry: RegistryEntry) -> ContactChannel:
    return ContactChannel(
        kind=entry.kind,
        role=entry.role,
        value=entry.value,
        normalised=entry.normalised,
        toll_free=entry.toll_free,
        labels={"zh-CN": entry.label_zh, "en": entry.label_en},
        notes_by_lang={"zh-CN": entry.notes_zh, "en": entry.notes_en},
        cost={"zh-CN": entry.cost_zh, "en": entry.cost_en},
        hours={"zh-CN": entry.hours_zh, "en": entry.hours_en},
    )


_KIND_ORDER = ("phone", "email", "wechat", "weibo", "domain", "app")


def contact_channels(db: Session) -> list[ContactChannel]:
    """Every official, listed channel, phones first, in the admin's order."""
    entries = [e for e in official(db, _KIND_ORDER) if e.public]
    entries.sort(key=lambda e: (_KIND_ORDER.index(e.kind), e.position, e.id))
    return [_channel(entry) for entry in entries]


def load_entries(
    db: Session, items: list[dict[str, Any]], *, actor: audit.Actor
) -> tuple[int, int]:
    """Add entries from a list (a JSON file, the demo); those already present are left as
    they are, so loading twice changes nothing. Returns (added, already there)."""
    added = skipped = 0
    for index, item in enumerate(items):
        try:
            fields = EntryFields.model_validate(item)
        except ValueError as exc:
            raise InvalidInput(f"entry {index + 1}: {exc}", field="entries") from exc
        parsed = _check(fields)
        if find(db, fields.kind, parsed.normalised) is not None:
            skipped += 1
            continue
        create_entry(db, fields, actor=actor)
        added += 1
    return added, skipped


def read_entries_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", field="file") from exc
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidInput(f"{path} must hold a JSON list of entries", field="file")
    return data


def seed_demo(db: Session) -> int:
    """The demo wallet's official channels and a few known scams (docs/antifraud.md)."""
    added, _ = load_entries(db, read_entries_file(DEMO_FILE), actor=audit.Actor.system())
    return added
