"""Secrets kept at rest (provider API keys, MCP server env and headers): sealed, never shown.

One key, derived with HKDF-SHA256 from `FLOWDECK_SECRETS_KEY` (or, unset, the server's
secret key), seals every value with Fernet (AES-128-CBC and HMAC-SHA256, authenticated): a
value read from the database without the key is useless, and one altered there is refused.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import orjson
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from flowdeck.errors import FlowdeckError

MASK = "********"
# Part of the derivation: a key made for sealing is never the one that signs tokens.
_INFO = b"flowdeck sealed secrets v1"


class SealedValueError(FlowdeckError):
    """A stored secret cannot be opened: sealed under another key, or altered."""

    code = "sealed_value_unreadable"


class SecretBox:
    """Seals and opens text with a key derived from the server's secret."""

    __slots__ = ("_fernet",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a secret is needed to seal values")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            # Never the value itself in the message: it may be half a secret.
            raise SealedValueError(
                "a stored secret cannot be read (sealed under another FLOWDECK_SECRETS_KEY?)"
            ) from None

    def seal_optional(self, plain: str | None) -> str | None:
        return self.seal(plain) if plain else None

    def open_optional(self, sealed: str | None) -> str:
        return self.open(sealed) if sealed else ""

    def seal_map(self, values: Mapping[str, str] | None) -> str | None:
        """A mapping (env variables, headers) sealed as one value; None when empty."""
        return self.seal(orjson.dumps(dict(values)).decode()) if values else None

    def open_map(self, sealed: str | None) -> dict[str, str]:
        if not sealed:
            return {}
        doc = orjson.loads(self.open(sealed))
        return {str(k): str(v) for k, v in doc.items()}


def masked(value: str | None) -> str | None:
    """What a read shows of a secret: that it is set, never what it is."""
    return MASK if value else None


def masked_map(values: Mapping[str, str]) -> dict[str, str]:
    """A mapping's names with every value masked (env variables, headers)."""
    return dict.fromkeys(values, MASK)


def keep_unchanged(new: Mapping[str, str], old: Mapping[str, str]) -> dict[str, str]:
    """An update that sends back a masked value (as read) keeps the stored one."""
    return {k: old.get(k, "") if v == MASK else v for k, v in new.items() if v != MASK or k in old}
