"""The deployment files that can run do (issue 6): the replica command of the systemd unit (the compose
file's, checked equal) is started as Daphne and stopped with SIGTERM, the image's health check
command is run against it, and the README's openssl command makes a certificate. Reading the
compose file, the settings and env.example: test_deploy_files.py.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_deploy_files import (
    DOCKERFILE,
    README,
    SECTION,
    SERVE,
    UNIT_FILE,
    seconds,
    service,
    shutdown_timeout,
    unit,
    unit_environment,
)
from tests.harness import ROOT, Sim, free_port, server_env, stop, wait_http
from tests.nginx import make_certificate


# --- the systemd unit and the Dockerfile ----------------------------------------------------------
def test_the_systemd_unit_runs_the_replica_command_and_stops_it_gently():
    service_section = unit()["Service"]
    argv = shlex.split(service_section["ExecStart"])
    assert argv[0].endswith("/.venv/bin/python") and argv[1:] == SERVE[1:]
    assert unit_environment(3001)["PORT"] == "3001"
    assert service_section["KillSignal"] == "SIGTERM"
    assert seconds(service_section["TimeoutStopSec"]) > shutdown_timeout()
    assert service_section["Restart"] == "on-failure"
    assert service_section["EnvironmentFile"] == "/etc/gitlab-mcp/env"
    assert service_section["User"] == "gitlab-mcp"
    assert (service_section["NoNewPrivileges"], service_section["ProtectSystem"]) == ("yes", "strict")


def test_systemd_accepts_the_unit(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = UNIT_FILE.read_text().replace("/opt/gitlab-mcp/.venv/bin/python", sys.executable)
    (tmp_path / UNIT_FILE.name).write_text(text)
    checked = subprocess.run(
        [analyze, "verify", "--man=no", str(tmp_path / "gitlab-mcp@3001.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (checked.returncode, checked.stderr) == (0, "")


def dockerfile(instruction: str) -> list[str]:
    return re.findall(rf"^{instruction} ((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE)


def test_the_image_serves_as_compose_runs_it_as_a_non_root_user():
    assert len(dockerfile("FROM")) == 2  # build stage, runtime stage
    serve = json.loads(dockerfile("CMD")[-1])
    assert serve == ["python", "manage.py", "serve"]  # one container: migrate, then serve
    assert [*serve, "--no-migrate"] == SERVE
    assert dockerfile("STOPSIGNAL") == ["SIGTERM"]
    user = dockerfile("USER")[-1].split(":")
    assert user[0].isdigit() and int(user[0]) != 0
    assert "/health" in healthcheck_argv()[-1]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", "deploy/.env", "deploy/certs", ".git", ".venv"} <= set(ignored)


def healthcheck_argv() -> list[str]:
    exec_form = re.search(r"CMD (\[.*\])$", dockerfile("HEALTHCHECK")[0], re.MULTILINE)
    assert exec_form, "HEALTHCHECK must use the exec form (no shell in the way)"
    argv: list[str] = json.loads(exec_form.group(1))
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


def health_check(port: int) -> int:
    env = {**os.environ, "PORT": str(port)}
    return subprocess.run(healthcheck_argv(), env=env, capture_output=True, timeout=30).returncode


def test_the_replica_command_serves_passes_the_health_check_and_exits_0_on_sigterm(
    database_url: str, sim: Sim, tmp_path: Path
):
    port = free_port()
    argv = [sys.executable, *shlex.split(unit()["Service"]["ExecStart"])[1:]]
    env = server_env(database_url, sim) | unit_environment(port)
    with open(tmp_path / "serve.log", "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/health", process)
            assert health_check(port) == 0
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0  # systemd (Restart=on-failure) and Docker see a clean stop
            assert health_check(port) != 0
        finally:
            stop(process)


# --- the README -----------------------------------------------------------------------------------
def openssl_shape(argv: list[str], host: str) -> list[str]:
    """The command with its parameters (host name, lifetime, file names) masked."""
    masks = {"-days": "<days>", "-keyout": "<key>", "-out": "<cert>"}
    return [masks.get(argv[i - 1], word).replace(host, "<host>") if i else word for i, word in enumerate(argv)]


def make_certificate_argv() -> list[str]:
    """The openssl argv of tests/nginx.py's make_certificate, f-string fields kept as {name}."""
    tree = ast.parse(inspect.getsource(make_certificate))
    lists = (n for n in ast.walk(tree) if isinstance(n, ast.List) and n.elts and isinstance(n.elts[0], ast.Constant))
    found = next(n for n in lists if n.elts[0].value == "openssl")  # type: ignore[attr-defined]
    words = []
    for node in found.elts:
        if isinstance(node, ast.JoinedStr):
            parts = [p.value if isinstance(p, ast.Constant) else "{" + ast.unparse(p.value) + "}" for p in node.values]  # type: ignore[attr-defined]
            words.append("".join(str(part) for part in parts))
        else:
            words.append(str(ast.literal_eval(node)) if isinstance(node, ast.Constant) else ast.unparse(node))
    return words


def shell_command(text: str, start: str) -> list[str]:
    found = re.search(rf"^\s*({re.escape(start)}(?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert found, f"no {start!r} command"
    return shlex.split(found.group(1).replace("\\\n", " "))


def test_the_readme_openssl_command_is_the_one_the_tests_and_compose_run(tmp_path: Path):
    readme = shell_command(SECTION, "openssl req")
    compose = shell_command(service("certs").replace("$$", "$"), "openssl req")
    expected = openssl_shape(make_certificate_argv(), "{host}")
    assert openssl_shape(readme, "mcp.example.com") == expected
    assert openssl_shape(compose, "$host") == expected
    assert (readme[readme.index("-keyout") + 1], readme[readme.index("-out") + 1]) == ("mcp.key", "mcp.crt")
    subprocess.run(readme, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    shown = subprocess.run(
        ["openssl", "x509", "-in", "mcp.crt", "-noout", "-ext", "subjectAltName"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "DNS:mcp.example.com" in shown.stdout


def test_the_readme_section_is_linked_and_names_files_that_exist():
    assert README.count("(#deploying-for-a-team)") >= 2
    for path in set(re.findall(r"\b((?:deploy|tests)/[\w@./-]+\.\w+)", SECTION)) - {"deploy/certs/mcp.crt"}:
        assert (ROOT / path).exists(), path  # (the certificate is the operator's)
    assert "python manage.py serve --no-migrate" in SECTION
    assert "python manage.py migrate --noinput" in SECTION
