"""The password policy, and password checks that take as long for unknown users."""

from __future__ import annotations

import secrets
from functools import cache

from flowdeck.auth import secrets as hashing
from flowdeck.auth.secrets import hash_password, verify_password

DEFAULT_MIN_LENGTH = 8


def password_problem(password: str, username: str, min_length: int) -> str | None:
    """What is wrong with `password` for `username` under the policy, or None."""
    if len(password) < min_length:
        return f"must be at least {min_length} characters long"
    if password.casefold() == username.casefold():
        return "must not be the username"
    return None


def _dummy_hash() -> str:
    # Same parameters as real hashes, so verifying it costs what a real check costs.
    hasher = hashing._hasher
    return _dummy_for(hasher.time_cost, hasher.memory_cost, hasher.parallelism)


@cache
def _dummy_for(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_password(password: str, password_hash: str | None) -> bool:
    """Whether `password` matches; with no hash (unknown user) a dummy hash is verified
    anyway, so an unknown username and a wrong password take the same time."""
    if password_hash is None:
        verify_password(password, _dummy_hash())
        return False
    return verify_password(password, password_hash)


def warm_up() -> None:
    """Compute the dummy hash ahead (in a start-up thread), off the first login's path."""
    _dummy_hash()
