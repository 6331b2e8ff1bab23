"""docs/ARCHITECTURE.md's "Walk 2: a sign-in" is the walk the code takes: one whole browser-leg
sign-in runs in process under a profiler, and the oauth_gateway modules whose functions ran are
exactly the ones the walk's numbered steps name, no more (a module the document hides) and no fewer
(a module it names that does not run).

The sign-in: GET /authorize from a registered public client with PKCE, the sign-in page choosing
GitLab's redirect leg, the simulated GitLab authorizing at once (its `gitlab_sim_user` cookie),
GET /oauth/callback, the consent page and Allow, POST /token. Django's test Client carries the
browser; our GitLab client reaches the simulator through its Starlette TestClient. The second of two
sign-ins is traced, so what runs once per process (imports, the URL resolver) is not counted. Django's
Client calls the Django application directly, so config/asgi.py's router is outside the trace.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from oauth_gateway import gitlab_oauth
from oauth_gateway.models import AccessToken, Application, GitLabConnection
from tests.inprocess import Sim
from tests.oauth_client import form_fields

pytestmark = [
    pytest.mark.urls("tests.oauth_urls"),
    pytest.mark.filterwarnings("ignore:No directory at"),
    # gitlab_oauth gives each request its timeout; the simulator's TestClient ignores it.
    pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument"),
]

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PUBLIC_URL = "https://mcp.example.com"
CLIENT_REDIRECT = "http://127.0.0.1:59999/callback"
VERIFIER = "walk-verifier-" + "v" * 50
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def documented_walk() -> set[str]:
    """Every oauth_gateway module Walk 2's numbered steps name (the paragraph after them, about other
    legs, is not the walk)."""
    section = DOC.read_text().split("## Walk 2: a sign-in", 1)[1].split("\n## ", 1)[0]
    steps = re.search(r"^1\. .*?(?=\n\n)", section, flags=re.M | re.S)
    assert steps, "Walk 2 has no numbered steps"
    return set(re.findall(r"`(oauth_gateway/[\w/]+\.py)`", steps.group(0)))


def stated_count() -> int:
    """The number Walk 2 states in words: "Eight modules of `oauth_gateway/` run"."""
    section = DOC.read_text().split("## Walk 2: a sign-in", 1)[1]
    stated = re.search(r"(\w+) modules of `oauth_gateway/`\s+run", section)
    assert stated, "Walk 2 does not say how many modules run"
    word = stated.group(1).lower()
    return int(word) if word.isdigit() else NUMBERS.index(word)


@contextmanager
def modules_that_run(*packages: str) -> Iterator[set[str]]:
    """The modules of `packages` (paths from the repository root) whose functions are called meanwhile,
    on any thread. Only functions count: module and class bodies run when a module is imported."""
    ran: set[str] = set()
    roots = tuple(str(ROOT / package) + "/" for package in packages)
    seen: dict[str, str | None] = {}

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call" or not frame.f_code.co_flags & inspect.CO_NEWLOCALS:
            return
        filename = frame.f_code.co_filename
        if filename not in seen:
            seen[filename] = str(Path(filename).relative_to(ROOT)) if filename.startswith(roots) else None
        if seen[filename]:
            ran.add(seen[filename])

    previous: Callable[..., Any] | None = sys.getprofile()
    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        yield ran
    finally:
        sys.setprofile(previous)
        threading.setprofile(None)  # type: ignore[arg-type]


@pytest.fixture
def gateway(settings: Any, sim: Sim, monkeypatch: pytest.MonkeyPatch) -> Sim:
    """An OAuth-mode server whose GitLab is the simulator, in this process."""
    settings.OAUTH_ENABLED = True
    settings.OAUTH_SESSION_SECRET = "walk-sign-in-secret-0123456789-abcdefghijk"
    settings.PUBLIC_URL = PUBLIC_URL
    settings.MCP_RESOURCE_URL = f"{PUBLIC_URL}{settings.MCP_PATH}"
    settings.GITLAB_URL = sim.url
    settings.GITLAB_API_BASE = f"{sim.url}/api/v4"
    settings.GITLAB_OAUTH_CLIENT_ID = "gitlab-mcp-public"
    settings.GITLAB_OAUTH_CLIENT_SECRET = ""
    monkeypatch.setattr(gitlab_oauth, "_pool", sim.http)
    return sim


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def sign_in(browser: Client, sim: Sim, client_id: str) -> dict[str, Any]:
    """The whole browser leg, step by step as docs/ARCHITECTURE.md tells it; /token's answer."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "state": "client-state",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        "resource": f"{PUBLIC_URL}/mcp",
    }
    # 1. /authorize: nobody is signed in here, so on to the sign-in page.
    to_signin = browser.get(f"/authorize?{urlencode(query)}")
    assert to_signin.status_code == 302 and to_signin["location"].startswith("/oauth/signin?"), to_signin
    page = browser.get(to_signin["location"])
    assert page.status_code == 200
    # 2. GitLab's redirect leg: off to GitLab, which (a trusted application) answers at once.
    to_gitlab = browser.post(
        "/oauth/signin", {"next": form_fields(page.content.decode())["next"], "leg": "authorization_code"}
    )
    assert to_gitlab.status_code == 302 and to_gitlab["location"].startswith(f"{sim.url}/oauth/authorize?")
    at_gitlab = sim.http.get(to_gitlab["location"], headers={"cookie": "gitlab_sim_user=alice"}, follow_redirects=False)
    back = urlsplit(at_gitlab.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{PUBLIC_URL}/oauth/callback"
    # 3. GitLab's callback: signed in, back to /authorize.
    to_authorize = browser.get(f"/oauth/callback?{back.query}")
    assert to_authorize.status_code == 302 and to_authorize["location"].startswith("/authorize?"), to_authorize
    # 4. The consent page, and Allow: the code goes to the client.
    consent = browser.get(to_authorize["location"])
    assert consent.status_code == 200 and b"allow" in consent.content
    answer = browser.post("/authorize", {**form_fields(consent.content.decode()), "allow": "Authorize"})
    assert answer.status_code == 302 and answer["location"].startswith(CLIENT_REDIRECT), answer
    code = parse_qs(urlsplit(answer["location"]).query)["code"][0]
    # 5. /token: the code and the verifier for our tokens.
    token = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CLIENT_REDIRECT,
        "client_id": client_id,
        "code_verifier": VERIFIER,
        "resource": f"{PUBLIC_URL}/mcp",
    }
    tokens = browser.post("/token", token)
    assert tokens.status_code == 200, tokens.content
    return tokens.json()


def make_client() -> Application:
    return Application.objects.create(
        name="Walker",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=CLIENT_REDIRECT,
        registration_source="dcr",
    )


def test_the_sign_in_walk_runs_exactly_the_modules_the_document_names(gateway: Sim, db: Any) -> None:
    client = make_client()
    sign_in(Client(), gateway, client.client_id)  # a warm server: imports and first-use set-up done
    with modules_that_run("oauth_gateway") as ran:
        tokens = sign_in(Client(), gateway, client.client_id)
    assert tokens["access_token"] and tokens["refresh_token"]
    connection = GitLabConnection.objects.latest("created")
    assert connection.user.gitlab.username == "alice" and connection.application == client
    assert AccessToken.objects.get(connection=connection)
    documented = documented_walk()
    assert sorted(ran - documented) == [], "run in a sign-in, not named in Walk 2"
    assert sorted(documented - ran) == [], "named in Walk 2, not run in a sign-in"
    assert stated_count() == len(documented)


def test_the_walk_runs_no_module_of_config(gateway: Sim, db: Any) -> None:
    """Inside Django no module of config/ runs (no middleware of ours). Django's Client calls the
    Django application itself, so config/asgi.py's router, in front of it, is outside this trace."""
    client = make_client()
    sign_in(Client(), gateway, client.client_id)
    with modules_that_run("config") as ran:
        sign_in(Client(), gateway, client.client_id)
    assert ran == set()
