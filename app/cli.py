"""`techex`: the command-line entry point (serve, worker, migrate, seed, meili-keys, reindex, retag, import, harvest,
create-account, export-openapi)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from pathlib import Path
from typing import Annotated

import typer

from app.accounts.permissions import Role
from app.config import Environment, get_settings
from app.organizations.schemas import OrganizationKind

cli = typer.Typer(help="Technology exchange backend.", no_args_is_help=True)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind [default: HOST, 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: PORT, 8000].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [default: WEB_CONCURRENCY, 1].", min=1)] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes.")] = False,
) -> None:
    """Serve the API with uvicorn."""
    import os
    import tempfile

    import uvicorn

    from app.config import refuse_development_secret_off_loopback

    settings = get_settings()
    host = host or settings.host
    workers = workers or settings.web_concurrency
    try:
        refuse_development_secret_off_loopback(settings.secret_key, host)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    if workers > 1 and settings.redis_url is None:
        typer.echo(
            f"warning: {workers} workers count failed sign-ins separately; set REDIS_URL to share the counts",
            err=True,
        )
    # Each worker sizes its database pool as its share of DATABASE_MAX_CONNECTIONS;
    # the workers read their count from the environment they inherit.
    os.environ["WEB_CONCURRENCY"] = str(workers)
    if workers > 1 or settings.prometheus_multiproc_dir is not None:
        # Workers write their metric samples there and a scrape adds them up; a previous run's
        # samples would be counted again, so the folder starts empty.
        metrics_dir = settings.prometheus_multiproc_dir or Path(tempfile.mkdtemp(prefix="techex-metrics-"))
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        log_config=None,
        access_log=False,
        # The app trusts X-Forwarded-* from FORWARDED_ALLOW_IPS only (uvicorn would trust 127.0.0.1).
        proxy_headers=False,
        server_header=False,  # don't advertise the server software and version
        log_level=settings.log_level.lower(),
    )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database schema (`alembic upgrade head`)."""
    from app.migrations import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database migrated to {revision}")


@cli.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo data set.")] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when the database holds data.")] = False,
) -> None:
    """Load data: `--demo` loads the demonstration data set and demo accounts (idempotent; not in production)."""
    from app.db import Database
    from app.seed import load_demo_data

    if not demo:
        raise typer.BadParameter("say what to load, e.g. --demo")
    if get_settings().environment is Environment.PRODUCTION:
        # The demo accounts' passwords are published in the README.
        typer.echo("error: the demo data set (with its published passwords) is for development only", err=True)
        raise typer.Exit(code=2)

    async def run() -> str:
        database = Database.from_url(get_settings().database_url)
        try:
            return await load_demo_data(database, only_if_empty=if_empty)
        finally:
            await database.dispose()

    typer.echo(asyncio.run(run()))


@cli.command()
def worker() -> None:
    """Drain the search outbox, deliver webhooks, expire listings and remind owners of expert profiles about to
    turn stale, in a process of its own (API: INDEXER_IN_PROCESS=false, WEBHOOKS_IN_PROCESS=false)."""
    from app import tracing
    from app.background import run_periodically
    from app.db import Database
    from app.experts.service import expert_service
    from app.integration.harvest import harvest_periodically
    from app.listings.service import listing_service
    from app.logging import configure_logging
    from app.matching import semantic
    from app.search.indexer import Indexer
    from app.search.service import create_backend
    from app.webhooks.delivery import WebhookWorker

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    semantic.configure(settings.semantic_matching)
    if settings.worker_metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr="0.0.0.0")  # noqa: S104 - the internal network's scrape

    async def run() -> None:
        database = Database.from_url(settings.database_url)
        tracer_provider = tracing.provider_from_settings(settings)
        if tracer_provider is not None:
            tracing.instrument_clients(database.engine, tracer_provider)
        backend = create_backend(settings)
        indexer = Indexer(database, backend, batch_size=settings.indexer_batch_size)
        webhooks = WebhookWorker(database, settings)
        try:
            await backend.ensure_indexes()
            jobs = [indexer.run_forever(), webhooks.run_forever()]
            if settings.harvest_sources and settings.harvest_interval_seconds:
                jobs.append(harvest_periodically(database, settings.harvest_sources, settings.harvest_interval_seconds))
            if settings.expiry_sweep_seconds:
                jobs.append(
                    run_periodically(
                        database, settings.expiry_sweep_seconds, "expire_listings", listing_service.expire_due
                    )
                )
                reminders = functools.partial(expert_service.remind_due, settings=settings)
                jobs.append(
                    run_periodically(database, settings.expiry_sweep_seconds, "remind_stale_experts", reminders)
                )
            await asyncio.gather(*jobs)
        finally:
            await indexer.close()
            await webhooks.close()
            await backend.close()
            await database.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@cli.command("meili-keys")
def meili_keys(
    master_key: Annotated[
        str, typer.Option(envvar="MEILI_MASTER_KEY", prompt=True, hide_input=True, help="Meilisearch master key.")
    ],
    url: Annotated[str | None, typer.Option(help="Meilisearch URL [default: MEILI_URL].")] = None,
) -> None:
    """Create (once) the scoped Meilisearch keys: the API's can only search, the worker's only write the
    exchange's indexes. Prints them as environment lines for the .env file."""
    import meilisearch

    from app.search.meili_keys import SEARCH_KEY, WRITE_KEY, ensure_key

    url = url or get_settings().meili_url
    if not url:
        raise typer.BadParameter("give --url or set MEILI_URL")
    client = meilisearch.Client(url, master_key, timeout=10)
    typer.echo(f"MEILI_API_KEY_SEARCH={ensure_key(client, SEARCH_KEY)}")
    typer.echo(f"MEILI_API_KEY_WRITE={ensure_key(client, WRITE_KEY)}")


@cli.command()
def reindex(
    index: Annotated[
        list[str] | None, typer.Option("--index", help="offers, demands or organizations; all when omitted.")
    ] = None,
) -> None:
    """Rebuild search indexes from the database and swap them in (no downtime, no lost changes)."""
    from app.db import Database
    from app.search.index_config import INDEXES
    from app.search.reindex import count_documents, rebuild_index
    from app.search.service import create_backend

    chosen = index or list(INDEXES)
    unknown = [name for name in chosen if name not in INDEXES]
    if unknown:
        raise typer.BadParameter(f"unknown index {', '.join(unknown)}; choose from {', '.join(INDEXES)}")
    settings = get_settings()

    async def run() -> None:
        database = Database.from_url(settings.database_url)
        backend = create_backend(settings)
        try:
            await backend.ensure_indexes()
            for name in chosen:
                total = await count_documents(database, name)
                with typer.progressbar(length=total, label=f"reindex {name}") as bar:
                    done = 0

                    def advance(count: int) -> None:
                        nonlocal done
                        bar.update(count - done)
                        done = count

                    indexed = await rebuild_index(database, backend, name, progress=advance)
                typer.echo(f"{name}: {indexed} documents")
        finally:
            await backend.close()
            await database.dispose()

    asyncio.run(run())


@cli.command()
def retag(batch_size: Annotated[int, typer.Option(help="Records per transaction.")] = 500) -> None:
    """Infer every listing's and expert profile's concepts again now (the indexer does it by itself after a
    release that changed the taxonomy); the search index catches up by itself."""
    from app.db import Database
    from app.taxonomy import retag as retagging

    async def run() -> retagging.RetagPass:
        database = Database.from_url(get_settings().database_url)
        try:
            return await retagging.run(database, batch_size, force=True)
        finally:
            await database.dispose()

    done = asyncio.run(run())
    for kind in retagging.KINDS:
        typer.echo(f"{done.seen[kind]} {kind} read, {done.changed[kind]} with new inferred concepts")


@cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="An XLSX workbook or a UTF-8 CSV file.", exists=True, dir_okay=False)],
    kind: Annotated[str, typer.Option(help="offer, demand, organization or expert.")],
    source: Annotated[str, typer.Option(help="The file's origin; with each row's id, the external key.")] = "import",
    commit: Annotated[bool, typer.Option("--commit", help="Write the records (a dry run otherwise).")] = False,
    on_duplicate: Annotated[str, typer.Option(help="skip, update or new.")] = "update",
    publish: Annotated[bool, typer.Option("--publish", help="Publish imported listings at once.")] = False,
    errors: Annotated[Path | None, typer.Option(help="Write the rejected rows here (XLSX).")] = None,
) -> None:
    """Import offers, demands, organisations or experts from a spreadsheet with a progress bar; a dry run by default."""
    from app.audit.service import Actor
    from app.db import Database, unit_of_work
    from app.integration.external import DuplicatePolicy
    from app.integration.imports import service
    from app.integration.imports.engine import Table
    from app.integration.imports.kinds import KINDS

    if kind not in KINDS:
        raise typer.BadParameter(f"choose from {', '.join(KINDS)}", param_hint="--kind")
    policy = DuplicatePolicy(on_duplicate)
    settings = get_settings()
    content = file.read_bytes()
    total = Table(content, file.name).estimated_rows()

    async def run() -> tuple[dict[str, int], bytes | None, str | None]:
        database = Database.from_url(settings.database_url)
        try:
            with typer.progressbar(length=max(total, 1), label=f"{'import' if commit else 'check'} {file.name}") as bar:
                async with unit_of_work(database.writer) as session:
                    job = await service.create_job(
                        session,
                        None,
                        kind=kind,
                        source=source,
                        filename=file.name,
                        content=content,
                        dry_run=not commit,
                        on_duplicate=policy,
                        publish=publish,
                        mapping=None,
                        organization_id=None,
                    )
                    await service.run_job(
                        session,
                        job,
                        Actor.system(),
                        max_rows=settings.max_import_rows,
                        progress=lambda done: bar.update(done - bar.pos),
                    )
                    return dict(job.counts), job.error_file, job.failure
        finally:
            await database.dispose()

    counts, error_file, failure = asyncio.run(run())
    if failure:
        typer.echo(f"error: {failure}", err=True)
    typer.echo(", ".join(f"{count} {name}" for name, count in counts.items()))
    if error_file is not None and errors is not None:
        errors.write_bytes(error_file)
        typer.echo(f"rejected rows written to {errors}")
    if failure or counts.get("rejected"):
        raise typer.Exit(code=1)


@cli.command()
def harvest(
    url: Annotated[str, typer.Argument(help="Base URL of the other exchange, e.g. https://san.example.vn.")],
    source: Annotated[str | None, typer.Option(help="Name of the source [default: the URL's host].")] = None,
    page_size: Annotated[int, typer.Option(help="Feed entries per request.", min=1, max=100)] = 100,
    max_pages: Annotated[int | None, typer.Option(help="Stop after this many pages.", min=1)] = None,
    delay: Annotated[float, typer.Option(help="Seconds to wait between entries, to spare the source.", min=0)] = 0.0,
) -> None:
    """Pull another exchange's change feed and import it (resumes where the last run stopped)."""
    from urllib.parse import urlsplit

    from app.db import Database
    from app.integration.harvest import Harvester, HarvestError

    name = source or urlsplit(url).netloc or url

    async def run() -> str:
        database = Database.from_url(get_settings().database_url)
        try:
            with typer.progressbar(length=1, label=f"harvest {name}") as bar:

                def advance(done: int, remaining: int) -> None:
                    bar.length = done + remaining
                    bar.update(done - bar.pos)

                harvester = Harvester(database, name, url, page_size=page_size, delay=delay)
                result = await harvester.run(max_pages=max_pages, progress=advance)
        finally:
            await database.dispose()
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(result.outcomes.items())) or "nothing new"
        rejected = f"; {len(result.rejected)} rejected" if result.rejected else ""
        return f"{name}: {result.entries} entries in {result.pages} pages ({counts}){rejected}"

    try:
        typer.echo(asyncio.run(run()))
    except HarvestError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None


@cli.command("create-account")
def create_account(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    organization: Annotated[str, typer.Option(help="Organisation name; created when missing.")],
    role: Annotated[Role, typer.Option(help="Platform role.")] = Role.ADMIN,
    kind: Annotated[OrganizationKind, typer.Option(help="Kind, when the organisation is created.")] = (
        OrganizationKind.GOVERNMENT
    ),
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2, when created.")] = "VN",
    full_name: Annotated[str, typer.Option(help="The person's name.")] = "Administrator",
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted when omitted."),
    ] = "",
) -> None:
    """Create an account with any platform role (bootstraps the first administrator)."""
    from app.accounts.service import account_service
    from app.db import Database, unit_of_work
    from app.errors import AppError
    from app.organizations.schemas import OrganizationCreate

    async def run() -> str:
        database = Database.from_url(get_settings().database_url)
        try:
            async with unit_of_work(database.writer) as session:
                account = await account_service.create_account(
                    session,
                    email=email,
                    password=password,
                    full_name=full_name,
                    role=role,
                    organization=OrganizationCreate(name=organization, kind=kind, country=country),
                )
                return f"created {account.role} {account.email} ({account.id})"
        finally:
            await database.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except AppError as error:
        typer.echo(f"error: {error.title}: {error.detail or ''}".rstrip(": "), err=True)
        for field_error in error.errors or []:
            typer.echo(f"  {field_error.msg}", err=True)
        raise typer.Exit(code=1) from None


@cli.command("export-openapi")
def export_openapi(
    output: Annotated[Path | None, typer.Option(help="File to write; standard output when omitted.")] = None,
) -> None:
    """Write the OpenAPI document as YAML (or JSON when the file name ends in .json)."""
    from app.api.openapi import render_openapi

    text = render_openapi(json_format=output is not None and output.suffix == ".json")
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


if __name__ == "__main__":
    cli()
