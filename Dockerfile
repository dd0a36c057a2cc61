# syntax=docker/dockerfile:1
# Production image: exactly the versions in uv.lock, run as an unprivileged user.
#
# Alone (`docker run`), it serves ONE process on SQLite and the embedded search engine — for trying
# the API, not for production — and needs `techex migrate` run first on its volume:
#   docker run --rm -v techex:/var/lib/techex techex-api techex migrate
#   docker run -p 8000:8000 -v techex:/var/lib/techex -e SECRET_KEY=... techex-api
# Production is docker-compose.yml: PostgreSQL, Meilisearch, Redis, a one-off `migrate` service,
# API replicas behind a proxy and a separate worker (docs/DEPLOYMENT.md).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /src
RUN pip install "uv==0.13.8"
COPY pyproject.toml uv.lock README.md ./
# Dependencies first (cached while only the code changes), then the project itself.
RUN uv sync --locked --no-dev --no-install-project
COPY app ./app
RUN uv sync --locked --no-dev --no-editable

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    DATABASE_URL=sqlite+aiosqlite:////var/lib/techex/techex.db \
    INDEX_DIR=/var/lib/techex/index \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=1
RUN groupadd --system techex && useradd --system --gid techex --home-dir /app techex \
    && mkdir -p /var/lib/techex && chown techex:techex /var/lib/techex
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=techex:techex alembic.ini ./
COPY --chown=techex:techex migrations ./migrations
COPY --chown=techex:techex app ./app
USER techex
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
# Migrations are not run here: with several replicas they would race. Run `techex migrate` once
# per release (the compose `migrate` service); the API refuses to start on an older schema.
CMD ["techex", "serve"]
