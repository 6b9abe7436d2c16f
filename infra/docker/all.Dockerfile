# All three queues in one worker pool: the small-deployment option (one Railway service).
# Build from the repository root:  docker build -f infra/docker/all.Dockerfile .
#
# No BuildKit cache mounts on purpose: Railway's builder rejects a cache mount whose id is not
# the literal "s/<service-id>-..." of one Railway service. The dependency layer below is
# cached by Docker's layer cache instead, and is rebuilt only when uv.lock changes.

FROM python:3.11-slim-trixie AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_NO_CACHE=1
WORKDIR /app

# Third-party dependencies of the three services, from the lock.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-workspace \
    --package shelfready-recognition --package shelfready-listing --package shelfready-imagegen

# The shared core and the services, installed as wheels (no source tree in the image).
COPY libs/core libs/core
COPY libs/runner libs/runner
COPY services/recognition services/recognition
COPY services/listing services/listing
COPY services/imagegen services/imagegen
RUN uv sync --frozen --no-dev --no-editable \
    --package shelfready-recognition --package shelfready-listing --package shelfready-imagegen


FROM python:3.11-slim-trixie
# The app's own writable folder (local storage fallback); the code stays root-owned.
RUN groupadd --system --gid 10001 shelfready \
    && useradd --system --uid 10001 --gid shelfready --home-dir /app --no-create-home shelfready \
    && mkdir -p /app/data \
    && chown shelfready:shelfready /app/data
COPY --from=builder /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001

# The pool gets SIGTERM, lets running jobs finish, then exits 0 (Railway: drainingSeconds).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=15s --start-period=30s --retries=3 \
    CMD ["shelfready", "health", "--service", "all"]
CMD ["shelfready", "worker", "all"]
