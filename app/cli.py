"""`techex`: the command-line entry point (serve, worker, migrate, seed, reindex, retag, create-account,
export-openapi)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from pathlib import Path
from typing import Annotated

import typer

from app.accounts.permissions import Role
from app.config import get_settings
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
    """Load data: `--demo` loads the demonstration data set (idempotent)."""
    from app.db import Database
    from app.seed import load_demo_data

    if not demo:
        raise typer.BadParameter("say what to load, e.g. --demo")

    async def run() -> str:
        database = Database.from_url(get_settings().database_url)
        try:
            return await load_demo_data(database, only_if_empty=if_empty)
        finally:
            await database.dispose()

    typer.echo(asyncio.run(run()))


@cli.command()
def worker() -> None:
    """Drain the search outbox, expire listings and remind owners of expert profiles about to turn stale, in a
    process of its own (API: INDEXER_IN_PROCESS=false)."""
    from app.background import run_periodically
    from app.db import Database
    from app.experts.service import expert_service
    from app.listings.service import listing_service
    from app.logging import configure_logging
    from app.search.indexer import Indexer
    from app.search.service import create_backend

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def run() -> None:
        database = Database.from_url(settings.database_url)
        backend = create_backend(settings)
        indexer = Indexer(database, backend, batch_size=settings.indexer_batch_size)
        try:
            await backend.ensure_indexes()
            jobs = [indexer.run_forever()]
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
            await backend.close()
            await database.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


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
def retag(batch_size: Annotated[int, typer.Option(help="Listings per transaction.")] = 500) -> None:
    """Infer every listing's concepts again after the taxonomy changed; the search index catches up by itself."""
    from app.db import Database, unit_of_work
    from app.listings.service import listing_service

    async def run() -> tuple[int, int]:
        database = Database.from_url(get_settings().database_url)
        seen = changed = 0
        after = None
        try:
            while True:
                async with unit_of_work(database.writer) as session:
                    after, page_seen, page_changed = await listing_service.retag_page(session, after, batch_size)
                seen, changed = seen + page_seen, changed + page_changed
                if page_seen < batch_size:
                    return seen, changed
        finally:
            await database.dispose()

    seen, changed = asyncio.run(run())
    typer.echo(f"{seen} listings read, {changed} with new inferred concepts")


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
