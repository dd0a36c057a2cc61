"""Credentials: Argon2 password hashes, JWT access tokens, opaque secrets stored as SHA-256.

Opaque secrets (refresh tokens, API keys, invitation tokens) carry 256 bits of
randomness, so a fast SHA-256 is a safe way to store them; passwords are
low-entropy and get Argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "techex"
API_KEY_PREFIX = "tx"

_hasher = PasswordHasher()
# Verified against when the email is unknown, so the response time does not reveal it.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    secret: str

    @property
    def plaintext(self) -> str:
        return f"{API_KEY_PREFIX}_{self.prefix}_{self.secret}"


def new_api_key() -> NewApiKey:
    return NewApiKey(prefix=secrets.token_hex(6), secret=secrets.token_urlsafe(32))


def split_api_key(plaintext: str) -> tuple[str, str] | None:
    """`tx_<prefix>_<secret>` → (prefix, full key); None when the shape is wrong."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], plaintext


@dataclass(frozen=True)
class AccessClaims:
    account_id: uuid.UUID
    issued_at: datetime


def create_access_token(
    account_id: uuid.UUID, organization_id: uuid.UUID, role: str, *, secret: str, minutes: int
) -> tuple[str, int]:
    """A signed JWT and its lifetime in seconds."""
    now = datetime.now(UTC)
    claims = {
        "iss": JWT_ISSUER,
        "sub": str(account_id),
        "org": str(organization_id),
        "role": role,
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), minutes * 60


def decode_access_token(token: str, *, secret: str) -> AccessClaims | None:
    """The token's claims when it is authentic, unexpired and an access token; else None."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "typ"]},
        )
        if claims.get("typ") != "access":
            return None
        return AccessClaims(
            account_id=uuid.UUID(claims["sub"]),
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        )
    except (jwt.PyJWTError, ValueError):
        return None


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
# The most common passwords of public breach corpora that meet the length rule.
_COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "12345678910",
        "1q2w3e4r5t",
        "qwertyuiop",
        "1qaz2wsx3edc",
        "password123",
        "password12",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "abcdefghij",
        "qwerty12345",
        "qwerty123456",
        "123456789a",
        "a123456789",
        "aaaaaaaaaa",
        "0987654321",
        "matkhau123",
        "matkhau1234",
        "administrator",
        "welcome123",
        "changeme123",
        "letmein123",
    }
)


def password_problems(password: str, email: str) -> list[str]:
    """Why a password is refused (NIST SP 800-63B style: length and known-bad, no composition rules)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS:
        problems.append("is one of the most common passwords")
    if len(set(password)) < 4:
        problems.append("must use at least 4 different characters")
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        problems.append("must not contain the email address")
    return problems
