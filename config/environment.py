"""Typed readers for the settings' environment variables, which never raise.

config/settings.py declares every setting with one of these readers. A malformed value falls back to
its default and is kept in `problems` as (variable, what is wrong and how to fix it); the settings
publish that list as CONFIG_ERRORS, which `oauth_gateway.checks` turns into a system-check error
naming the variable, so `migrate`, `serve` and `mcp_stdio` stop with one readable message instead of
a traceback. The env file is read first: real environment variables win over it.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Environment:
    def __init__(self) -> None:
        self.env = environ.Env()
        self.problems: list[tuple[str, str]] = []
        self.file_read = self._read_env_file()

    def problem(self, name: str, message: str) -> None:
        self.problems.append((name, message))

    def _read_env_file(self) -> str:
        """The env file (KEY=value lines) named by ENV_FILE, else ./.env when there is one: one
        configuration source for the server and every manage.py command. Returns the file read, or ""."""
        named = os.environ.get("ENV_FILE", "").strip()
        path = Path(named or ".env")
        if not named and not path.is_file():
            return ""
        try:
            with path.open(encoding="utf-8") as file:
                environ.Env.read_env(file)  # never overwrites a variable already set
        except OSError as exc:
            reason = "does not exist" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror})"
            if named:
                self.problem("ENV_FILE", f"names {named!r}, which {reason}")
            else:
                self.problem(".env", reason)
            return ""
        return str(path.resolve())

    def text(self, name: str, default: str = "") -> str:
        value: str = self.env.str(name, default=default)
        return value

    def number(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.text(name).strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problem(name, f"must be a whole number, got {raw!r}")
            return default
        if value < minimum:
            self.problem(name, f"must be at least {minimum}, got {value}")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name).strip().lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        self.problem(name, f"must be true or false, got {raw!r}")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self.text(name).strip().lower() or default
        if raw not in choices:
            self.problem(name, f"must be one of {', '.join(choices)}, got {raw!r}")
            return default
        return raw

    def http_url(self, name: str, default: str) -> str:
        raw = self.text(name).strip() or default
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem(name, f"must be an http(s) URL such as https://gitlab.example.com, got {raw!r}")
            return default
        return raw.rstrip("/")

    def items(self, name: str, default: str = "") -> list[str]:
        """A comma-separated list, blanks dropped."""
        return [item.strip() for item in self.text(name, default).split(",") if item.strip()]

    def hosts(self, name: str) -> list[str]:
        """Comma-separated host names, lower-cased; a URL or a path instead of a host is an error."""
        hosts = []
        for item in (s.lower() for s in self.items(name)):
            if "/" in item or (":" in item and not item.startswith("[")):
                self.problem(name, f"must list host names such as claude.ai,.example.com, got {item!r}")
                continue
            hosts.append(item.strip("[]"))
        return hosts

    def origins(self, name: str) -> list[str]:
        """Comma-separated browser origins (scheme://host[:port]), lower-cased; anything else is an error."""
        origins = []
        for item in filter(None, (s.lower().rstrip("/") for s in self.items(name))):
            parts = urlsplit(item)
            try:
                parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
            except ValueError:
                parts = parts._replace(scheme="")
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or set(item) & set("?#@*"):
                example = "https://app.example.com,http://localhost:6274"
                self.problem(name, f"must list origins (scheme://host[:port]) such as {example}, got {item!r}")
                continue
            origins.append(item)
        return origins

    def networks(self, name: str) -> list[Network]:
        networks = []
        for item in self.items(name):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.problem(name, f"must list IP addresses or networks such as 10.0.0.5,172.18.0.0/16, got {item!r}")
        return networks

    def database(self, name: str, default: str, engines: tuple[str, ...]) -> dict[str, Any]:
        """Django's DATABASES entry from a URL; one of another engine, or malformed, is an error."""
        try:
            database: dict[str, Any] = self.env.db_url(name, default=default)
        except Exception:  # django-environ raises several types for a malformed URL
            database = {"ENGINE": ""}
        if database.get("ENGINE") not in engines:
            self.problem(name, "must look like postgres://user:pass@host:5432/name or sqlite:////path/db.sqlite3")
            database = self.env.db_url_config(default)
        return database


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
