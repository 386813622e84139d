"""The voice menu (语音导航) as data: a tree of nodes stored in the database, edited by an
admin, and checked before it goes live.

Node kinds:

- ``menu``: an optional intro and up to twelve options, each a key and a label; the prompt
  is made from them ("For top-ups, press 2."), so it always matches the tree;
- ``action``: a keypad self-service (balance, last top-up, freeze, case progress, ...),
  then ``next``; ``escalate`` names who takes over when the action needs a person;
- ``message``: something said, then ``next``;
- ``queue``: a person: the call joins the agents' queue with a case category, tier and
  urgency.

Texts are a catalogue key (``voice.menu.main``, in both languages in voice.po) or inline
``{"zh-CN": ..., "en": ...}``. A tree is refused unless every node is reachable from the
root, every node can reach a person (no dead ends, no loops without a way out), and no
chain of actions and messages loops without waiting for a key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases.categories import Category
from kefu.db import utcnow
from kefu.errors import InvalidInput, NotFound
from kefu.i18n import LANGUAGES, Lang, catalogue, translate
from kefu.voice.default_menu import DEFAULT_TREE
from kefu.voice.models import VoiceCall, VoiceMenu, VoiceMenuTrial
from kefu.voice.simulator import SID_PREFIX
from kefu.voice.speech import spoken

ACTIONS = (
    "balance",
    "last_topup",
    "freeze",
    "case_progress",
    "check_number",
    "channels",
    "callback",
)
KEYS = "0123456789*#"
MAX_NODES = 200
SHIPPED = "shipped default"  # version 1's comment, named in the reader's language by pages
NodeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class MenuInvalid(InvalidInput):
    code = "menu_invalid"
    message_key = "error.voice.menu_invalid"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LocalText(_Strict):
    zh_cn: str = Field(alias="zh-CN", min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


Text = Annotated[str, Field(pattern=r"^voice\.[a-z0-9_.]+$", max_length=80)] | LocalText


class Option(_Strict):
    key: str = Field(pattern=r"^[0-9*#]$")
    label: Text
    to: NodeId


class MenuNode(_Strict):
    kind: Literal["menu"]
    intro: Text | None = None
    options: list[Option] = Field(min_length=1, max_length=12)


class ActionNode(_Strict):
    kind: Literal["action"]
    action: Literal[
        "balance", "last_topup", "freeze", "case_progress", "check_number", "channels", "callback"
    ]
    next: NodeId
    escalate: NodeId | None = None


class MessageNode(_Strict):
    kind: Literal["message"]
    text: Text
    next: NodeId


class QueueNode(_Strict):
    kind: Literal["queue"]
    category: str
    tier: Literal["tier1", "tier2", "supervisor"] = "tier1"
    urgent: bool = False


Node = Annotated[MenuNode | ActionNode | MessageNode | QueueNode, Field(discriminator="kind")]


class MenuTree(_Strict):
    root: NodeId
    # who takes a caller after three wrong keys, silence, or a failure
    operator: NodeId
    nodes: dict[NodeId, Node] = Field(min_length=1, max_length=MAX_NODES)

    def node(self, node_id: str) -> MenuNode | ActionNode | MessageNode | QueueNode:
        return self.nodes[node_id]

    def escalation(self, node_id: str) -> str:
        node = self.nodes[node_id]
        if isinstance(node, ActionNode) and node.escalate:
            return node.escalate
        return self.operator


def text_of(spec: str | LocalText, lang: Lang, **params: Any) -> str:
    """A node's text in ``lang``; figures in an admin's inline text are spelled out."""
    if isinstance(spec, str):
        return translate(spec, lang, **params)
    return spoken(spec.zh_cn if lang == "zh-CN" else spec.en, lang)


def _edges(node: MenuNode | ActionNode | MessageNode | QueueNode) -> list[str]:
    if isinstance(node, MenuNode):
        return [option.to for option in node.options]
    if isinstance(node, ActionNode):
        return [node.next] + ([node.escalate] if node.escalate else [])
    if isinstance(node, MessageNode):
        return [node.next]
    return []


def _texts(node: MenuNode | ActionNode | MessageNode | QueueNode) -> list[str | LocalText]:
    if isinstance(node, MenuNode):
        return ([node.intro] if node.intro else []) + [option.label for option in node.options]
    if isinstance(node, MessageNode):
        return [node.text]
    return []


def _reach(start: set[str], edges: dict[str, list[str]]) -> set[str]:
    seen, todo = set(start), deque(start)
    while todo:
        for target in edges.get(todo.popleft(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _unwaited_cycle(tree: MenuTree) -> list[str]:
    """Nodes on a loop of actions and messages that never waits for a key."""
    chain = {
        node_id: [node.next]
        for node_id, node in tree.nodes.items()
        if isinstance(node, MessageNode)
    }
    looping: list[str] = []
    for start in chain:
        seen: set[str] = set()
        current = start
        while current in chain and current not in seen:
            seen.add(current)
            current = chain[current][0]
        if current == start:
            looping.append(start)
    return looping


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a tree, as a sentence in the catalogue (``voice.menu_problem.*``)
    naming the node and key, so the console can say it in the admin's language."""

    key: str
    params: dict[str, str] = field(default_factory=dict)

    def text(self, lang: Lang) -> str:
        return translate(f"voice.menu_problem.{self.key}", lang, **self.params)


def findings(tree: MenuTree) -> list[Finding]:
    """Everything wrong with a parsed tree; empty if none."""
    found: list[Finding] = []
    ids = set(tree.nodes)
    for name, target in (("root", tree.root), ("operator", tree.operator)):
        if target not in ids:
            found.append(Finding(f"{name}_missing", {"target": target}))
    if tree.operator in ids and not isinstance(tree.nodes[tree.operator], QueueNode):
        found.append(Finding("operator_not_queue", {"node": tree.operator}))
    for node_id, node in tree.nodes.items():
        found += _node_findings(node_id, node, ids)
        escalate = node.escalate if isinstance(node, ActionNode) else None
        if escalate in ids and not isinstance(tree.nodes[escalate or ""], QueueNode):
            found.append(Finding("escalate_not_queue", {"node": node_id, "target": escalate or ""}))
    if found:
        return found
    edges = {node_id: _edges(node) for node_id, node in tree.nodes.items()}
    reachable = _reach({tree.root}, edges)
    found += [
        Finding("unreachable", {"node": node_id, "root": tree.root})
        for node_id in sorted(ids - reachable)
    ]
    reverse: dict[str, list[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, []).append(source)
    people = {node_id for node_id, node in tree.nodes.items() if isinstance(node, QueueNode)}
    reaches_person = _reach(people, reverse)
    found += [Finding("dead_end", {"node": node_id}) for node_id in sorted(ids - reaches_person)]
    found += [Finding("loop", {"node": node_id}) for node_id in _unwaited_cycle(tree)]
    return found


def _node_findings(
    node_id: str, node: MenuNode | ActionNode | MessageNode | QueueNode, ids: set[str]
) -> list[Finding]:
    found: list[Finding] = []
    if isinstance(node, MenuNode):
        seen: set[str] = set()
        for option in node.options:
            if option.key in seen:
                found.append(Finding("key_twice", {"node": node_id, "press": option.key}))
            seen.add(option.key)
            if option.to not in ids:
                params = {"node": node_id, "press": option.key, "target": option.to}
                found.append(Finding("key_missing", params))
    elif isinstance(node, ActionNode | MessageNode) and node.next not in ids:
        found.append(Finding("next_missing", {"node": node_id, "target": node.next}))
    if isinstance(node, ActionNode) and node.escalate and node.escalate not in ids:
        found.append(Finding("escalate_missing", {"node": node_id, "target": node.escalate}))
    if isinstance(node, QueueNode) and node.category not in {c.value for c in Category}:
        found.append(Finding("unknown_category", {"node": node_id, "category": node.category}))
    for spec in _texts(node):
        if isinstance(spec, str) and not all(spec in catalogue(lang) for lang in LANGUAGES):
            found.append(Finding("text_missing", {"node": node_id, "text": spec}))
    return found


def problems(tree: MenuTree) -> list[str]:
    """Everything wrong with a parsed tree, in English words an admin can act on."""
    return [finding.text("en") for finding in findings(tree)]


# pydantic's error types, as the sentences the console says them in
_MALFORMED = {
    "missing": "missing",
    "extra_forbidden": "extra",
    "string_pattern_mismatch": "pattern",
    "string_too_short": "empty",
    "string_too_long": "too_long",
    "too_short": "too_few",
    "too_long": "too_many",
    "union_tag_invalid": "kind",
    "union_tag_not_found": "kind",
    "literal_error": "choice",
    "text": "text",
}


def _malformed(error: Any) -> Finding:
    """Where in the tree (``nodes › main › options › 3 › key``) and what is wrong there;
    the node kind pydantic puts after a node's id and the union members are left out."""
    loc = list(error["loc"])
    if len(loc) > 2 and loc[0] == "nodes" and loc[2] in ("menu", "action", "message", "queue"):
        del loc[2]
    parts = [
        str(part + 1) if isinstance(part, int) else str(part)
        for index, part in enumerate(loc)
        if index < 2 or not _UNION_MEMBER.match(str(part))
    ]
    what = _MALFORMED.get(error["type"], "invalid")
    return Finding(f"malformed.{what}", {"where": " › ".join(parts) or "—"})


_UNION_MEMBER = re.compile(r"^(str|LocalText|constrained-str|function-.*)$")


def _malformed_all(errors: list[Any]) -> list[Finding]:
    """A text is a catalogue key or a {zh-CN, en} pair: say what is wrong with the form it
    was given in, not also that it is not the other form (unless it is neither)."""

    def base(error: Any) -> tuple[Any, ...]:
        loc = tuple(error["loc"])
        for index, part in enumerate(loc):
            if part in ("constrained-str", "LocalText"):
                return loc[:index]
        return loc

    def other_form(error: Any) -> bool:
        loc = error["loc"]
        return ("constrained-str" in loc and error["type"] == "string_type") or (
            "LocalText" in loc and error["type"] == "model_type"
        )

    kept = [error for error in errors if not other_form(error)]
    covered = {base(error) for error in kept}
    for error in errors:
        if other_form(error) and base(error) not in covered:
            covered.add(base(error))
            kept.append({**error, "loc": base(error), "type": "text"})
    found: list[Finding] = []
    for error in kept[:20]:
        finding = _malformed(error)
        if finding not in found:
            found.append(finding)
    return found


def check_findings(data: Any) -> tuple[MenuTree | None, list[Finding]]:
    """The parsed tree and everything wrong with it; the tree is None if malformed."""
    try:
        tree = MenuTree.model_validate(data)
    except ValidationError as exc:
        return None, _malformed_all(exc.errors())
    return tree, findings(tree)


def check(data: Any) -> tuple[MenuTree | None, list[str]]:
    """The parsed tree and everything wrong with it in English; None if malformed."""
    tree, found = check_findings(data)
    return tree, [finding.text("en") for finding in found]


def parse(data: Any) -> MenuTree:
    """A menu tree from JSON data, fully checked; ``MenuInvalid`` lists every problem."""
    tree, found = check(data)
    if tree is None or found:
        raise MenuInvalid("the menu tree does not hold", problems="; ".join(found[:20]))
    return tree


_CACHE: dict[str, MenuTree] = {}


def digest(tree: MenuTree) -> str:
    canonical = json.dumps(tree.model_dump(by_alias=True, exclude_none=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _tree_of(row: VoiceMenu) -> MenuTree:
    """Published versions never change, so each is parsed once per process (by digest:
    two databases may both have a version 2)."""
    tree = _CACHE.get(row.digest)
    if tree is None:
        tree = MenuTree.model_validate(row.tree)
        _CACHE[row.digest] = tree
    return tree


def live_version(db: Session) -> int:
    """The live menu's version, publishing the shipped default on first use."""
    version = db.scalar(select(func.max(VoiceMenu.version)))
    if version is None:
        return ensure_default(db).version
    return int(version)


def live(db: Session) -> VoiceMenu:
    return ensure_default(db)


def get(db: Session, version: int, *, digest: str | None = None) -> MenuTree:
    """A published version; only its digest is read when this process has parsed it, and
    not even that when the caller has it (``VoiceCall.menu_digest``)."""
    if digest is not None and digest in _CACHE:
        return _CACHE[digest]
    digest = db.scalar(select(VoiceMenu.digest).where(VoiceMenu.version == version))
    if digest is None:
        raise NotFound(f"no menu version {version}")
    cached = _CACHE.get(digest)
    if cached is not None:
        return cached
    row = db.scalar(select(VoiceMenu).where(VoiceMenu.version == version))
    assert row is not None  # published versions are never deleted
    return _tree_of(row)


def trial_tree(db: Session, call: VoiceCall) -> MenuTree | None:
    """The draft an admin placed this simulated call to try, or None for any other call
    (only the simulator's call ids are looked up)."""
    if not call.call_sid.startswith(SID_PREFIX):
        return None
    trial = db.execute(
        select(VoiceMenuTrial.digest, VoiceMenuTrial.id).where(
            VoiceMenuTrial.call_sid == call.call_sid
        )
    ).first()
    if trial is None:
        return None
    tree = _CACHE.get(trial.digest)
    if tree is None:
        row = db.get(VoiceMenuTrial, trial.id)
        assert row is not None
        tree = MenuTree.model_validate(row.tree)
        _CACHE[trial.digest] = tree
    return tree


def ensure_default(db: Session) -> VoiceMenu:
    """The live menu's row; the shipped menu is published as version 1 if there is none."""
    row = db.scalar(select(VoiceMenu).order_by(VoiceMenu.version.desc()).limit(1))
    if row is not None:
        return row
    return publish(db, DEFAULT_TREE, actor=audit.Actor.system(), comment=SHIPPED)


def publish(
    db: Session,
    data: Any,
    *,
    actor: audit.Actor,
    comment: str | None = None,
    restores: int | None = None,
) -> VoiceMenu:
    """Check ``data`` and make it the live menu as a new version; calls already in
    progress finish on the version they started with. ``restores`` names the earlier
    version a roll-back publishes again."""
    tree = parse(data)
    current = db.scalar(select(func.max(VoiceMenu.version))) or 0
    row = VoiceMenu(
        version=int(current) + 1,
        tree=tree.model_dump(by_alias=True, exclude_none=True),
        digest=digest(tree),
        comment=comment,
        created_by=actor.name,
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    after: dict[str, Any] = {"version": row.version, "nodes": len(tree.nodes), "comment": comment}
    if restores is not None:
        after["restores"] = restores
    audit.record(
        db,
        actor=actor,
        action="voice.menu.rollback" if restores is not None else "voice.menu.publish",
        before={"version": int(current)} if current else None,
        after=after,
    )
    return row


def versions(db: Session, *, limit: int = 50) -> list[VoiceMenu]:
    return list(db.scalars(select(VoiceMenu).order_by(VoiceMenu.version.desc()).limit(limit)))
