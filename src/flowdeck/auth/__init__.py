"""Authentication: password hashes, JWTs, API keys, and the current-user dependency."""
