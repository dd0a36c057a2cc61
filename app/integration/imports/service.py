"""Running an import: a dry run that validates every row, or a commit that writes them all in one
transaction through the idempotent external-key path (`app.integration.external`).

Reading and validating the file runs in a worker thread, a chunk at a time, so a large file neither
blocks the event loop nor sits in memory as a whole; only the rejected rows are kept, for the report
and the error file.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.permissions import Permission, Principal
from app.audit.service import Actor
from app.errors import PermissionDeniedError
from app.integration import repository
from app.integration.exceptions import (
    ImportAlreadyCommittedError,
    ImportNotFoundError,
    ImportTooLargeError,
    UnreadableImportFileError,
)
from app.integration.external import (
    DuplicatePolicy,
    Outcome,
    Provenance,
    References,
    save_expert,
    save_listing,
    save_organization,
)
from app.integration.imports.base import ImportKind, external_key
from app.integration.imports.engine import (
    ColumnMatch,
    RowError,
    RowResult,
    Table,
    UnreadableFileError,
    apply_mapping,
    error_workbook,
    validate_row,
)
from app.integration.imports.kinds import KINDS
from app.listings.schemas import ListingKind, ListingStatus
from app.models import Expert, ImportJob, Organization
from app.models.base import utcnow
from app.search.text import fold
from app.webhooks import events as webhooks

CHUNK = 500
MAX_REPORTED_ERRORS = 1000
Progress = Callable[[int], None]


def require_importer(principal: Principal) -> None:
    """Bulk imports create records for many organisations: staff only."""
    if not principal.has(Permission.MODERATE_RECORDS):
        raise PermissionDeniedError("Only moderators and administrators import files.")


def _organization_key(name: str) -> str:
    return f"name:{fold(name)}"[:128]


def _values(payload: Any) -> dict[str, Any]:
    """A validated create payload as column values (amounts and dates as Python values, not JSON)."""
    values: dict[str, Any] = payload.model_dump(mode="json", exclude={"organization_id", "expires_at"})
    for name in list(values):
        original = getattr(payload, name, None)
        if isinstance(original, Decimal) or name == "wanted_by":
            values[name] = original
    return values


class ImportRun:
    """One pass over a job's file; `commit` decides whether records are written."""

    def __init__(self, session: AsyncSession, job: ImportJob, actor: Actor, progress: Progress | None) -> None:
        self.session = session
        self.job = job
        self.kind: ImportKind = KINDS[job.kind]
        self.actor = actor
        self.progress = progress
        self.commit = job.mode == "commit"
        self.policy = DuplicatePolicy(job.on_duplicate)
        self.counts = {o.value: 0 for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.SKIPPED)}
        self.counts["rejected"] = 0
        self.rejected: list[RowResult] = []
        self.seen_keys: set[str] = set()
        self.owners: dict[str, Organization] = {}
        self.references = References()

    async def execute(self, max_rows: int) -> None:
        job = self.job
        try:
            table = await asyncio.to_thread(Table, job.content, job.filename)
        except UnreadableFileError as error:
            raise UnreadableImportFileError(str(error)) from None
        given = job.mapping.get("given") if job.mapping else None
        matches, header_errors = apply_mapping(self.kind, table.headers, given)
        job.mapping = {"given": given, "columns": [asdict(m) for m in matches]}
        if header_errors:
            self._finish(table.headers, header_errors, failed="The columns do not fit this kind of record.")
            return
        rows = table.rows()

        def read_next() -> asyncio.Future[list[RowResult]]:
            return asyncio.ensure_future(asyncio.to_thread(self._validated_chunk, rows, matches, table.headers))

        # The next chunk is read and validated in its thread while this one is written.
        pending = read_next()
        try:
            while chunk := await pending:
                if job.processed_rows + len(chunk) > max_rows:
                    raise ImportTooLargeError(f"A file may hold at most {max_rows} rows; split it.")
                pending = read_next()
                await self._apply(chunk)
                job.processed_rows += len(chunk)
                if self.progress is not None:
                    self.progress(job.processed_rows)
        finally:
            if not pending.done():
                await asyncio.wait([pending])  # the reading thread finishes its chunk before the file closes
        job.total_rows = job.processed_rows
        self._finish(table.headers, [])

    def _validated_chunk(
        self, rows: Iterator[tuple[int, list[Any]]], matches: list[ColumnMatch], headers: list[str]
    ) -> list[RowResult]:
        return [validate_row(self.kind, matches, headers, n, values) for n, values in itertools.islice(rows, CHUNK)]

    def _key(self, result: RowResult) -> str:
        if self.kind.name == "organization":
            return external_key(result.parsed, "name")
        if self.kind.name == "expert":
            return external_key(result.parsed, "organization", "name")
        return external_key(result.parsed, "organization", "title", "technology_need")

    async def _apply(self, chunk: list[RowResult]) -> None:
        valid = []
        for result in chunk:
            if not result.errors:
                result.key = self._key(result)
                if result.key in self.seen_keys:
                    result.errors.append(
                        RowError(result.row, None, "external_id", "duplicate_in_file", "the file repeats this record")
                    )
                self.seen_keys.add(result.key)
            if result.errors:
                self._reject(result)
            else:
                valid.append(result)
        keys = [r.key for r in valid if r.key]
        with self.session.no_autoflush:
            await self._save_valid(valid, keys)
        if self.commit:
            await self.session.flush()

    async def _save_valid(self, valid: list[RowResult], keys: list[str]) -> None:
        """Write (or, in a dry run, predict) the valid rows of one chunk; the chunk is flushed once."""
        if self.kind.name == "organization":
            existing_orgs = await repository.organizations_by_keys(self.session, self.job.source, keys)
            for result in valid:
                await self._save_organization(result, existing_orgs.get(result.key or ""))
        elif self.kind.name == "expert":
            experts = await repository.experts_by_keys(self.session, self.job.source, keys)
            await self._resolve_owners([r.parsed["organization"] for r in valid])
            for result in valid:
                await self._save_expert(result, experts.get(result.key or ""))
        else:
            existing = await repository.listings_by_keys(self.session, self.job.source, keys)
            await self._resolve_owners([r.parsed["organization"] for r in valid])
            for result in valid:
                await self._save_listing(result, existing.get(result.key or ""))

    def _reject(self, result: RowResult) -> None:
        self.counts["rejected"] += 1
        self.rejected.append(result)

    def _count(self, outcome: Outcome) -> None:
        self.counts[outcome.value] += 1

    def _planned(self, found: Any) -> Outcome:
        """What a dry run predicts for a row whose key found `found`."""
        if found is None or self.policy is DuplicatePolicy.NEW:
            return Outcome.CREATED
        return Outcome.SKIPPED if self.policy is DuplicatePolicy.SKIP else Outcome.UPDATED

    async def _save_organization(self, result: RowResult, found: Organization | None) -> None:
        if not self.commit:
            self._count(self._planned(found))
            return
        values = result.payload.model_dump(mode="json")  # type: ignore[union-attr]
        _, outcome = await save_organization(
            self.session,
            self.actor,
            Provenance(self.job.source, result.key),
            values,
            self.policy,
            existing=found,
            looked_up=True,
        )
        self._count(outcome)

    async def _resolve_owners(self, names: list[str]) -> None:
        missing = sorted({n for n in names if n not in self.owners})
        if not missing:
            return
        self.owners.update(await repository.organizations_by_names(self.session, missing))
        by_key = await repository.organizations_by_keys(
            self.session, self.job.source, [_organization_key(n) for n in missing if n not in self.owners]
        )
        for name in missing:
            if name not in self.owners and _organization_key(name) in by_key:
                self.owners[name] = by_key[_organization_key(name)]

    async def _owner(self, result: RowResult) -> Organization | None:
        name = result.parsed["organization"]
        if name in self.owners or not self.commit:
            return self.owners.get(name)
        payload = {"name": name, "kind": result.parsed.get("organization_kind") or "enterprise", "country": "VN"}
        if result.parsed.get("province"):
            payload["province"] = result.parsed["province"]
        organization, _ = await save_organization(
            self.session, self.actor, Provenance(self.job.source, _organization_key(name)), payload, looked_up=True
        )
        await self.session.flush()  # the owner's row must precede its listings' (no ORM relationship orders them)
        self.owners[name] = organization
        return organization

    async def _save_listing(self, result: RowResult, found: Any) -> None:
        if not self.commit:
            self._count(self._planned(found))
            return
        owner = await self._owner(result)
        assert owner is not None
        status = ListingStatus.PUBLISHED if self.job.publish else ListingStatus.DRAFT
        if found is not None and not self.job.publish:
            status = ListingStatus(found.status)  # a re-upload does not unpublish
        _, outcome = await save_listing(
            self.session,
            self.actor,
            Provenance(self.job.source, result.key),
            ListingKind(self.kind.name),
            _values(result.payload),
            owner,
            status=status,
            policy=self.policy,
            existing=found,
            looked_up=True,
            references=self.references,
        )
        self._count(outcome)

    async def _save_expert(self, result: RowResult, found: Expert | None) -> None:
        if not self.commit:
            self._count(self._planned(found))
            return
        owner = await self._owner(result)
        assert owner is not None
        _, outcome = await save_expert(
            self.session,
            self.actor,
            Provenance(self.job.source, result.key),
            result.payload,  # type: ignore[arg-type]
            owner,
            self.policy,
            existing=found,
            looked_up=True,
        )
        self._count(outcome)

    def _finish(self, headers: list[str], header_errors: list[RowError], failed: str | None = None) -> None:
        job = self.job
        errors = header_errors + [e for r in self.rejected for e in r.errors]
        job.errors = [asdict(e) for e in errors[:MAX_REPORTED_ERRORS]]
        job.counts = {**self.counts, "errors": len(errors)}
        job.error_file = error_workbook(headers, self.rejected) if self.rejected else None
        job.status = "failed" if failed else "finished"
        job.failure = failed
        job.finished_at = utcnow()
        if job.organization_id is not None:  # `techex import` from the command line has no organisation
            webhooks.emit(self.session, job.organization_id, "import.finished", job.id)


async def create_job(
    session: AsyncSession,
    principal: Principal | None,
    *,
    kind: str,
    source: str,
    filename: str,
    content: bytes,
    dry_run: bool,
    on_duplicate: DuplicatePolicy,
    publish: bool,
    mapping: dict[str, str | None] | None,
    organization_id: uuid.UUID | None,
) -> ImportJob:
    job = ImportJob(
        id=uuid.uuid4(),
        kind=kind,
        source=source,
        filename=filename[:256],
        mode="dry_run" if dry_run else "commit",
        on_duplicate=on_duplicate.value,
        publish=publish,
        status="running",
        created_by_account_id=principal.account_id if principal else None,
        organization_id=organization_id,
        content=content,
        mapping={"given": mapping},
        total_rows=0,
        processed_rows=0,
        counts={},
        errors=[],
    )
    session.add(job)
    return job


async def run_job(
    session: AsyncSession, job: ImportJob, actor: Actor, *, max_rows: int, progress: Progress | None = None
) -> ImportJob:
    await ImportRun(session, job, actor, progress).execute(max_rows)
    await session.flush()
    return job


async def get_job(session: AsyncSession, import_id: uuid.UUID) -> ImportJob:
    job = await repository.get_import(session, import_id)
    if job is None:
        raise ImportNotFoundError()
    return job


async def commit_job(
    session: AsyncSession, job: ImportJob, actor: Actor, *, max_rows: int, progress: Progress | None = None
) -> ImportJob:
    """Write the rows a dry run checked (the stored file, the same mapping)."""
    if job.mode == "commit":
        raise ImportAlreadyCommittedError("This import was committed; upload the file again to re-import it.")
    job.mode = "commit"
    job.processed_rows = 0
    job.status = "running"
    return await run_job(session, job, actor, max_rows=max_rows, progress=progress)
