"""A bad environment stops start-up with a message that names the variable and the fix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.harness import ROOT

GOOD = {"GITLAB_TOKEN": "glpat-x", "GITLAB_API_URL": "https://gitlab.example.com"}
OAUTH = {"OAUTH_ENABLED": "true", "OAUTH_SESSION_SECRET": "s" * 32, "GITLAB_OAUTH_CLIENT_ID": "app"}


def check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "PUBLIC_URL", "HOST"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=60
    )


def test_a_static_token_configuration_passes():
    assert check(**GOOD).returncode == 0


def test_a_complete_oauth_configuration_passes():
    assert check(**OAUTH).returncode == 0


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "neither GITLAB_TOKEN nor OAUTH_ENABLED is set"),
        ({**GOOD, "GITLAB_API_URL": "gitlab.example.com"}, "GITLAB_API_URL must be an http(s) URL"),
        ({**GOOD, "PORT": "http"}, "PORT must be a whole number"),
        ({**GOOD, "PORT": "70000"}, "PORT must be a TCP port"),
        ({**GOOD, "OAUTH_ENABLED": "maybe"}, "OAUTH_ENABLED must be true or false"),
        ({**OAUTH, "OAUTH_SESSION_SECRET": "short"}, "OAuth not configured: OAUTH_SESSION_SECRET must be at least 32"),
        ({**OAUTH, "GITLAB_OAUTH_CLIENT_ID": ""}, "OAuth not configured: GITLAB_OAUTH_CLIENT_ID"),
        ({**OAUTH, "HOST": "0.0.0.0"}, "HOST=0.0.0.0 listens beyond this machine, but PUBLIC_URL is not set"),
        ({**GOOD, "HOST": "0.0.0.0"}, "HOST=0.0.0.0 listens beyond this machine, but PUBLIC_URL is not set"),
        ({**GOOD, "GITLAB_OAUTH_FLOW": "magic"}, "GITLAB_OAUTH_FLOW must be one of"),
        ({**GOOD, "OAUTH_TOKEN_TTL": "-5"}, "OAUTH_TOKEN_TTL must be at least"),
        ({**GOOD, "GITLAB_DENIED_TOOLS_REGEX": "(unclosed"}, "GITLAB_DENIED_TOOLS_REGEX is not a valid regular"),
        ({**GOOD, "DATABASE_URL": "nonsense://"}, "DATABASE_URL must look like"),
        ({**GOOD, "PUBLIC_URL": "mcp.example.com"}, "PUBLIC_URL must be an http(s) URL"),
        ({**GOOD, "GITLAB_TOOLSETS": "issues,boards"}, "GITLAB_TOOLSETS names unknown toolsets: boards"),
        ({**GOOD, "TRUSTED_PROXIES": "10.0.0.5,nginx"}, "TRUSTED_PROXIES must list IP addresses or networks"),
        ({**GOOD, "LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of text, json"),
        ({**GOOD, "SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT must be a whole number"),
        ({**GOOD, "ALLOWED_ORIGINS": "claude.ai"}, "ALLOWED_ORIGINS must list origins"),
        ({**GOOD, "ALLOWED_ORIGINS": "https://claude.ai/app"}, "ALLOWED_ORIGINS must list origins"),
    ],
)
def test_a_bad_variable_stops_start_up_naming_it(env: dict[str, str], expected: str):
    done = check(**env)
    assert done.returncode != 0
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_the_asgi_app_refuses_to_load_when_misconfigured():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_"))}
    done = subprocess.run(
        [sys.executable, "-c", "import config.asgi"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "gitlab-mcp cannot start" in done.stderr
    assert "GITLAB_TOKEN" in done.stderr


def test_a_missing_static_root_is_not_warned_about(tmp_path):
    """Before collectstatic, WhiteNoise warns of a missing STATIC_ROOT; the admin's assets are served
    from the apps meanwhile (WHITENOISE_USE_FINDERS), so the warning is silenced (config.apps)."""
    if (ROOT / "staticfiles").is_dir():
        pytest.skip("collectstatic has run here: there is nothing to warn about")
    code = "import django; django.setup(); from django.core.handlers import asgi; asgi.ASGIHandler(); print('loaded')"
    env = {**os.environ, **GOOD, "DJANGO_SETTINGS_MODULE": "config.settings", "ENV_FILE": os.devnull}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "loaded", done.stderr
    assert "No directory at" not in done.stderr


def test_the_readers_fall_back_and_name_each_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.environment import Environment

    monkeypatch.setenv("ENV_FILE", os.devnull)
    bad = {"X_NUMBER": "ten", "X_FLAG": "maybe", "X_URL": "gitlab.example.com", "X_HOSTS": "a.example,https://b"}
    for name, value in bad.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("X_DB", "mysql://db/x")
    env = Environment()
    assert env.number("X_NUMBER", 3) == 3
    assert env.flag("X_FLAG", True) is True
    assert env.http_url("X_URL", "https://gitlab.com") == "https://gitlab.com"
    assert env.hosts("X_HOSTS") == ["a.example"]
    assert env.database("X_DB", "sqlite:///x.sqlite3", ("django.db.backends.sqlite3",))["NAME"] == "x.sqlite3"
    assert [name for name, _ in env.problems] == ["X_NUMBER", "X_FLAG", "X_URL", "X_HOSTS", "X_DB"]
    assert "whole number" in env.problems[0][1] and "'ten'" in env.problems[0][1]
