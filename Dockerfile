# syntax=docker/dockerfile:1
# playparse: one image for the API, the workers and the migration job; the command picks the role
# (see docker-compose.yml):
#   uvicorn --factory api.app:create_app --host 0.0.0.0 --port 8000   (the default)
#   python worker.py
#   alembic upgrade head
# Dependencies come from the committed uv.lock only (--frozen); dev tools stay out (--no-dev).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# uv from PyPI, pinned, like `make install` bootstraps it.
RUN pip install --no-cache-dir --root-user-action=ignore uv==0.13.9

WORKDIR /app

# Dependencies first, from the lock file alone, so a code change reuses this layer.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project itself (its packages, the worker entry point and the migrations).
COPY alembic.ini worker.py ./
COPY playparse ./playparse
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
RUN uv sync --frozen --no-dev

# The processes run unprivileged; the code and the virtual environment stay owned by root.
RUN groupadd --system --gid 10001 playparse \
    && useradd --system --uid 10001 --gid playparse --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin playparse
USER 10001:10001

ENV PATH=/app/.venv/bin:$PATH
EXPOSE 8000
CMD ["uvicorn", "--factory", "api.app:create_app", "--host", "0.0.0.0", "--port", "8000"]
