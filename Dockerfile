# syntax=docker/dockerfile:1
# Production image: migrations then uvicorn, as an unprivileged user.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --upgrade "pip>=25.1" && pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    DATABASE_URL=sqlite+aiosqlite:////var/lib/techex/techex.db \
    INDEX_DIR=/var/lib/techex/index
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
CMD ["sh", "-c", "techex migrate && exec techex serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
