"""Documents end to end on the filesystem backend, and the same storage contract on S3 when one is configured."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from obstore.store import LocalStore
from openpyxl import Workbook
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.config import DocumentStorageKind
from app.documents.storage import ObjectStorage, create_storage
from app.models import Account
from tests.conftest import make_settings
from tests.helpers import Registered, create_listing, expect, grant_mandate, make_staff, register

BASE = "/api/v1/documents"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _xlsx() -> bytes:
    book = Workbook()
    book.active.append(["Hồ sơ công nghệ", 1])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _stored(root: Path) -> dict[str, bytes]:
    """The files the storage holds, by path."""
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


class EicarScanner:
    """A stand-in for a real scanner: refuses the EICAR test signature (inside any file)."""

    name = "eicar"

    async def scan(self, data: bytes) -> str | None:
        return "EICAR-Test-File" if EICAR in data else None


@pytest.fixture
def storage_dir(app: FastAPI, tmp_path: Path) -> Path:
    root = tmp_path / "documents"
    root.mkdir()
    app.state.document_storage = ObjectStorage(LocalStore(root))
    return root


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def _upload(
    client: AsyncClient,
    who: Registered,
    attached_to: str,
    attached_id: str,
    content: bytes = PDF,
    name: str = "hồ sơ công nghệ.pdf",
    **form: str,
) -> dict:
    response = await client.post(
        BASE,
        data={"attached_to": attached_to, "attached_id": attached_id, **form},
        files={"file": (name, content, "application/octet-stream")},
        headers=who.headers,
    )
    return expect(response, 201)


async def test_upload_link_download_delete_on_the_filesystem(
    client: AsyncClient, moderator: Registered, storage_dir: Path
) -> None:
    owner = await register(client, kind="institute")
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    document = await _upload(client, owner, "offer", offer["id"], kind="technology_dossier", visibility="public")
    assert document["content_type"] == "application/pdf", "read from the content, not the claimed type"
    assert (document["size"], document["sha256"]) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert (document["attached_to"], document["attached_id"]) == ("offer", offer["id"])
    assert document["scan_status"] == "not_scanned"
    stored = _stored(storage_dir)
    assert list(stored.values()) == [PDF]
    assert all("hồ sơ" not in name for name in stored), "stored under an opaque key, not the file name"

    reader = await register(client)
    listed = expect(
        await client.get(BASE, params={"attached_to": "offer", "attached_id": offer["id"]}, headers=reader.headers), 200
    )
    assert [d["id"] for d in listed["items"]] == [document["id"]]
    link = expect(await client.post(f"{BASE}/{document['id']}/link", headers=reader.headers), 200)
    assert link["url"].startswith("/api/v1/documents/download/")
    download = await client.get(link["url"])  # no credentials
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''h%E1%BB%93%20s%C6%A1" in download.headers["content-disposition"]

    tampered = link["url"][:-2] + ("AA" if not link["url"].endswith("AA") else "BB")
    assert expect(await client.get(tampered), 404)["code"] == "DownloadLinkInvalid"
    assert (await client.delete(f"{BASE}/{document['id']}", headers=reader.headers)).status_code == 403
    assert (await client.delete(f"{BASE}/{document['id']}", headers=owner.headers)).status_code == 204
    assert _stored(storage_dir) == {}
    assert (await client.get(link["url"])).status_code == 404


async def test_links_expire(app: FastAPI, client: AsyncClient, moderator: Registered, storage_dir: Path) -> None:
    owner = await register(client)
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    document = await _upload(client, owner, "offer", offer["id"])
    link = expect(await client.post(f"{BASE}/{document['id']}/link", headers=owner.headers), 200)
    app.state.settings.document_link_seconds = -1  # every link is now past its age
    try:
        assert expect(await client.get(link["url"]), 410)["code"] == "DownloadLinkExpired"
    finally:
        app.state.settings.document_link_seconds = 600


async def test_types_sizes_and_the_scanner_are_checked(
    app: FastAPI, client: AsyncClient, moderator: Registered, storage_dir: Path
) -> None:
    owner = await register(client)
    offer = await create_listing(client, owner, moderator=moderator)
    path = {"attached_to": "offer", "attached_id": offer["id"]}

    async def send(content: bytes, name: str = "x.pdf") -> dict:
        response = await client.post(
            BASE, data=path, files={"file": (name, content, "application/pdf")}, headers=owner.headers
        )
        return {"status": response.status_code, **response.json()}

    exe = await send(b"MZ\x90\x00" + b"\0" * 60, "dossier.pdf")
    assert (exe["status"], exe["code"]) == (415, "UnsupportedDocumentType"), "a name or a claimed type is not enough"
    assert (await send(b"plain text"))["status"] == 415
    assert (await send(b""))["status"] == 422
    xlsx = await send(_xlsx(), "bang.xlsx")
    assert xlsx["content_type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    app.state.settings.document_max_bytes = 64
    try:
        too_big = await send(PDF + b"\0" * 100)
        assert (too_big["status"], too_big["code"]) == (413, "DocumentTooLarge")
    finally:
        app.state.settings.document_max_bytes = 10 * 1_048_576

    app.state.document_scanner = EicarScanner()
    infected = await send(PDF + EICAR)
    assert (infected["status"], infected["code"]) == (422, "DocumentInfected")
    clean = await send(PDF)
    assert clean["scan_status"] == "clean"
    assert len(_stored(storage_dir)) == 2, "refused files are never stored"


async def test_visibility_per_document(client: AsyncClient, moderator: Registered, storage_dir: Path) -> None:
    owner, stranger = await register(client), await register(client)
    broker = await register(client, kind="intermediary")
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    private = await _upload(client, owner, "offer", offer["id"], kind="certificate")
    public = await _upload(client, owner, "offer", offer["id"], visibility="public")
    assert (await client.get(f"{BASE}/{private['id']}", headers=stranger.headers)).status_code == 404
    expect(await client.get(f"{BASE}/{public['id']}", headers=stranger.headers), 200)
    assert (await client.post(f"{BASE}/{private['id']}/link", headers=stranger.headers)).status_code == 404
    listed = expect(
        await client.get(BASE, params={"attached_to": "offer", "attached_id": offer["id"]}, headers=stranger.headers),
        200,
    )
    assert [d["id"] for d in listed["items"]] == [public["id"]]
    # attaching to someone else's listing: refused alike whether it exists or not
    refused = await client.post(
        BASE,
        data={"attached_to": "offer", "attached_id": offer["id"]},
        files={"file": ("x.pdf", PDF)},
        headers=stranger.headers,
    )
    assert expect(refused, 422)["errors"][0]["loc"] == ["body", "attached_id"]
    await grant_mandate(client, owner, broker)
    by_broker = await _upload(client, broker, "offer", offer["id"])
    expect(await client.get(f"{BASE}/{by_broker['id']}", headers=owner.headers), 200)


async def test_deal_and_service_request_documents_are_for_their_parties(
    client: AsyncClient, moderator: Registered, storage_dir: Path
) -> None:
    owner, buyer, stranger = await register(client), await register(client), await register(client)
    provider = await register(client, kind="intermediary")
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    deal = expect(
        await client.post(
            "/api/v1/deals",
            json={"offer_id": offer["id"], "buyer_organization_id": buyer.organization_id, "deal_type": "licence"},
            headers=owner.headers,
        ),
        201,
    )
    contract = await _upload(client, buyer, "deal", deal["id"], kind="contract")
    expect(await client.get(f"{BASE}/{contract['id']}", headers=owner.headers), 200)
    assert (await client.get(f"{BASE}/{contract['id']}", headers=stranger.headers)).status_code == 404
    public_deal = await client.post(
        BASE,
        data={"attached_to": "deal", "attached_id": deal["id"], "visibility": "public"},
        files={"file": ("x.pdf", PDF)},
        headers=owner.headers,
    )
    assert public_deal.status_code == 422

    body = {"service_type": "valuation", "subject_type": "offer", "subject_id": offer["id"], "title": "Định giá"}
    request = expect(await client.post("/api/v1/service-requests", json=body, headers=owner.headers), 201)
    brief = await _upload(client, owner, "service_request", request["id"])
    assert (await client.get(f"{BASE}/{brief['id']}", headers=provider.headers)).status_code == 404
    quote = expect(
        await client.post(
            f"/api/v1/service-requests/{request['id']}/quotes",
            json={"fee": "1000000", "days": 5},
            headers=provider.headers,
        ),
        201,
    )
    expect(
        await client.post(
            f"/api/v1/service-requests/{request['id']}/accept", json={"quote_id": quote["id"]}, headers=owner.headers
        ),
        200,
    )
    expect(await client.get(f"{BASE}/{brief['id']}", headers=provider.headers), 200)
    deliverable = await _upload(client, provider, "service_request", request["id"], kind="deliverable")
    expect(await client.get(f"{BASE}/{deliverable['id']}", headers=owner.headers), 200)


async def _refuse_audit(connection: AsyncConnection, record_type: str, action: str) -> None:
    """Make the database refuse the audit entry of `action` on a `record_type`, as a constraint would: a
    document's entry is written after its file is stored or removed, and reaches the database only when the
    commit flushes it; a listing's or an organisation's deletion writes its entry after its documents' files
    were set to go on commit. Created in the test's transaction, so it is rolled back with it."""
    if connection.dialect.name == "sqlite":
        statements = [
            f"""CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry
            WHEN NEW.record_type = '{record_type}' AND NEW.action = '{action}'
            BEGIN SELECT RAISE(ABORT, 'audit entry refused'); END"""
        ]
    else:
        statements = [
            """CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit entry refused' USING ERRCODE = 'check_violation'; END $$""",
            f"""CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry FOR EACH ROW
            WHEN (NEW.record_type = '{record_type}' AND NEW.action = '{action}')
            EXECUTE FUNCTION refuse_audit()""",
        ]
    for statement in statements:
        await connection.execute(text(statement))


async def test_an_upload_whose_transaction_fails_leaves_no_file(
    client: AsyncClient, db_connection: AsyncConnection, moderator: Registered, storage_dir: Path
) -> None:
    """The database itself refuses the commit (a trigger on the upload's audit entry, which is flushed at commit,
    after the file was stored), so the real storage, unit of work and rollback run, with nothing mocked."""
    owner = await register(client)
    offer = await create_listing(client, owner, moderator=moderator)
    await _refuse_audit(db_connection, "document", "create")
    refused = await client.post(
        BASE,
        data={"attached_to": "offer", "attached_id": offer["id"]},
        files={"file": ("a.pdf", PDF)},
        headers=owner.headers,
    )
    assert expect(refused, 409)["code"] == "IntegrityConflict"
    assert _stored(storage_dir) == {}, "the stored file went with the row"
    assert expect(await client.get(BASE, headers=owner.headers), 200)["total"] == 0


async def test_a_deletion_whose_transaction_fails_keeps_the_file(
    client: AsyncClient, db_connection: AsyncConnection, moderator: Registered, storage_dir: Path
) -> None:
    """As above, the database refuses the deletion's commit: the document and its file both stay."""
    owner = await register(client)
    offer = await create_listing(client, owner, moderator=moderator)
    document = await _upload(client, owner, "offer", offer["id"])
    await _refuse_audit(db_connection, "document", "delete")
    refused = await client.delete(f"{BASE}/{document['id']}", headers=owner.headers)
    assert expect(refused, 409)["code"] == "IntegrityConflict"
    assert list(_stored(storage_dir).values()) == [PDF]
    link = expect(await client.post(f"{BASE}/{document['id']}/link", headers=owner.headers), 200)
    assert (await client.get(link["url"])).content == PDF


def _stored_ids(root: Path) -> set[str]:
    """The documents whose files the storage holds (a file's name is its document's id)."""
    return {Path(path).name for path in _stored(root)}


async def _delete_offer(client: AsyncClient, who: Registered, offer: dict) -> Response:
    headers = {**who.headers, "If-Match": f'"{offer["version"]}"'}
    return await client.delete(f"/api/v1/offers/{offer['id']}", headers=headers)


async def test_deleting_a_listing_removes_its_documents_files(client: AsyncClient, storage_dir: Path) -> None:
    owner = await register(client)
    offer, other = await create_listing(client, owner), await create_listing(client, owner)
    dossier = await _upload(client, owner, "offer", offer["id"], kind="technology_dossier")
    certificate = await _upload(client, owner, "offer", offer["id"], kind="certificate")
    kept = await _upload(client, owner, "offer", other["id"])
    assert _stored_ids(storage_dir) == {dossier["id"], certificate["id"], kept["id"]}
    expect(await _delete_offer(client, owner, offer), 204)
    assert _stored_ids(storage_dir) == {kept["id"]}, "the deleted listing's files went with its documents"
    for gone in (dossier, certificate):
        assert (await client.get(f"{BASE}/{gone['id']}", headers=owner.headers)).status_code == 404


async def test_a_listing_deletion_whose_transaction_fails_keeps_its_documents_files(
    client: AsyncClient, db_connection: AsyncConnection, storage_dir: Path
) -> None:
    """The database refuses the deletion (a trigger on its audit entry) after the files were set to go on commit:
    the listing, its document and the file all stay."""
    owner = await register(client)
    offer = await create_listing(client, owner)
    document = await _upload(client, owner, "offer", offer["id"])
    await _refuse_audit(db_connection, "offer", "delete")
    assert expect(await _delete_offer(client, owner, offer), 409)["code"] == "IntegrityConflict"
    assert _stored_ids(storage_dir) == {document["id"]}
    expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=owner.headers), 200)
    link = expect(await client.post(f"{BASE}/{document['id']}/link", headers=owner.headers), 200)
    assert (await client.get(link["url"])).content == PDF


async def test_deleting_an_organisation_removes_its_documents_files(
    client: AsyncClient, session: AsyncSession, moderator: Registered, storage_dir: Path
) -> None:
    """Its own documents go, and so do those its provider attached to its service requests (deleted with it)."""
    seller, buyer = await register(client), await register(client)
    provider = await register(client, kind="intermediary")
    offer = await create_listing(client, seller, status="published", moderator=moderator)
    interest = expect(
        await client.post(
            "/api/v1/interests", json={"listing_id": offer["id"], "message": "Quan tâm"}, headers=buyer.headers
        ),
        201,
    )
    body = {
        "service_type": "negotiation",
        "subject_type": "interest",
        "subject_id": interest["id"],
        "title": "Đàm phán",
    }
    request = expect(await client.post("/api/v1/service-requests", json=body, headers=buyer.headers), 201)
    quote = expect(
        await client.post(
            f"/api/v1/service-requests/{request['id']}/quotes",
            json={"fee": "1000000", "days": 5},
            headers=provider.headers,
        ),
        201,
    )
    expect(
        await client.post(
            f"/api/v1/service-requests/{request['id']}/accept", json={"quote_id": quote["id"]}, headers=buyer.headers
        ),
        200,
    )
    brief = await _upload(client, buyer, "service_request", request["id"])
    deliverable = await _upload(client, provider, "service_request", request["id"], kind="deliverable")
    kept = await _upload(client, seller, "offer", offer["id"])
    # only an organisation without accounts is deleted: its one account moves out, as an administrator would
    await session.execute(
        update(Account)
        .where(Account.organization_id == uuid.UUID(buyer.organization_id))
        .values(organization_id=uuid.UUID(seller.organization_id))
    )
    await session.commit()
    admin = await make_staff(client, session, "admin")
    expect(await client.delete(f"/api/v1/organizations/{buyer.organization_id}", headers=admin.headers), 204)
    assert _stored_ids(storage_dir) == {kept["id"]}
    for gone in (brief, deliverable):
        assert (await client.get(f"{BASE}/{gone['id']}", headers=admin.headers)).status_code == 404


S3_SETTINGS = {
    "s3_endpoint_url": os.environ.get("TEST_S3_ENDPOINT_URL"),
    "s3_bucket": os.environ.get("TEST_S3_BUCKET", "techex-test"),
    "s3_access_key_id": os.environ.get("TEST_S3_ACCESS_KEY_ID"),
    "s3_secret_access_key": os.environ.get("TEST_S3_SECRET_ACCESS_KEY"),
    "s3_region": os.environ.get("TEST_S3_REGION", "us-east-1"),
}


S3_SKIP = pytest.mark.skipif(
    not S3_SETTINGS["s3_endpoint_url"],
    reason="S3 test skipped: set TEST_S3_ENDPOINT_URL (and TEST_S3_BUCKET, TEST_S3_ACCESS_KEY_ID, "
    "TEST_S3_SECRET_ACCESS_KEY) to run it against an S3-compatible server such as MinIO",
)


@S3_SKIP
async def test_the_same_storage_contract_on_s3() -> None:
    settings = make_settings(document_storage=DocumentStorageKind.S3, **S3_SETTINGS)
    storage = create_storage(settings)
    key = f"documents/test-{uuid.uuid4()}"
    await storage.put(key, PDF, "application/pdf")
    assert await storage.get(key) == PDF
    await storage.delete(key)
    with pytest.raises(FileNotFoundError):
        await storage.get(key)


@S3_SKIP
async def test_upload_and_download_through_s3(app: FastAPI, client: AsyncClient, moderator: Registered) -> None:
    app.state.document_storage = create_storage(make_settings(document_storage=DocumentStorageKind.S3, **S3_SETTINGS))
    owner = await register(client)
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    document = await _upload(client, owner, "offer", offer["id"], visibility="public")
    link = expect(await client.post(f"{BASE}/{document['id']}/link", headers=owner.headers), 200)
    download = await client.get(link["url"])
    assert (download.status_code, download.content) == (200, PDF)
    assert (await client.delete(f"{BASE}/{document['id']}", headers=owner.headers)).status_code == 204


async def test_an_upload_retried_with_its_idempotency_key_is_stored_once(
    client: AsyncClient, moderator: Registered, storage_dir: Path
) -> None:
    owner = await register(client)
    offer = await create_listing(client, owner, moderator=moderator)
    headers = {**owner.headers, "Idempotency-Key": "upload-ho-so-1"}
    form = {"attached_to": "offer", "attached_id": offer["id"]}
    first = expect(await client.post(BASE, data=form, files={"file": ("a.pdf", PDF)}, headers=headers), 201)
    again = await client.post(BASE, data=form, files={"file": ("a.pdf", PDF)}, headers=headers)
    assert expect(again, 201)["id"] == first["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(_stored(storage_dir)) == 1
