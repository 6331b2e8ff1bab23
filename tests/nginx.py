"""Real nginx (Debian's package) in front of Daphne replicas, running deploy/nginx.conf itself.

The deployment file is used as shipped, with only what a test machine must change: loopback ports
instead of 80/443, `localhost` for mcp.example.com, a throwaway certificate, and the upstream's
replica lines. Each substitution must match, so a change to deploy/nginx.conf that this harness does
not understand fails loudly instead of testing something else.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness import ROOT, Server, Sim, free_port, migrate, run_server, server_database, server_env, stop

DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The address nginx connects to the replicas from (`proxy_bind`): distinct from the test client's
# 127.0.0.1, so that TRUSTED_PROXIES can name the proxy alone, as in a real deployment.
PROXY_ADDRESS = "127.0.0.2"


def make_certificate(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate and key, made with the openssl command the README gives."""
    cert, key = directory / "mcp.crt", directory / "mcp.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _sub(pattern: str, replacement: str, text: str, *, count: int = 0) -> str:
    new, n = re.subn(pattern, replacement, text, count=count, flags=re.MULTILINE)
    if n == 0:
        raise AssertionError(f"deploy/nginx.conf no longer contains {pattern!r}; update tests/nginx.py")
    return new


def site_config(
    *, https_port: int, http_port: int, upstream_ports: list[int], cert: Path, key: Path, host: str = "localhost"
) -> str:
    """deploy/nginx.conf with a test machine's ports, host name, certificate and replicas."""
    text = DEPLOY_CONF.read_text()
    server_line = re.search(r"^(\s*)server app1:3000( [^;]*)?;$", text, flags=re.MULTILINE)
    if server_line is None:
        raise AssertionError("deploy/nginx.conf: the upstream's `server app1:3000 ...;` line is gone")
    indent, params = server_line.group(1), server_line.group(2) or ""
    replicas = "\n".join(f"{indent}server 127.0.0.1:{port}{params};" for port in upstream_ports)
    text = _sub(r"^\s*server app\d+:3000( [^;]*)?;\n", "", text)
    text = _sub(r"^(upstream gitlab_mcp \{\n(?:\s*#.*\n)*)", rf"\g<1>{replicas}\n", text, count=1)
    text = _sub(r"^\s*listen \[::\]:.*\n", "", text)
    text = _sub(r"listen 80\b", f"listen 127.0.0.1:{http_port}", text)
    text = _sub(r"listen 443\b", f"listen 127.0.0.1:{https_port}", text)
    text = _sub(r"mcp\.example\.com", host, text)
    text = _sub(r"/etc/nginx/certs/mcp\.crt", str(cert), text)
    text = _sub(r"/etc/nginx/certs/mcp\.key", str(key), text)
    return _sub(r"^(\s*)(proxy_http_version .*;)$", rf"\g<1>\g<2>\n\g<1>proxy_bind {PROXY_ADDRESS};", text, count=1)


def main_config(directory: Path, site: Path) -> str:
    """The top-level nginx.conf around the site file: everything nginx writes stays in `directory`."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the test's private temp dirs
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"    access_log {directory / 'access.log'};\n"
        f"{temp}\n"
        f"    include {site};\n"
        "}\n"
    )


@dataclass
class Nginx:
    url: str  # https://localhost:<port>, the PUBLIC_URL of the replicas behind it
    http_url: str
    directory: Path
    cert: Path
    process: subprocess.Popen[bytes]

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts the throwaway certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(verify=self.ssl_context(), **kwargs)  # type: ignore[arg-type]

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text() if path.exists() else ""


@contextmanager
def run_nginx(directory: Path, *, https_port: int, http_port: int, upstream_ports: list[int]) -> Iterator[Nginx]:
    """nginx on loopback, proxying to the replicas on `upstream_ports`; stopped on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = make_certificate(directory)
    site = directory / "gitlab-mcp.conf"
    site.write_text(
        site_config(https_port=https_port, http_port=http_port, upstream_ports=upstream_ports, cert=cert, key=key)
    )
    conf = directory / "nginx.conf"
    conf.write_text(main_config(directory, site))
    checked = subprocess.run([NGINX, "-t", "-q", "-e", "stderr", "-c", str(conf)], capture_output=True, text=True)
    if checked.returncode != 0:
        raise AssertionError(f"nginx -t refused the configuration:\n{checked.stderr}")
    process = subprocess.Popen([NGINX, "-e", "stderr", "-c", str(conf)], stderr=open(directory / "stderr.log", "wb"))  # noqa: SIM115
    nginx = Nginx(f"https://localhost:{https_port}", f"http://localhost:{http_port}", directory, cert, process)
    try:
        _wait_listening(nginx)
        yield nginx
    finally:
        stop(process)


def _wait_listening(nginx: Nginx, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with nginx.client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if nginx.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {nginx.process.returncode}: {nginx.error_log()}")
            try:
                http.get(f"{nginx.url}/health")
                return
            except httpx.HTTPError:
                time.sleep(0.05)
    raise RuntimeError(f"nginx did not answer on {nginx.url} within {timeout} s")


# --- Deployments: several replicas on one fresh database, behind nginx ---------------------------
# Shared by the deployment tests (tests/test_deploy_*.py).

ACCESS_LINE = re.compile(r"gitlab_mcp\.access \S+ ([A-Z]+) (\S+) ")


@dataclass
class Deployment:
    """nginx in front of `replicas` (Daphne processes), all on `database_url`."""

    nginx: Nginx
    replicas: list[Server]
    database_url: str
    env: dict[str, str]  # what every replica runs with (before its PORT)
    stack: ExitStack

    def kill(self, i: int) -> None:
        """SIGKILL replica i: no shutdown, no goodbye, as when its machine dies."""
        process = self.replicas[i].process
        process.kill()
        process.wait()

    def restart(self, i: int) -> Server:
        """Start replica i again, on the same port with the same environment and log file (stopping
        it first, gracefully, if it still runs)."""
        old = self.replicas[i]
        stop(old.process)
        port = int(old.url.rsplit(":", 1)[1])
        self.replicas[i] = self.stack.enter_context(run_server(self.env, log_path=old.log_path, port=port))
        return self.replicas[i]

    def requests(self, i: int) -> list[str]:
        """The requests replica i logged, as "METHOD /path" (its access log, text or JSON lines)."""
        log = self.replicas[i].log_path
        seen = []
        for line in log.read_text(errors="replace").splitlines() if log and log.exists() else []:
            if line.startswith("{"):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("logger") == "gitlab_mcp.access":
                    seen.append(f"{entry.get('method')} {entry.get('path')}")
            elif match := ACCESS_LINE.search(line):
                seen.append(f"{match.group(1)} {match.group(2)}")
        return seen

    def mark(self) -> list[int]:
        """How many requests each replica has logged so far: pass it as `since` to served_by."""
        return [len(self.requests(i)) for i in range(len(self.replicas))]

    def served_by(self, path_substring: str, *, since: list[int] | None = None) -> list[int]:
        """Which replicas logged a request whose "METHOD /path" contains `path_substring` (a path
        like "/oauth/callback", or "POST /oauth/signin"), counting only requests after `since`."""
        start = since or [0] * len(self.replicas)
        found = []
        for i in range(len(self.replicas)):
            if any(path_substring in request for request in self.requests(i)[start[i] :]):
                found.append(i)
        return found


@contextmanager
def run_deployment(
    tmp_path: Path, sim: Sim, replicas: int = 3, *, oauth: bool = True, **env: str
) -> Iterator[Deployment]:
    """`replicas` Daphne processes on one fresh, migrated database (SQLite file, or PostgreSQL when
    DATABASE_URL says so), with nginx in front: PUBLIC_URL is nginx's https URL, and the replicas
    trust nginx's address (TRUSTED_PROXIES). OAuth mode unless `oauth=False`; `env` overrides."""
    from tests.oauth_client import OAUTH_ENV

    https_port, http_port = free_port(), free_port()
    ports = [free_port() for _ in range(replicas)]
    with ExitStack() as stack:
        database_url = stack.enter_context(server_database(tmp_path))
        overrides = {**(OAUTH_ENV if oauth else {}), "TRUSTED_PROXIES": PROXY_ADDRESS, **env}
        overrides["PUBLIC_URL"] = f"https://localhost:{https_port}"  # nginx's address
        replica_env = server_env(database_url, sim, **overrides)
        migrate(replica_env)  # once, before any replica starts
        servers = [run_server(replica_env, log_path=tmp_path / f"replica-{i}.log", port=p) for i, p in enumerate(ports)]
        started = _start_all(stack, servers)
        nginx = stack.enter_context(
            run_nginx(tmp_path / "nginx", https_port=https_port, http_port=http_port, upstream_ports=ports)
        )
        deployment = Deployment(nginx, started, database_url, replica_env, stack)
        stack.callback(_stop_all, deployment)  # on the way out, the replicas stop side by side
        yield deployment


def _stop_all(deployment: Deployment) -> None:
    """SIGTERM every replica at once, then wait for each (run_server's own stop finds them gone)."""
    running = [r.process for r in deployment.replicas if r.process.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        stop(process)  # waits for it, and kills it if it hangs


def _start_all(stack: ExitStack, servers: Sequence[AbstractContextManager[Server]]) -> list[Server]:
    """Enter the servers' contexts side by side (each start is seconds of imports), each one's exit
    on `stack`; if one fails to start, the others are stopped with the stack."""
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = [pool.submit(server.__enter__) for server in servers]
    started, failure = [], None
    for server, future in zip(servers, futures, strict=True):
        if future.exception() is None:
            started.append(future.result())
            stack.push(server.__exit__)
        else:
            failure = failure or future.exception()
    if failure is not None:
        raise failure
    return started
