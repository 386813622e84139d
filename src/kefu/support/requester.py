"""Who asks for a support action, and how strongly they proved who they are: a staff
member with a role; a customer verified by a one-time code or by security questions through
the assistant, the phone or the help center; or, in an emergency, someone who says their
account was stolen and gave only its phone number, who may freeze it and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu import audit
from kefu.errors import PermissionDenied
from kefu.identity import questions
from kefu.identity.models import StaffUser
from kefu.identity.permissions import ASSISTANT, has_permission
from kefu.identity.service import staff_actor

# what an unverified requester's emergency allows: freezing only protects
EMERGENCY_ACTIONS = frozenset({"freeze"})


@dataclass(frozen=True)
class Requester:
    """``staff`` is set for a staff member; a customer acts through self-service under the
    assistant's permissions, with the ``verification_id`` that proved who they are, or,
    with ``emergency``, without one."""

    actor: audit.Actor
    staff: StaffUser | None = None
    verification_id: int | None = None
    emergency: bool = False

    @classmethod
    def of_staff(cls, staff: StaffUser) -> Requester:
        return cls(actor=staff_actor(staff), staff=staff)

    @classmethod
    def of_customer(cls, actor: audit.Actor, verification_id: int | None) -> Requester:
        """A customer verified in a conversation or a call, acting through self-service."""
        return cls(actor=audit.Actor(actor.name, ASSISTANT), verification_id=verification_id)

    @classmethod
    def in_emergency(cls, actor: audit.Actor) -> Requester:
        """Someone who says the account was stolen and named it by its phone number
        only (the surface limits how often): the weakest requester, who may freeze."""
        return cls(actor=audit.Actor(actor.name, ASSISTANT), emergency=True)

    @property
    def strength(self) -> str:
        """How the requester proved who they are: ``staff``, ``verified`` (a one-time code
        or security questions, ``kefu.identity.questions`` tells which) or ``emergency``."""
        if self.staff is not None:
            return "staff"
        return "emergency" if self.emergency else "verified"

    @property
    def role(self) -> str:
        return self.actor.role

    def may(self, permission: str) -> bool:
        return has_permission(self.role, permission)

    @property
    def supervisor(self) -> bool:
        """Whose decision moves money above the approval amount."""
        return self.staff is not None and self.may("wallet.refund.decide_large")

    def require(self, db: Session, permission: str, action: str) -> None:
        """The permission the action needs and, for a customer, a verification strong
        enough for it (security questions allow looking, tracing and freezing; an
        emergency without a verification allows freezing only)."""
        if not self.may(permission):
            raise PermissionDenied(f"{action} needs {permission}")
        if self.emergency:
            if action not in EMERGENCY_ACTIONS:
                raise PermissionDenied(f"{action} needs a verification")
        elif self.staff is None:
            questions.require_allowed(db, self.verification_id, action)
