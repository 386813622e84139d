"""How phone numbers, e-mail addresses and card numbers appear in views and logs."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``+8613800000001`` → ``138****0001``; only the first three and last four digits."""
    if not phone:
        return ""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(email: str | None) -> str:
    """``zhang.wei@example.com`` → ``z***@example.com``."""
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_card(last4: str) -> str:
    return f"**** **** **** {last4}"


def mask_destination(destination: str) -> str:
    return mask_email(destination) if "@" in destination else mask_phone(destination)


def mask_name(name: str | None) -> str:
    """``王小明`` → ``王*明``, ``Zhang Wei`` → ``Z*******i``: enough to tell two customers
    apart in a list without showing who they are."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
