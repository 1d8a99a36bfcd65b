"""Password hashing (argon2), API key generation and hashing, JWT encoding."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from flowdeck.errors import AuthenticationError

_hasher = PasswordHasher()
ALGORITHM = "HS256"
API_KEY_PREFIX = "sk-"


def configure_password_hashing(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2 cost of new hashes (process-wide: the settings of the app built last).

    Existing hashes keep verifying whatever the cost: each carries its own parameters.
    """
    global _hasher
    if (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) != (
        time_cost,
        memory_kib,
        parallelism,
    ):
        _hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(hashed: str) -> bool:
    """Whether a stored hash was made at another cost than the current one."""
    try:
        return _hasher.check_needs_rehash(hashed)
    except InvalidHashError:
        return False


def verify_password(password: str, hashed: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # Keys are long random strings, so a fast hash is safe and keeps lookups cheap.
    return hashlib.sha256(key.encode()).hexdigest()


def preview_api_key(key: str) -> str:
    return f"{key[:8]}...{key[-4:]}"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    version: int  # the user's token version when it was issued
    expires: float  # a Unix time


def encode_token(key: str, subject: int, kind: str, minutes: int, version: int = 0) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": str(subject),
        "type": kind,
        "ver": version,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    import jwt  # PyJWT loads cryptography's every algorithm: ~50 ms, not spent at start-up

    return jwt.encode(payload, key, algorithm=ALGORITHM)


def decode_token(key: str, token: str, kind: str) -> TokenClaims:
    """The claims of a valid token of the given kind; AuthenticationError otherwise."""
    import jwt

    try:
        payload: dict[str, Any] = jwt.decode(token, key, algorithms=[ALGORITHM])
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("token has expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError("invalid token") from exc
    if payload.get("type") != kind:
        raise AuthenticationError(f"not a {kind} token")
    try:
        # Tokens issued before token versions existed carry none: version 0, the column default.
        version = int(payload.get("ver", 0))
        return TokenClaims(int(payload["sub"]), version, float(payload["exp"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise AuthenticationError("invalid token subject") from exc
