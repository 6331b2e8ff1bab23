"""The deployment files agree with the code and with each other (issue 6).

No Docker engine runs here, so deploy/docker-compose.yml is read, not run. PyYAML is not a
dependency: the compose file is read as text, relying on its layout (two-space indentation, one key
per line, anchors merged with `<<: *name`). env.example filled in passes the configuration checks;
what else can run (the systemd unit's replica command, the image's health check, the README's
openssl command) does, in test_deploy_run.py.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from tests.harness import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE = (DEPLOY / "docker-compose.yml").read_text()
UNIT_FILE = DEPLOY / "gitlab-mcp@.service"
ENV_EXAMPLE = (DEPLOY / "env.example").read_text()
NGINX_CONF = (DEPLOY / "nginx.conf").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SETTINGS = (ROOT / "config" / "settings.py").read_text()
README = (ROOT / "README.md").read_text()
SECTION = README.split("\n## Deploying for a team\n", 1)[1].split("\n## ", 1)[0]
SERVE = ["python", "manage.py", "serve", "--no-migrate"]
NOT_SETTINGS = {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


# --- reading the compose file -------------------------------------------------------------------
def block(text: str, key: str, indent: int | None = None) -> str:
    """The lines under `key:` (at this indentation, or the first one at any) up to the next key at
    the same or a lower indentation."""
    lines = text.splitlines()
    spaces = " *" if indent is None else " " * indent
    head = re.compile(rf"{spaces}{re.escape(key)}:( &[\w-]+)?\s*(#.*)?")
    start = next(i for i, line in enumerate(lines) if head.fullmatch(line))
    depth = len(lines[start]) - len(lines[start].lstrip())
    body = []
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith(" " * (depth + 1)) and not line.lstrip().startswith("#"):
            break
        body.append(line)
    return "\n".join(body) + "\n"


def anchored(name: str) -> str:
    found = re.search(rf"^( *)([\w-]+): &{name}\s*$", COMPOSE, re.MULTILINE)
    assert found, f"no anchor &{name} in the compose file"
    return merged(block(COMPOSE, found.group(2), len(found.group(1))))


def merged(text: str) -> str:
    """`text` followed by the blocks it merges (`<<: *name`): its own keys come first, so win."""
    return text + "".join(anchored(name) for name in re.findall(r"<<: \*([\w-]+)", text))


def service(name: str) -> str:
    return merged(block(block(COMPOSE, "services", 0), name, 2))


def services() -> list[str]:
    return re.findall(r"^  ([\w-]+):\s*$", block(COMPOSE, "services", 0), re.MULTILINE)


def value(text: str, key: str) -> str:
    found = re.search(rf"^\s*{key}: (.+?)(\s+#.*)?$", text, re.MULTILINE)
    assert found, f"no {key} in\n{text}"
    return found.group(1)


def items(text: str, key: str) -> list[str]:
    lines = (line.strip() for line in block(text, key).splitlines())
    return [line[2:].strip('"') for line in lines if line.startswith("- ")]


def command(name: str) -> list[str]:
    """A service's command when written as a JSON-style list; [] otherwise."""
    found = re.search(r"^\s*command: (\[.*\])\s*$", service(name), re.MULTILINE)
    return json.loads(found.group(1)) if found else []


def replicas() -> list[str]:
    return [name for name in services() if "serve" in command(name)]


def seconds(raw: str) -> int:
    found = re.fullmatch(r"(\d+)s?", raw.strip())
    assert found, f"not a number of seconds: {raw!r}"
    return int(found.group(1))


def shutdown_timeout() -> int:
    return int(re.search(r'env\.number\("SHUTDOWN_TIMEOUT", (\d+)', SETTINGS).group(1))  # type: ignore[union-attr]


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT_FILE.read_text())
    return parser


def unit_environment(port: int) -> dict[str, str]:
    pairs = shlex.split(unit()["Service"]["Environment"].replace("%i", str(port)))
    return dict(pair.split("=", 1) for pair in pairs)


# --- the compose file ---------------------------------------------------------------------------
def test_compose_replicas_serve_without_migrating_after_a_one_shot_migrate():
    assert replicas() == ["app1", "app2"]
    for name in replicas():
        text = service(name)
        assert command(name) == SERVE
        assert re.search(r"depends_on:\n +migrate:\n +condition: service_completed_successfully\n", text)
        assert "ports:" not in text  # reached through nginx only
        assert seconds(value(text, "stop_grace_period")) > shutdown_timeout()
    migrate = service("migrate")
    assert command("migrate") == ["python", "manage.py", "migrate", "--noinput"]
    assert value(migrate, "restart") == '"no"'
    assert re.search(r"depends_on:\n +postgres:\n +condition: service_healthy\n", migrate)
    assert "pg_isready" in value(service("postgres"), "test")


def test_nginx_mounts_deploy_nginx_conf_whose_upstream_is_the_compose_replicas():
    nginx = service("nginx")
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in items(nginx, "volumes")
    assert "./certs:/etc/nginx/certs:ro" in items(nginx, "volumes")
    assert "./certs:/certs" in items(service("certs"), "volumes")  # where the one-shot writes them
    assert sorted(items(nginx, "ports")) == ["443:443", "80:80"]
    assert re.findall(r"^\s*server (app\d+):3000\b", NGINX_CONF, re.MULTILINE) == replicas()
    assert "PORT=3000" in DOCKERFILE  # the port of those upstream lines
    certificate = re.findall(r"ssl_certificate(?:_key)? (\S+);", NGINX_CONF)
    assert certificate == ["/etc/nginx/certs/mcp.crt", "/etc/nginx/certs/mcp.key"]
    for name in [*replicas(), "certs"]:
        assert re.search(rf"\n +{name}:\n +condition: service_(healthy|completed_successfully)\n", nginx)


def test_the_replicas_trust_nginx_alone_on_the_compose_network():
    subnet = ipaddress.ip_network(value(COMPOSE, "- subnet"))
    nginx = ipaddress.ip_address(value(service("nginx"), "ipv4_address"))
    addresses = [ipaddress.ip_address(value(service(name), "ipv4_address")) for name in replicas()]
    assert all(address in subnet for address in [nginx, *addresses])
    assert len({nginx, *addresses}) == len(addresses) + 1
    for name in [*replicas(), "migrate"]:
        assert value(service(name), "TRUSTED_PROXIES") == str(nginx)
        assert value(service(name), "LOG_FORMAT") == "json"


def test_the_compose_database_url_names_the_compose_database():
    url = value(service("app1"), "DATABASE_URL").replace(
        "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}", "pw"
    )
    postgres = service("postgres")
    user, database = value(postgres, "POSTGRES_USER"), value(postgres, "POSTGRES_DB")
    assert url == f"postgres://{user}:pw@postgres:5432/{database}"
    assert "env_file: .env" in service("app1")


# --- the settings ---------------------------------------------------------------------------------
def test_every_variable_the_deploy_files_and_the_readme_name_is_a_setting():
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE, re.MULTILINE))
    named |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", COMPOSE))
    for name in services():
        if "environment:" in service(name):
            named |= set(re.findall(r"^ +([A-Z][A-Z0-9_]+): ", block(service(name), "environment"), re.M))
    named |= set(unit_environment(3001))
    in_readme = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", SECTION))
    unknown = sorted(name for name in (named | in_readme) - NOT_SETTINGS if f'"{name}"' not in SETTINGS)
    assert unknown == []
    team = {"PUBLIC_URL", "DATABASE_URL", "OAUTH_ENABLED", "OAUTH_SESSION_SECRET", "GITLAB_API_URL", "LOG_FORMAT"}
    team |= {"GITLAB_OAUTH_CLIENT_ID", "GITLAB_OAUTH_CLIENT_SECRET", "TRUSTED_PROXIES", "SHUTDOWN_TIMEOUT"}
    team |= {"ADMIN_GITLAB_USERS", "ADMIN_GITLAB_GROUP", "ALLOWED_HOSTS", "DJANGO_SECRET_KEY"}
    assert team - in_readme == set()


@pytest.mark.parametrize("way", ["compose", "systemd"])
def test_env_example_filled_in_passes_the_configuration_checks(way: str):
    """Every line of env.example, the commented examples included, with the blanks an operator
    fills in, and what compose or the unit adds: `manage.py check` finds nothing to complain about."""
    values = dict(re.findall(r"^#?([A-Z][A-Z0-9_]+)=(.*)$", ENV_EXAMPLE, re.MULTILINE))
    blanks = sorted(name for name, raw in values.items() if not raw)
    assert blanks == [
        "ALLOWED_HOSTS",
        "GITLAB_OAUTH_CLIENT_ID",
        "GITLAB_OAUTH_CLIENT_SECRET",
        "OAUTH_SESSION_SECRET",
        "POSTGRES_PASSWORD",
    ]
    values |= {"OAUTH_SESSION_SECRET": "s" * 48, "GITLAB_OAUTH_CLIENT_ID": "app-id", "POSTGRES_PASSWORD": "pw"}
    if way == "compose":
        environment = block(service("app1"), "environment")
        values |= dict(re.findall(r"^ +([A-Z][A-Z0-9_]+): (.+)$", environment, re.MULTILINE))
        values["DATABASE_URL"] = re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "pw", values["DATABASE_URL"])
        values |= {"HOST": "0.0.0.0", "PORT": "3000"}  # the Dockerfile's
    else:
        values |= unit_environment(3001)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "ADMIN_"))} | values
    argv = [sys.executable, "manage.py", "check", "--fail-level", "WARNING"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
