# gitlab-mcp: two stages; the runtime image has no compiler and runs as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/db.sqlite3
RUN useradd --system --uid 10001 --home-dir /app gitlab-mcp && mkdir /data && chown gitlab-mcp /data
WORKDIR /app
COPY --from=build /venv /venv
COPY --chown=gitlab-mcp . .
# Static files for the admin are collected at build time and served by whitenoise.
RUN GITLAB_TOKEN=build-only python manage.py collectstatic --noinput -v 0
USER gitlab-mcp
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/health', timeout=4)"
# Migrations, then Daphne: the same command as the README's.
CMD ["python", "manage.py", "serve"]
