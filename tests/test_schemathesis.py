"""Property-based API tests: schemathesis drives every operation of the OpenAPI document against the real
app on PostgreSQL with demo data, anonymously and as an organisation's member.

Every check runs but two, which test rules the document cannot express: `positive_data_acceptance`
(a schema-valid request may still break a business rule — `from` after `to`, a stale `If-Match`, a state
transition — and get 412/422/428) and `negative_data_rejection` (Pydantic's documented lax mode reads
`"1"` as `true` and `"5"` as `5`). So the run asserts: no server error, every status code, content type,
header and body as documented, and access control as declared.

Select with `-m schemathesis`; deselect with `-m "not schemathesis"`.
"""

from __future__ import annotations

import asyncio
import copy
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from app.db import Database
from app.main import create_app
from app.migrations import upgrade
from app.seed import load_demo_data
from tests.conftest import BASE_URL, make_settings
from tests.fixtures.contract import openapi_document
from tests.fixtures.database import (
    POSTGRES_SKIP_REASON,
    create_postgres_database,
    drop_postgres_database,
    local_postgres_answers,
)
from tests.fixtures.orcid import orcid_record_server
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.schemathesis, pytest.mark.slow]

# Small and derandomised: the whole run (about 110 operations, twice) stays within a few minutes on two
# busy cores. Raise FUZZ_EXAMPLES locally to look harder.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
CONFIG = {
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "checks": {"positive_data_acceptance": {"enabled": False}, "negative_data_rejection": {"enabled": False}},
}


async def _seeded_database(url: str) -> None:
    await asyncio.to_thread(upgrade, url)
    database = Database.from_url(url)
    try:
        await load_demo_data(database)
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app on a fresh PostgreSQL database holding the demo data set; ORCID is a local server of saved
    records (the network is not reachable, and a documented 503 would count as a server error)."""
    if not local_postgres_answers():
        pytest.skip(POSTGRES_SKIP_REASON)
    url = asyncio.run(create_postgres_database("techex_fuzz"))
    try:
        asyncio.run(_seeded_database(url))
        index_dir: Path = tmp_path_factory.mktemp("fuzz-index")
        with orcid_record_server() as orcid_url:
            yield create_app(
                make_settings(
                    url,
                    index_dir=index_dir,
                    log_level="CRITICAL",
                    # schemathesis signs in with made-up passwords over and over, from one address
                    login_max_failures_per_account_address=1_000_000,
                    login_max_failures_per_account=1_000_000,
                    orcid_api_url=orcid_url,
                )
            )
    finally:
        asgi.shutdown_lifespans()
        asyncio.run(drop_postgres_database(url))


@pytest.fixture(scope="module")
def http(fuzz_app: Any) -> Iterator[Any]:
    """A `requests` session whose adapter calls the app in process (its lifespan runs once)."""
    with asgi.get_client(fuzz_app) as client:
        yield client


@pytest.fixture(scope="module")
def member_headers(http: Any) -> dict[str, str]:
    """A bearer token of a member (and admin) of a fresh enterprise."""
    body = {
        "email": f"fuzz-{uuid.uuid4().hex[:8]}@example.vn",
        "password": PASSWORD,
        "full_name": "Phạm Minh Đức",
        "organization": {"name": "Công ty Kiểm thử", "kind": "enterprise", "country": "VN"},
    }
    response = http.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['tokens']['access_token']}"}


# The document does not depend on the database: load it at collection, call the app in the tests.
# A copy of the run's document (built once per process): schemathesis must not change the one the
# contract recorder checks the run against.
schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document()), config=SchemathesisConfig.from_dict(CONFIG))


@schema.parametrize()
@settings(deadline=timedelta(seconds=10), derandomize=True)
def test_anonymous(case: Any, http: Any) -> None:
    case.call_and_validate(base_url=BASE_URL, session=http)


@schema.parametrize()
@settings(deadline=timedelta(seconds=10), derandomize=True)
def test_member(case: Any, http: Any, member_headers: dict[str, str]) -> None:
    case.call_and_validate(base_url=BASE_URL, session=http, headers=member_headers)
