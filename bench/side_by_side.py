"""`python -m bench.side_by_side`: this checkout beside the zereight peer in one run of
../shared/bench/bench.py, with its OAuth-mode and PostgreSQL variants (and, with --before, another
commit of the project), then the table and the issue-11 ratios into bench/RESULTS.md.

    .venv/bin/python -m bench.side_by_side --short            # a few seconds per figure (re-runs)
    .venv/bin/python -m bench.side_by_side --before 4d53ae9   # the full run, with a "before" column

Compare servers only within one run: the machine is shared, so absolute figures drift between runs,
while ratios within a run hold (every target suffers the same noise, the order rotated per repetition).

What it prepares, all under .bench-work/ (kept out of git) and .bench-peers/ (the peer's npm package,
installed when missing): a migrated SQLite database with one signed-in OAuth session whose GitLab
token is the one bench.py's fake GitLab accepts, the same in PostgreSQL (database gitlab_mcp_bench on
BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432), and `git archive` of --before.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
WORK = ROOT / ".bench-work"
PEERS = ROOT / ".bench-peers"
RESULTS = ROOT / "bench" / "RESULTS.md"
PEER_PACKAGE = "@zereight/mcp-gitlab@2.1.64"
BENCH_GITLAB_TOKEN = "glpat-bench-0123456789abcdef"  # the token ../shared/bench/nginx accepts
BEARER = "bench-mcp-access-token-0123456789abcdef"  # the seeded OAuth session's MCP access token
OAUTH_PUBLIC_URL = "http://127.0.0.1"  # fixed, so the seeded token's audience does not depend on the port
OAUTH_ENV = {
    "OAUTH_ENABLED": "true",
    "OAUTH_SESSION_SECRET": "bench-secret-0123456789-abcdefghijklmnop",
    "GITLAB_OAUTH_CLIENT_ID": "bench-gitlab-app",
    "PUBLIC_URL": OAUTH_PUBLIC_URL,
}
MARK = "Numbers from `bench/`, newest first. Each entry names the machine, the date and the command.\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true", help="5 s per figure, one repetition (about 2 minutes)")
    ap.add_argument("--before", metavar="COMMIT", help="also measure this commit of the project")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--no-oauth", action="store_true")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print the entry instead of adding it to RESULTS.md")
    ap.add_argument("--seed", metavar="DATABASE_URL", help=argparse.SUPPRESS)  # internal: run in a subprocess
    args = ap.parse_args()
    if args.seed:
        seed(args.seed)
        return 0
    timing = (
        ["--duration", "5", "--warmup", "3", "--reps", "1"]
        if args.short
        else ["--duration", "10", "--warmup", "8", "--reps", "2"]
    )
    WORK.mkdir(exist_ok=True)
    sqlite_url = f"sqlite:///{WORK / 'bench.sqlite3'}"
    prepare_database(sqlite_url)
    specs = [server("gitlab-mcp", ROOT, sqlite_url, commit())]
    if not args.no_oauth:
        specs.append(server("gitlab-mcp OAuth", ROOT, sqlite_url, commit(), oauth=True))
    if not args.no_postgres:
        postgres_url = postgres_database()
        prepare_database(postgres_url)
        specs.append(server("gitlab-mcp PostgreSQL", ROOT, postgres_url, commit()))
    if args.before:
        specs.insert(0, server("gitlab-mcp before", checkout(args.before), sqlite_url, args.before))
    if not args.no_peer:
        specs.append(peer())
    out = WORK / "results"
    command = [
        sys.executable,
        str(SHARED / "bench.py"),
        "--levels",
        "1,16",
        *timing,
        "--out",
        str(out),
        "--label",
        "side-by-side",
    ]
    for spec in specs:
        command += ["--server", json.dumps(spec)]
    started = dt.datetime.now(dt.UTC)
    done = subprocess.run(command, cwd=ROOT)
    written = newest(out, started)
    result = json.loads(written.read_text())
    tables = written.with_suffix(".md").read_text()
    entry = report(result, tables, " ".join(["python -m bench.side_by_side", *sys.argv[1:]]))
    if args.no_write:
        print(entry)
    else:
        text = RESULTS.read_text()
        RESULTS.write_text(text.replace(MARK, MARK + "\n" + entry, 1))
        print(f"added to {RESULTS.relative_to(ROOT)}")
    return done.returncode


def server(name: str, checkout: Path, database_url: str, version: str, *, oauth: bool = False) -> dict[str, Any]:
    """A spec for bench.py: the project served by Daphne as ../shared/bench/peers/gitlab-mcp.json does."""
    env = {
        "GITLAB_API_URL": "{upstream}",
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "http://127.0.0.1:{port}",
        "GITLAB_TOKEN": "{token}",
        "ENV_FILE": os.devnull,
    }
    spec: dict[str, Any] = {
        "name": name,
        "version": version,
        "cmd": [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            "{port}",
            "config.asgi:application",
        ],
        "cwd": str(checkout),
        "env": env,
        "path": "/mcp",
        "tool": "get_project",
        "arguments": {"project": "42"},
    }
    if oauth:
        env.update(OAUTH_ENV, GITLAB_TOKEN="")
        spec["headers"] = {"Authorization": f"Bearer {BEARER}"}
    return spec


def peer() -> dict[str, Any]:
    if not (PEERS / "node_modules" / "@zereight" / "mcp-gitlab").is_dir():
        subprocess.run(["npm", "install", "--prefix", str(PEERS), PEER_PACKAGE], check=True)
    spec = json.loads((SHARED / "peers" / "zereight.json").read_text())
    spec["cwd"] = str(PEERS)
    return dict(spec)


def prepare_database(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "GITLAB_TOKEN": "migrate-only", "ENV_FILE": os.devnull}
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "-m", "bench.side_by_side", "--seed", url], cwd=ROOT, env={**env, **OAUTH_ENV}, check=True)


def seed(url: str) -> None:
    """One user signed in through one client, as the OAuth flow leaves them; idempotent."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from oauth2_provider.models import set_token_value

    from oauth_gateway.models import AccessToken, Application, GitLabConnection

    user, _ = get_user_model().objects.get_or_create(username="bench")
    app, _ = Application.objects.get_or_create(
        client_id="bench-client",
        defaults={
            "name": "bench",
            "user": None,
            "client_type": "public",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": "http://127.0.0.1/callback",
        },
    )
    AccessToken.objects.filter(user=user).delete()
    connection = GitLabConnection.objects.filter(user=user, application=app).first() or GitLabConnection(
        user=user, application=app, leg="authorization_code"
    )
    connection.gitlab_scopes, connection.revoked = "api read_user", None
    connection.set_gitlab_tokens(BENCH_GITLAB_TOKEN, "")
    connection.save()
    access = AccessToken(
        user=user,
        application=app,
        connection=connection,
        scope="gitlab",
        expires=timezone.now() + timedelta(days=30),
        resource=[settings.MCP_RESOURCE_URL],
    )
    set_token_value(access, BEARER)  # the checksum the bearer check looks up
    access.save()


def postgres_database() -> str:
    import psycopg

    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(server.replace("postgres://", "postgresql://", 1) + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'gitlab_mcp_bench'").fetchone():
            conn.execute("CREATE DATABASE gitlab_mcp_bench")
    return f"{server}/gitlab_mcp_bench"


def checkout(ref: str) -> Path:
    """`ref`'s tree under .bench-work (git archive: no worktree to clean up)."""
    target = WORK / f"checkout-{ref}"
    if not target.is_dir():
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    return head.strip() + ("+changes" if dirty.strip() else "")


def newest(out: Path, since: dt.datetime) -> Path:
    """The result file bench.py wrote in this run."""
    files = sorted(out.glob("side-by-side-*.json"))
    if not files or dt.datetime.fromtimestamp(files[-1].stat().st_mtime, dt.UTC) < since:
        raise SystemExit("bench.py wrote no result")
    return files[-1]


def report(result: dict[str, Any], tables: str, command: str) -> str:
    """The RESULTS.md entry: the issue-11 ratios, then bench.py's own tables (`tables`, its .md)."""
    body = tables[tables.index("## Throughput and latency") :].replace("## ", "### ")
    meta = result["meta"]
    title = f"## Side by side (issue 11) — {meta['started_utc'][:16].replace('T', ' ')} UTC"
    lines = [
        title,
        "",
        f"Command: `{command}` (runs `../shared/bench/bench.py`; {meta['duration_s']} s × {meta['reps']} "
        f"per figure after a {meta['warmup_s']} s warm-up, `get_project`, static-token mode unless named).",
        f"Machine: {meta['machine']}, {platform.python_implementation()} {platform.python_version()}; "
        f"{meta['pinning']}; load average before/after {' '.join(meta['loadavg_before'])} / "
        f"{' '.join(meta['loadavg_after'])}. The machine is shared: compare within this run only.",
        "",
        *ratios(result["summary"]),
        "",
        body.rstrip(),
        "",
    ]
    return "\n".join(lines) + "\n"


def ratios(summary: dict[str, Any]) -> list[str]:
    def level(name: str, c: int) -> dict[str, Any] | None:
        s = summary.get(name)
        return None if not s or s["failed"] else s["levels"].get(str(c))

    def cpu(name: str, c: int) -> float | None:
        e = level(name, c)
        return e["server_cpu_ms_per_req"]["median"] if e else None

    def p99(name: str, c: int) -> float | None:
        e = level(name, c)
        return e["p99_ms"]["median"] if e else None

    peer_name = next((n for n in summary if n.startswith("zereight")), "")
    rows = [
        ("CPU per call at c=16, ours / zereight", cpu("gitlab-mcp", 16), cpu(peer_name, 16), 1.0),
        ("p99 at c=1, ours / zereight", p99("gitlab-mcp", 1), p99(peer_name, 1), 2.0),
        ("CPU per call at c=16, OAuth / static", cpu("gitlab-mcp OAuth", 16), cpu("gitlab-mcp", 16), 1.25),
        ("CPU per call at c=16, PostgreSQL / SQLite", cpu("gitlab-mcp PostgreSQL", 16), cpu("gitlab-mcp", 16), 1.25),
        ("CPU per call at c=16, before / after", cpu("gitlab-mcp before", 16), cpu("gitlab-mcp", 16), None),
    ]
    lines = ["| ratio (medians) | value | target | met |", "|---|---:|---:|---|"]
    for label, top, bottom, target in rows:
        if top is None or bottom is None or not bottom:
            continue
        value = top / bottom
        met = "–" if target is None else ("yes" if value <= target else "**no**")
        lines.append(
            f"| {label} | {value:.2f} ({top:.2f} / {bottom:.2f}) | {'–' if target is None else f'≤ {target}'} | {met} |"
        )
    rss = [
        (name, s["info"].get("peak_rss_kb", 0) / 1024)
        for name, s in summary.items()
        if name.startswith("gitlab-mcp") and s["kind"] == "server" and not s["failed"]
    ]
    if rss:
        worst = max(rss, key=lambda item: item[1])
        met = "yes" if worst[1] <= 150 else "**no**"
        lines.append(f"| peak RSS of ours, MB (largest: {worst[0]}) | {worst[1]:.0f} | ≤ 150 | {met} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
