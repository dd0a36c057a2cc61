"""Credential primitives, tested directly."""

from __future__ import annotations

import uuid

import pytest
from argon2 import extract_parameters

from app.accounts.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    hash_secret,
    new_api_key,
    password_problems,
    secrets_match,
    split_api_key,
    verify_password,
)

SECRET = "s" * 48


@pytest.mark.production_password_cost
class TestPasswords:
    def test_hash_verifies_and_is_salted(self) -> None:
        first, second = hash_password("mot-mat-khau-dai"), hash_password("mot-mat-khau-dai")
        assert first != second
        assert first.startswith("$argon2id$")
        assert verify_password(first, "mot-mat-khau-dai")
        assert not verify_password(first, "mot-mat-khau-dai ")

    def test_hashes_at_the_production_cost(self) -> None:
        """The cost other tests lower for speed is, in the app, Argon2id's RFC 9106 low-memory profile."""
        parameters = extract_parameters(hash_password("mot-mat-khau-dai"))
        assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (3, 65536, 4)

    def test_unknown_account_never_verifies(self) -> None:
        assert not verify_password(None, "anything-at-all")

    def test_corrupt_hash_does_not_raise(self) -> None:
        assert not verify_password("not-a-hash", "anything-at-all")

    @pytest.mark.parametrize(
        ("password", "problem"),
        [
            ("short", "must be at least 10 characters long"),
            ("x" * 129, "must be at most 128 characters long"),
            ("aaaaaaaaaaaa", "must use at least 4 different characters"),
            ("Password123", "is one of the most common passwords"),
            ("my-hoa.tran-2026", "must not contain the email address"),
        ],
    )
    def test_policy_names_the_problem(self, password: str, problem: str) -> None:
        assert problem in password_problems(password, "hoa.tran@example.vn")

    def test_long_passphrase_passes(self) -> None:
        assert password_problems("bon chu meo con trong vuon", "hoa.tran@example.vn") == []


class TestAccessTokens:
    def test_round_trip(self) -> None:
        account = uuid.uuid4()
        token, lifetime = create_access_token(account, uuid.uuid4(), "member", secret=SECRET, minutes=15)
        assert lifetime == 900
        claims = decode_access_token(token, secret=SECRET)
        assert claims is not None
        assert claims.account_id == account

    def test_expired_wrong_key_and_garbage_are_refused(self) -> None:
        expired, _ = create_access_token(uuid.uuid4(), uuid.uuid4(), "member", secret=SECRET, minutes=-1)
        valid, _ = create_access_token(uuid.uuid4(), uuid.uuid4(), "member", secret=SECRET, minutes=5)
        assert decode_access_token(expired, secret=SECRET) is None
        assert decode_access_token(valid, secret="k" * 48) is None
        assert decode_access_token("not.a.jwt", secret=SECRET) is None

    def test_alg_none_is_refused(self) -> None:
        import jwt

        unsigned = jwt.encode(
            {"sub": str(uuid.uuid4()), "typ": "access", "iat": 0, "exp": 4102444800}, None, algorithm="none"
        )
        assert decode_access_token(unsigned, secret=SECRET) is None


class TestOpaqueSecrets:
    def test_api_key_shape_and_hash(self) -> None:
        key = new_api_key()
        prefix, full = split_api_key(key.plaintext)  # type: ignore[misc]
        assert prefix == key.prefix
        assert secrets_match(full, hash_secret(key.plaintext))
        assert not secrets_match(full + "x", hash_secret(key.plaintext))

    @pytest.mark.parametrize("malformed", ["", "tx", "tx__secret", "xx_prefix_secret", "tx_prefix_"])
    def test_malformed_keys_are_rejected(self, malformed: str) -> None:
        assert split_api_key(malformed) is None
