"""Every setting of gitlab-mcp, read from the environment, and from an env file: ./.env,
or the file ENV_FILE names. Real environment variables win over the file.

Each variable is read with a typed reader of config/environment.py: a malformed one falls back to
its default and is recorded in CONFIG_ERRORS, which `oauth_gateway.checks` turns into a system-check
error naming it, so `migrate`, `serve` and `mcp_stdio` all stop with one readable message.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from config.environment import Environment, is_loopback

BASE_DIR = Path(__file__).resolve().parent.parent
env = Environment()
ENV_FILE_READ = env.file_read  # logged at start (config.startup)
CONFIG_ERRORS = env.problems  # (variable, what is wrong and how to fix it), for oauth_gateway.checks


# --- core ---------------------------------------------------------------------------------------
HOST = env.text("HOST", default="127.0.0.1").strip() or "127.0.0.1"
PORT = env.number("PORT", 3000, minimum=1)
if PORT > 65535:
    env.problem("PORT", f"must be a TCP port (1-65535), got {PORT}")
    PORT = 3000
_public_default = f"http://{'127.0.0.1' if HOST in ('0.0.0.0', '::') else HOST}:{PORT}"
PUBLIC_URL_SET = bool(env.text("PUBLIC_URL", default="").strip())
PUBLIC_URL = env.http_url("PUBLIC_URL", _public_default)
HOST_IS_LOOPBACK = is_loopback(HOST)
PUBLIC_HOST = urlsplit(PUBLIC_URL).hostname or "127.0.0.1"
# Static-token mode: the bearer tokens MCP clients must send (comma-separated: one per team or
# machine), required off loopback (mcp_bridge.admission, oauth_gateway.checks).
MCP_AUTH_TOKENS = env.items("MCP_AUTH_TOKEN")
# The Host names /mcp answers (DNS-rebinding guard, mcp_bridge.admission): PUBLIC_URL's and ALLOWED_HOSTS';
# the machine's own names only when the server listens on loopback.
MCP_ALLOWED_HOSTS = sorted(
    {PUBLIC_HOST, *env.items("ALLOWED_HOSTS"), *(["127.0.0.1", "localhost", "[::1]"] * HOST_IS_LOOPBACK)}
)

DEBUG = env.flag("DJANGO_DEBUG", False)
ALLOWED_HOSTS = sorted({PUBLIC_HOST, "127.0.0.1", "localhost", "[::1]", *env.items("ALLOWED_HOSTS")})
CSRF_TRUSTED_ORIGINS = [f"{urlsplit(PUBLIC_URL).scheme}://{urlsplit(PUBLIC_URL).netloc}"]
# Behind TLS (PUBLIC_URL https) the browser cookies of sign-in and admin travel only over https.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PUBLIC_URL.startswith("https://")
SESSION_COOKIE_AGE = 14 * 24 * 3600
# Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto are believed (config.proxy);
# nobody else's. Generated URLs never come from request headers: they come from PUBLIC_URL.
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES")
# Seconds a replica told to stop (SIGTERM) gives its in-flight requests to finish (config.daphne).
SHUTDOWN_TIMEOUT = env.number("SHUTDOWN_TIMEOUT", 30)
# The lean path for plain tools/call, tools/list and ping POSTs (mcp_bridge.server.FastPath); off, every
# request goes through the MCP SDK's transport (the same answers, more CPU).
MCP_FAST_PATH = env.flag("MCP_FAST_PATH", True)

# --- oauth --------------------------------------------------------------------------------------
OAUTH_ENABLED = env.flag("OAUTH_ENABLED", False)
OAUTH_SESSION_SECRET = env.text("OAUTH_SESSION_SECRET", default="")
GITLAB_OAUTH_CLIENT_ID = env.text("GITLAB_OAUTH_CLIENT_ID", default="").strip()
GITLAB_OAUTH_CLIENT_SECRET = env.text("GITLAB_OAUTH_CLIENT_SECRET", default="")
GITLAB_OAUTH_SCOPES = env.items("GITLAB_OAUTH_SCOPES", "api,read_user")
GITLAB_OAUTH_FLOW = env.choice("GITLAB_OAUTH_FLOW", "auto", ("auto", "authorization_code", "device"))
OAUTH_TOKEN_TTL = env.number("OAUTH_TOKEN_TTL", 3600, minimum=60)
OAUTH_REFRESH_TOKEN_TTL = env.number("OAUTH_REFRESH_TOKEN_TTL", 604800, minimum=60)
OAUTH_DEVICE_POLL_INTERVAL = env.number("OAUTH_DEVICE_POLL_INTERVAL", 5, minimum=1)
OAUTH_DEVICE_TIMEOUT = env.number("OAUTH_DEVICE_TIMEOUT", 300, minimum=30)
# Per (client IP, redirect host), an IP ten times that in all (oauth_gateway.services.clients);
# also RFC 7592 management requests per client IP.
OAUTH_REGISTRATIONS_PER_HOUR = env.number("OAUTH_REGISTRATIONS_PER_HOUR", 100, minimum=1)
# Unfinished sign-ins to this server's own pages (/connections/, /admin/) one client IP may hold.
OAUTH_BROWSER_SIGNINS_PER_IP = env.number("OAUTH_BROWSER_SIGNINS_PER_IP", 20, minimum=1)
# Sign-ins to this server's own pages with a GitLab device code. Off: whoever starts one can send the
# code to an admin ("enter this code at GitLab") and gets the admin's session once they do.
ADMIN_DEVICE_LOGIN = env.flag("ADMIN_DEVICE_LOGIN", False)
# GitLab users who are admins here when they sign in with GitLab (at /admin/): GitLab user ids or
# usernames, comma-separated, and/or members of one GitLab group (its full path, e.g. "acme/ops").
ADMIN_GITLAB_USERS = env.items("ADMIN_GITLAB_USERS")
ADMIN_GITLAB_GROUP = env.text("ADMIN_GITLAB_GROUP", default="").strip().strip("/")

# Django's own key signs admin sessions and CSRF tokens: DJANGO_SECRET_KEY when set, otherwise derived
# from the OAuth secret (so every replica agrees), otherwise per process (checks warn).
_explicit_key = env.text("DJANGO_SECRET_KEY", default="")
if _explicit_key:
    SECRET_KEY = _explicit_key
elif OAUTH_SESSION_SECRET:
    SECRET_KEY = hashlib.sha256(b"gitlab-mcp/django/" + OAUTH_SESSION_SECRET.encode()).hexdigest()
else:
    SECRET_KEY = secrets.token_urlsafe(50)
SECRET_KEY_EPHEMERAL = not (_explicit_key or OAUTH_SESSION_SECRET)

# --- gitlab -------------------------------------------------------------------------------------
_gitlab_url = env.http_url("GITLAB_API_URL", "https://gitlab.com")
# GitLab's base URL is accepted with or without a trailing "/api/v4".
GITLAB_URL = _gitlab_url[: -len("/api/v4")] if _gitlab_url.endswith("/api/v4") else _gitlab_url
GITLAB_API_BASE = f"{GITLAB_URL}/api/v4"
GITLAB_TOKEN = env.text("GITLAB_TOKEN", default="").strip()
GITLAB_READ_ONLY_MODE = env.flag("GITLAB_READ_ONLY_MODE", False)
GITLAB_DENIED_TOOLS_REGEX = env.text("GITLAB_DENIED_TOOLS_REGEX", default="").strip()
# Toolset names, "default" and "all" (checked against mcp_bridge.toolsets.TOOLSETS by the system checks).
GITLAB_TOOLSETS = [name.lower() for name in env.items("GITLAB_TOOLSETS", "default")]
GITLAB_TIMEOUT = env.number("GITLAB_TIMEOUT", 30, minimum=1)  # seconds for one GitLab call
GITLAB_MAX_RETRIES = env.number("GITLAB_MAX_RETRIES", 3)

# --- apps ---------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "oauth_gateway",
    "mcp_bridge",
    "axes",
    "config",  # config.apps: start-up work once Django is set up
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into its 429 page
]
# The admin's password form is the one place a password is checked: five wrong passwords for one
# username from one address lock that pair (the right password too) until an hour passes without a
# try. Unlock: `python manage.py axes_reset_username <name>` (README "Signing in as an admin").
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours since the last failure
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "oauth_gateway.services.audit.client_ip"  # REMOTE_ADDR, from TRUSTED_PROXIES only
AXES_DISABLE_ACCESS_LOG = True  # axes keeps failed attempts only, not a row per sign-in
ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # admin assets work even before collectstatic (local runs)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = "oauth_gateway.formats"  # times shown with their zone

# --- db -----------------------------------------------------------------------------------------
_DB_DEFAULT = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
_DB_ENGINES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")
_db = env.database("DATABASE_URL", _DB_DEFAULT, _DB_ENGINES)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN, so two
    # writers wait for each other (busy timeout) instead of failing with "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# Keep connections between requests; health checks on reuse replace one the database dropped.
_db["CONN_MAX_AGE"] = 600
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}

# --- oauth provider (django-oauth-toolkit) ------------------------------------------------------
# All swappable DOT models live in oauth_gateway from the first migration.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth_gateway.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth_gateway.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth_gateway.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth_gateway.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth_gateway.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth_gateway.DeviceGrant"
# Custom URI schemes a client may register as redirect URIs besides https and loopback http
# (oauth_gateway.redirects); by default the editors' own (Cursor registers cursor://… too, and one
# refused URI fails the whole registration). A code caught by another app on such a scheme is useless
# without the PKCE verifier (S256 is required of every client). OAUTH_REDIRECT_SCHEMES="" allows none.
EDITOR_REDIRECT_SCHEMES = "cursor,vscode,vscode-insiders"
OAUTH_REDIRECT_SCHEMES = [scheme.lower() for scheme in env.items("OAUTH_REDIRECT_SCHEMES", EDITOR_REDIRECT_SCHEMES)]
# When set, the only hosts a client may register redirect URIs on (ALLOWED_HOSTS syntax, ".example.com"
# for subdomains too); empty allows any host the rules above allow.
OAUTH_ALLOWED_REDIRECT_HOSTS = env.hosts("OAUTH_ALLOWED_REDIRECT_HOSTS")
# Client ID Metadata Documents: off unless asked for; then under /register's rules (oauth_gateway.cimd).
OAUTH_CIMD_ENABLED = env.flag("OAUTH_CIMD_ENABLED", False)
OAUTH_CIMD_ALLOWED_HOSTS = env.hosts("OAUTH_CIMD_ALLOWED_HOSTS")
LOGIN_URL = "/oauth/signin"
MCP_SCOPE = "gitlab"
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "oauth_gateway.validators.Validator",
    # The issuer is PUBLIC_URL exactly, never derived from request headers.
    "OIDC_ISS_ENDPOINT": PUBLIC_URL,
    "OAUTH2_PROTECTED_RESOURCE_IDENTIFIER": f"{PUBLIC_URL}/mcp",
    "OAUTH2_PROTECTED_RESOURCE_AUTHORIZATION_SERVERS": [PUBLIC_URL],
    "OAUTH2_PROTECTED_RESOURCE_NAME": "GitLab MCP",
    "SCOPES": {MCP_SCOPE: "Use GitLab through this server, as you"},
    "DEFAULT_SCOPES": [MCP_SCOPE],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none", "client_secret_post", "client_secret_basic"],
    "DCR_ENABLED": True,
    "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
    "CIMD_ENABLED": OAUTH_CIMD_ENABLED,
    "CIMD_METADATA_FETCHER": "oauth_gateway.cimd.CheckedFetcher",
    "CIMD_REGISTRATION_PERMISSION_CLASSES": ("oauth_gateway.cimd.RegistrationPolicy",),
    "REQUEST_APPROVAL_PROMPT": "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https", *OAUTH_REDIRECT_SCHEMES],
    "ALLOW_LOCALHOST_LOOPBACK": True,  # RFC 8252 §7.3: any port on a loopback redirect URI
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,  # RFC 9207 `iss` on the redirect
    "ACCESS_TOKEN_EXPIRE_SECONDS": OAUTH_TOKEN_TTL,
    "REFRESH_TOKEN_EXPIRE_SECONDS": OAUTH_REFRESH_TOKEN_TTL,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # tokens stored hashed
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
}

# --- mcp ----------------------------------------------------------------------------------------
MCP_PATH = "/mcp"
# Browser origins allowed to call / and /mcp besides PUBLIC_URL's and ALLOWED_HOSTS' (DNS-rebinding
# guard, CORS; mcp_bridge.admission). In OAuth mode a request with a valid token passes from any origin.
ALLOWED_ORIGINS = env.origins("ALLOWED_ORIGINS")
MCP_RESOURCE_URL = f"{PUBLIC_URL}{MCP_PATH}"  # the audience every MCP access token must carry

# --- logging ------------------------------------------------------------------------------------
# "json": one JSON object per line (config.logs.JsonFormatter), for log collectors.
LOG_FORMAT = env.choice("LOG_FORMAT", "text", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL", default="INFO").upper()},
    "loggers": {
        # httpx logs every request URL at INFO; keep it quiet so query strings never reach logs.
        "httpx": {"level": "WARNING"},
        "mcp": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # lockouts and new failures, not a line at every start
    },
}
