"""The phone menu's draft (草稿) and its life in the console: an admin edits a draft, saves
it (refused with every problem named, nothing saved, unless it holds), tries it in the
phone simulator, publishes it as the next version, or rolls back to an earlier version
(published again as the next one). Every change is audited with what it was before and
after; an edit made on a stale copy is refused.

Calls from the carrier only ever run a published version (``menu.live_version``); a
simulated call an admin places to try the draft runs a snapshot of it
(``VoiceMenuTrial``), found by the call's id (``menu.trial_tree``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.i18n import LANGUAGES, Lang, translate
from kefu.voice import menu
from kefu.voice.menu import Finding, MenuTree
from kefu.voice.models import VoiceMenu, VoiceMenuDraft, VoiceMenuTrial

DRAFT_ID = 1
TRIAL_KEEP = timedelta(days=1)
MAX_COMMENT = 200
MAX_TEXT = 500  # as menu.LocalText


class MenuRefused(InvalidInput):
    """The tree does not hold; ``findings`` says each problem in the admin's language."""

    code = "menu_invalid"
    message_key = "error.voice.menu_invalid"

    def __init__(self, found: list[Finding]) -> None:
        super().__init__("the menu tree does not hold", problems=len(found))
        self.findings = found


class StaleMenu(Conflict):
    code = "stale_edit"
    message_key = "voice.menu_admin.error.stale"


class NothingToPublish(Conflict):
    code = "menu_unchanged"
    message_key = "voice.menu_admin.error.unchanged"


@dataclass(frozen=True)
class Draft:
    """The draft as the editor shows it: the live tree until someone saves a change."""

    tree: dict[str, Any]
    digest: str
    lock_version: int
    based_on: int
    updated_by: str | None
    updated_at: datetime | None

    @property
    def token(self) -> str:
        """What an edit form carries: stale once the draft is saved or published again
        (or, before any draft, once another version is published)."""
        return f"{self.lock_version}-{self.based_on}"


def current(db: Session) -> Draft:
    row = db.get(VoiceMenuDraft, DRAFT_ID)
    if row is not None:
        return Draft(
            row.tree, row.digest, row.lock_version, row.based_on, row.updated_by, row.updated_at
        )
    live = menu.live(db)
    return Draft(live.tree, live.digest, 0, live.version, None, None)


def changed(db: Session, draft: Draft) -> bool:
    """Whether the draft differs from the live menu."""
    return draft.digest != menu.live(db).digest


def _locked(db: Session, expected: str) -> tuple[Draft, VoiceMenuDraft | None]:
    row = db.scalar(select(VoiceMenuDraft).where(VoiceMenuDraft.id == DRAFT_ID).with_for_update())
    draft = current(db)
    if expected != draft.token:
        raise StaleMenu("changed meanwhile", field="version", who=draft.updated_by or "—")
    return draft, row


def _store(
    db: Session, row: VoiceMenuDraft | None, tree: MenuTree, *, based_on: int, actor: audit.Actor
) -> VoiceMenuDraft:
    data = tree.model_dump(by_alias=True, exclude_none=True)
    now = utcnow()
    if row is None:
        row = VoiceMenuDraft(id=DRAFT_ID, lock_version=0)
        db.add(row)
    row.tree, row.digest = data, menu.digest(tree)
    row.lock_version = (row.lock_version or 0) + 1
    row.based_on, row.updated_by, row.updated_at = based_on, actor.name, now
    db.flush()
    return row


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parts of two trees that differ: the root, the fallback, and each changed node
    (absent on one side when added or removed)."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in ("root", "operator"):
        if before.get(name) != after.get(name):
            old[name], new[name] = before.get(name), after.get(name)
    before_nodes, after_nodes = before.get("nodes", {}), after.get("nodes", {})
    old_nodes: dict[str, Any] = {}
    new_nodes: dict[str, Any] = {}
    for node_id in sorted(set(before_nodes) | set(after_nodes)):
        if before_nodes.get(node_id) != after_nodes.get(node_id):
            if node_id in before_nodes:
                old_nodes[node_id] = before_nodes[node_id]
            if node_id in after_nodes:
                new_nodes[node_id] = after_nodes[node_id]
    if old_nodes:
        old["nodes"] = old_nodes
    if new_nodes:
        new["nodes"] = new_nodes
    return old, new


def validated(data: Any) -> MenuTree:
    tree, found = menu.check_findings(data)
    if tree is None or found:
        raise MenuRefused(found)
    return tree


def save(db: Session, data: Any, *, expected: str, actor: audit.Actor) -> VoiceMenuDraft:
    """Save ``data`` as the draft; refused with every problem if it does not hold."""
    tree = validated(data)
    draft, row = _locked(db, expected)
    saved = _store(db, row, tree, based_on=draft.based_on, actor=actor)
    before, after = _diff(draft.tree, saved.tree)
    audit.record(
        db,
        actor=actor,
        action="voice.menu.draft",
        before={"draft": draft.lock_version, **before},
        after={"draft": saved.lock_version, **after},
    )
    return saved


# --- the texts of one node, as a form ---------------------------------------------------


@dataclass(frozen=True)
class TextSlot:
    """One text a node says: the intro of a menu, an option's label, a message."""

    name: str  # intro | text | option.N
    key: str | None  # the option's key, for option labels
    texts: dict[Lang, str]
    catalogue_key: str | None  # the shared text it is, until an admin writes its own


def _resolve(spec: Any, lang: Lang) -> str:
    if isinstance(spec, str):
        return translate(spec, lang)
    return str(spec["zh-CN" if lang == "zh-CN" else "en"])


def text_slots(node: dict[str, Any]) -> list[TextSlot]:
    """The node's texts in both languages (from the catalogue for the shipped ones)."""
    specs: list[tuple[str, str | None, Any]] = []
    if node.get("kind") == "menu":
        if node.get("intro"):
            specs.append(("intro", None, node["intro"]))
        specs += [
            (f"option.{index}", option["key"], option["label"])
            for index, option in enumerate(node.get("options", []))
        ]
    elif node.get("kind") == "message":
        specs.append(("text", None, node["text"]))
    return [
        TextSlot(
            name,
            key,
            {lang: _resolve(spec, lang) for lang in LANGUAGES},
            spec if isinstance(spec, str) else None,
        )
        for name, key, spec in specs
    ]


def edit_node(
    db: Session, node_id: str, form: dict[str, str], *, expected: str, actor: audit.Actor
) -> VoiceMenuDraft:
    """One node from its form: its texts (``<slot>.<lang>``), and where it leads: each
    option's key and target (``option.N.key``, ``option.N.to``, ``option.N.remove``), a
    new option (``new.key``, ``new.to``, ``new.<lang>``), an action's or message's
    ``next`` and an action's ``escalate``. A text left as the shared catalogue text stays
    that text, a changed one becomes the node's own in both languages. The tree is then
    checked as a whole, as any save is."""
    draft = current(db)
    node = draft.tree.get("nodes", {}).get(node_id)
    if node is None:
        raise NotFound(f"no node {node_id!r} in the draft")
    node = {**node}
    options: list[dict[str, Any]] = [dict(option) for option in node.get("options", [])]
    removed = {index for index in range(len(options)) if form.get(f"option.{index}.remove")}
    found: list[Finding] = []
    for slot in text_slots(node):
        index = int(slot.name.split(".")[1]) if slot.key is not None else None
        if index in removed:
            continue
        typed, problems = _typed(form, slot.name, node_id, slot.key)
        found += problems
        if problems or typed == slot.texts:
            continue
        if index is not None:
            options[index]["label"] = typed
        else:
            node[slot.name] = typed
    if node.get("kind") == "menu":
        for index, option in enumerate(options):
            option["key"] = form.get(f"option.{index}.key", str(option["key"])).strip()
            option["to"] = form.get(f"option.{index}.to", str(option["to"])).strip()
        options = [option for index, option in enumerate(options) if index not in removed]
        new = {name: form.get(f"new.{name}", "").strip() for name in ("key", "to", *LANGUAGES)}
        if any(new.values()):
            typed, problems = _typed(form, "new", node_id, None)
            if not new["key"] or not new["to"]:
                problems.append(Finding("new_option_incomplete", {"node": node_id}))
            found += problems
            options.append({"key": new["key"], "label": typed, "to": new["to"]})
        node["options"] = options
    for name in ("next", "escalate"):
        if name in form and node.get("kind") in ("action", "message"):
            value = form[name].strip()
            if value:
                node[name] = value
            elif name == "escalate":
                node.pop("escalate", None)
    if found:
        raise MenuRefused(found)
    tree = {**draft.tree, "nodes": {**draft.tree["nodes"], node_id: node}}
    return save(db, tree, expected=expected, actor=actor)


def _typed(
    form: dict[str, str], name: str, node_id: str, key: str | None
) -> tuple[dict[str, str], list[Finding]]:
    """A text typed in both languages, and what is wrong with it."""
    typed: dict[str, str] = {
        lang: " ".join(form.get(f"{name}.{lang}", "").split()) for lang in LANGUAGES
    }
    problems: list[Finding] = []
    which = "option" if key is not None else name
    for lang in LANGUAGES:
        if not typed[lang]:
            params = {"node": node_id, "press": key or ""}
            problems.append(Finding(f"empty_text.{which}.{lang}", params))
        elif len(typed[lang]) > MAX_TEXT:
            where = f"nodes › {node_id} › {name} › {lang}"
            problems.append(Finding("malformed.too_long", {"where": where}))
    return typed, problems


def discard(db: Session, *, expected: str, actor: audit.Actor) -> VoiceMenuDraft:
    """The draft back to the live menu."""
    draft, row = _locked(db, expected)
    live = menu.live(db)
    saved = _store(db, row, menu.get(db, live.version), based_on=live.version, actor=actor)
    before, after = _diff(draft.tree, saved.tree)
    audit.record(
        db,
        actor=actor,
        action="voice.menu.draft.discard",
        before={"draft": draft.lock_version, **before},
        after={"draft": saved.lock_version, "version": live.version, **after},
    )
    return saved


def publish(db: Session, *, expected: str, comment: str, actor: audit.Actor) -> VoiceMenu:
    """The draft as the next published version; the draft then starts from it."""
    draft, row = _locked(db, expected)
    if not changed(db, draft):
        raise NothingToPublish("the draft is the live menu")
    tree = validated(draft.tree)
    published = menu.publish(db, draft.tree, actor=actor, comment=comment.strip() or None)
    _store(db, row, tree, based_on=published.version, actor=actor)
    return published


def roll_back(
    db: Session,
    version: int,
    *,
    expected_live: int,
    comment: str,
    actor: audit.Actor,
    lang: Lang = "zh-CN",
) -> VoiceMenu:
    """Publish an earlier version again, as the next version; without a comment it is
    noted as a roll-back in the admin's language. A draft with no changes of its own
    follows; one with changes is kept for its author."""
    live = menu.live(db)
    if live.version != expected_live:
        raise StaleMenu("published meanwhile", field="version", who=live.created_by)
    source = db.scalar(select(VoiceMenu).where(VoiceMenu.version == version))
    if source is None:
        raise NotFound(f"no menu version {version}")
    if source.digest == live.digest:
        raise NothingToPublish("that version is the live menu")
    note = comment.strip() or translate("voice.menu_admin.rollback_comment", lang, n=version)
    published = menu.publish(
        db, source.tree, actor=actor, comment=note[:MAX_COMMENT], restores=version
    )
    row = db.scalar(select(VoiceMenuDraft).where(VoiceMenuDraft.id == DRAFT_ID).with_for_update())
    if row is not None and row.digest == live.digest:
        _store(db, row, menu.get(db, published.version), based_on=published.version, actor=actor)
    return published


# --- trying the draft ---------------------------------------------------------------------


def start_trial(db: Session, call_sid: str, *, actor: audit.Actor) -> VoiceMenuTrial:
    """The draft as it is now, for the simulated call ``call_sid`` only."""
    draft = current(db)
    validated(draft.tree)
    now = utcnow()
    db.execute(delete(VoiceMenuTrial).where(VoiceMenuTrial.created_at < now - TRIAL_KEEP))
    row = VoiceMenuTrial(
        call_sid=call_sid,
        tree=draft.tree,
        digest=draft.digest,
        started_by=actor.name,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row


def is_trial(db: Session, call_sid: str, *, started_by: str | None = None) -> bool:
    """Whether ``call_sid`` is a call placed to try the draft (by ``started_by``)."""
    query = select(VoiceMenuTrial.id).where(VoiceMenuTrial.call_sid == call_sid)
    if started_by is not None:
        query = query.where(VoiceMenuTrial.started_by == started_by)
    return db.scalar(query) is not None


def nodes_of(tree: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The nodes in the order a caller meets them (breadth first from the root), then any
    others."""
    nodes: dict[str, Any] = tree.get("nodes", {})
    order: list[str] = []
    todo = [tree.get("root", "")]
    while todo:
        node_id = todo.pop(0)
        if node_id in order or node_id not in nodes:
            continue
        order.append(node_id)
        node = nodes[node_id]
        todo += [option["to"] for option in node.get("options", [])]
        todo += [node[name] for name in ("next", "escalate") if node.get(name)]
    order += sorted(set(nodes) - set(order))
    return [(node_id, nodes[node_id]) for node_id in order]
