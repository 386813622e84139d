from itertools import pairwise

import pytest

from kefu.identity.permissions import LOWEST_ROLE_FOR, ROLE_ORDER, has_permission, permissions_of


def test_higher_roles_hold_everything_lower_roles_hold() -> None:
    for lower, higher in pairwise(ROLE_ORDER):
        assert permissions_of(lower) <= permissions_of(higher)


def test_agent_cannot_manage_staff_or_read_full_audit() -> None:
    assert has_permission("agent", "customer.read")
    assert not has_permission("agent", "staff.manage")
    assert not has_permission("agent", "audit.read")
    assert has_permission("supervisor", "audit.read")
    assert has_permission("admin", "staff.manage")


def test_unknown_role_has_nothing() -> None:
    assert permissions_of("customer") == frozenset()
    assert not has_permission("root", "customer.read")


def test_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        has_permission("admin", "no.such.permission")


def test_every_permission_names_a_real_role() -> None:
    assert set(LOWEST_ROLE_FOR.values()) <= set(ROLE_ORDER)
