# gitlab-mcp: two stages; the runtime image has no compiler and runs as a non-root user.
#
#   docker build -t gitlab-mcp .
#   docker run --stop-timeout 40 -p 3000:3000 -e GITLAB_TOKEN=… -e GITLAB_API_URL=… \
#     -e PUBLIC_URL=http://localhost:3000 -e MCP_AUTH_TOKEN=… -v gitlab-mcp:/data gitlab-mcp
#
# It listens on 0.0.0.0, so it needs PUBLIC_URL (the URL clients use) and, with a static GITLAB_TOKEN,
# MCP_AUTH_TOKEN (the bearer token clients send; README "Connect a client"). Over stdio neither:
#   docker run -i --rm -e GITLAB_TOKEN=… -e GITLAB_API_URL=… gitlab-mcp python manage.py mcp_stdio
# One container migrates, then serves (the default command). Several replicas on one database run
# `python manage.py serve --no-migrate` after a single `python manage.py migrate --noinput`, as
# deploy/docker-compose.yml does (README: "Deploying for a team").
FROM python:3.11-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir --disable-pip-version-check -r requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/db.sqlite3
# The server writes only to /data (the SQLite database of a single container); its code belongs to
# root and is read-only to it.
RUN groupadd --system --gid 10001 gitlab-mcp \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin gitlab-mcp \
    && mkdir /data && chown 10001:10001 /data
WORKDIR /app
COPY --from=build /venv /venv
COPY . .
# Static files for the admin are collected at build time and served by whitenoise. Everything in
# /app readable, nothing writable, by the server's user, whatever the build context's modes were.
RUN GITLAB_TOKEN=build-only python manage.py collectstatic --noinput -v 0 && chmod -R a+rX,go-w /app
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 3000
VOLUME ["/data"]
# Liveness only (/health answers while the process serves; /ready also checks the database): a
# database outage must not get every replica marked unhealthy and restarted.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/health', timeout=4)"]
# The server finishes its in-flight requests on SIGTERM (up to SHUTDOWN_TIMEOUT, 30 s): give it
# longer than that before SIGKILL (`docker run --stop-timeout 40`, compose `stop_grace_period`).
STOPSIGNAL SIGTERM
# Migrations, then Daphne: the same command as the README's.
CMD ["python", "manage.py", "serve"]
