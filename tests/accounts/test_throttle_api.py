"""Sign-in throttling through HTTP: per account and per (account, address), never per address alone."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from app.config import Settings
from app.main import create_app
from app.search.embedded import EmbeddedBackend
from tests.conftest import BASE_URL, make_settings
from tests.helpers import PASSWORD, expect, register

LOCAL_REDIS = ("127.0.0.1", 6379)
REDIS_URL = f"redis://{LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}/0"


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[AsyncClient]:
    """A client whose TCP peer address is `address`."""
    transport = ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40_000))
    async with AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


async def sign_in(http: AsyncClient, email: str, password: str, **headers: str) -> Response:
    return await http.post("/api/v1/auth/token", data={"username": email, "password": password}, headers=headers)


@asynccontextmanager
async def another_app(app: FastAPI, settings: Settings, search: EmbeddedBackend) -> AsyncIterator[FastAPI]:
    """A second app instance on the same database, as a second worker or server would be."""
    other = create_app(settings, database=app.state.database, search=search)
    async with other.router.lifespan_context(other):
        yield other


class TestThrottling:
    async def test_correct_password_still_works_from_another_address(self, app: FastAPI, client: AsyncClient) -> None:
        person = await register(client)
        email = person.account["email"]
        async with client_from(app, "198.51.100.7") as guesser, client_from(app, "203.0.113.20") as owner:
            for _ in range(5):
                expect(await sign_in(guesser, email, "wrong-password-1"), 401)
            blocked = await sign_in(guesser, email, PASSWORD)
            assert expect(blocked, 429)["code"] == "TooManyLoginAttempts"
            assert int(blocked.headers["retry-after"]) in range(1, 901)
            expect(await sign_in(owner, email, PASSWORD), 200)

    async def test_failures_of_others_behind_the_same_address_do_not_lock_anyone_out(
        self, app: FastAPI, client: AsyncClient
    ) -> None:
        person = await register(client)
        async with client_from(app, "192.0.2.44") as office:  # one NAT, many people
            for i in range(30):
                expect(await sign_in(office, f"colleague{i}@example.vn", "wrong-password-1"), 401)
            expect(await sign_in(office, person.account["email"], PASSWORD), 200)

    async def test_guessing_from_many_addresses_locks_the_account(self, app: FastAPI, client: AsyncClient) -> None:
        person = await register(client)
        email = person.account["email"]
        for i in range(20):  # 20 addresses, one guess each: no (account, address) budget is near spent
            async with client_from(app, f"198.51.100.{i + 1}") as guesser:
                expect(await sign_in(guesser, email, "wrong-password-1"), 401)
        async with client_from(app, "203.0.113.99") as owner:
            blocked = await sign_in(owner, email, PASSWORD)
        assert expect(blocked, 429)["code"] == "TooManyLoginAttempts"
        assert int(blocked.headers["retry-after"]) in range(1, 901)

    async def test_success_forgets_only_that_address(self, app: FastAPI, client: AsyncClient) -> None:
        person = await register(client)
        email = person.account["email"]
        async with client_from(app, "198.51.100.8") as home:
            for _ in range(2):
                for _ in range(4):
                    expect(await sign_in(home, email, "wrong-password-1"), 401)
                expect(await sign_in(home, email, PASSWORD), 200)


class TestSharedCounters:
    async def test_two_instances_share_counts_through_redis(
        self, app: FastAPI, client: AsyncClient, database_url: str, search_backend: EmbeddedBackend
    ) -> None:
        try:
            socket.create_connection(LOCAL_REDIS, timeout=0.5).close()
        except OSError:
            print(f"skipped: no Redis answers on {LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}")
            pytest.skip(f"no Redis answers on {LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}")
        person = await register(client, f"shared-{uuid.uuid4().hex[:12]}@example.vn")
        email = person.account["email"]
        settings = make_settings(database_url, redis_url=REDIS_URL)
        async with (
            another_app(app, settings, search_backend) as first,
            another_app(app, settings, search_backend) as second,
            client_from(first, "198.51.100.9") as via_first,
            client_from(second, "198.51.100.9") as via_second,
        ):
            for _ in range(3):
                expect(await sign_in(via_first, email, "wrong-password-1"), 401)
            for _ in range(2):
                expect(await sign_in(via_second, email, "wrong-password-1"), 401)
            # Five failures in all: each instance alone has seen fewer than its budget of five.
            assert expect(await sign_in(via_first, email, PASSWORD), 429)["code"] == "TooManyLoginAttempts"
            assert expect(await sign_in(via_second, email, PASSWORD), 429)["code"] == "TooManyLoginAttempts"

    async def test_unreachable_counters_refuse_sign_in_rather_than_allow_it(
        self, app: FastAPI, client: AsyncClient, database_url: str, search_backend: EmbeddedBackend
    ) -> None:
        person = await register(client)
        settings = make_settings(database_url, redis_url="redis://127.0.0.1:8169/0")  # nothing listens there
        async with another_app(app, settings, search_backend) as cut_off, client_from(cut_off, "198.51.100.40") as http:
            answer = await sign_in(http, person.account["email"], PASSWORD)
        assert expect(answer, 503)["code"] == "SignInUnavailable"
        assert int(answer.headers["retry-after"]) >= 1


class TestForwardedFor:
    @pytest.mark.parametrize(
        ("peer", "trusted", "honoured"),
        [
            ("127.0.0.1", [], False),  # no proxy configured: not even loopback is believed
            ("192.0.2.10", ["127.0.0.1"], False),  # a peer that is not the configured proxy
            ("127.0.0.1", ["127.0.0.1"], True),
            ("10.0.0.5", ["10.0.0.0/8"], True),
        ],
    )
    async def test_forwarded_for_is_believed_only_from_configured_proxies(
        self,
        app: FastAPI,
        client: AsyncClient,
        database_url: str,
        search_backend: EmbeddedBackend,
        peer: str,
        trusted: list[str],
        honoured: bool,
    ) -> None:
        person = await register(client)
        email = person.account["email"]
        settings = make_settings(database_url, forwarded_allow_ips=trusted)
        async with another_app(app, settings, search_backend) as proxied, client_from(proxied, peer) as proxy:
            for _ in range(5):
                expect(await sign_in(proxy, email, "wrong-password-1", **{"X-Forwarded-For": "198.51.100.30"}), 401)
            answer = await sign_in(proxy, email, PASSWORD, **{"X-Forwarded-For": "203.0.113.31"})
        # Believed, the two clients are different addresses; ignored, both are the proxy.
        assert answer.status_code == (200 if honoured else 429), answer.text

    def test_the_setting_is_read_as_a_list(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1, 172.16.0.0/12")
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.forwarded_allow_ips == ["10.0.0.1", "172.16.0.0/12"]
