"""Run Alembic migrations programmatically (CLI, tests) and check that a database is migrated."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


class SchemaNotCurrentError(RuntimeError):
    """The database's schema is older than this code expects: it must be migrated before serving."""


def schema_revisions(connection: Connection) -> tuple[set[str], set[str], set[str]]:
    """(the database's revisions, the code's heads, every revision the code knows)."""
    script = ScriptDirectory.from_config(alembic_config(""))
    current = set(MigrationContext.configure(connection).get_current_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    return current, set(script.get_heads()), known


async def require_current_schema(engine: AsyncEngine) -> None:
    """Refuse to serve on a schema behind head (migrations are a separate, one-off step).

    A schema *ahead* of the code (a newer release migrated first, during a rolling deploy) is
    served: migrations add before they remove, so the older code still finds what it uses.
    """
    async with engine.connect() as connection:
        current, heads, known = await connection.run_sync(schema_revisions)
    if current == heads or current - known:
        return
    raise SchemaNotCurrentError(
        f"the database schema is at {', '.join(sorted(current)) or 'no revision (empty database)'} but this "
        f"release needs {', '.join(sorted(heads))}: run `techex migrate` (the compose `migrate` service) first"
    )
