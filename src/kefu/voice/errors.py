"""Hotline errors a carrier or an admin is told about."""

from __future__ import annotations

from kefu.errors import PermissionDenied


class SignatureInvalid(PermissionDenied):
    """A webhook without a valid carrier signature: refused before anything happens."""

    code = "signature_invalid"
    message_key = "error.voice.signature_invalid"
