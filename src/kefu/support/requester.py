"""Who asks for a support action: a staff member with a role, or a customer who has just
proved who they are through the assistant, the phone or the help center."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu import audit
from kefu.errors import PermissionDenied
from kefu.identity import questions
from kefu.identity.models import StaffUser
from kefu.identity.permissions import ASSISTANT, has_permission
from kefu.identity.service import staff_actor


@dataclass(frozen=True)
class Requester:
    """``staff`` is set for a staff member; a customer acts through self-service under the
    assistant's permissions, with the ``verification_id`` that proved who they are."""

    actor: audit.Actor
    staff: StaffUser | None = None
    verification_id: int | None = None

    @classmethod
    def of_staff(cls, staff: StaffUser) -> Requester:
        return cls(actor=staff_actor(staff), staff=staff)

    @classmethod
    def of_customer(cls, actor: audit.Actor, verification_id: int | None) -> Requester:
        """A customer verified in a conversation or a call, acting through self-service."""
        return cls(actor=audit.Actor(actor.name, ASSISTANT), verification_id=verification_id)

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
        enough for it (security questions allow looking and freezing only)."""
        if not self.may(permission):
            raise PermissionDenied(f"{action} needs {permission}")
        if self.staff is None:
            questions.require_allowed(db, self.verification_id, action)
