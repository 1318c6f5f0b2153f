"""Team and admin tokens: high-entropy secrets shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "fmc_"


def new_token() -> str:
    """A fresh URL-safe token with 256 bits of entropy."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (a slow KDF is not needed for 256-bit random secrets)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of ``token`` against a stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)
