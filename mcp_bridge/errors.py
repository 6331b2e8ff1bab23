"""The GitLab error tree: every failed GitLab call is one of these, so that tools never catch
anything themselves and the tool decorator (mcp_bridge.registry) turns any of them into a readable
tool error in one place::

    GitLabError                  message is safe to show to the model (no token, no stack trace)
    ├── GitLabRefused            not sent: the request is not one the tool may make
    │   ├── UnsafePathSegment    a value would be an empty, '.' or '..' URL path segment
    │   └── RouteNotAllowed      not among the tool's declared routes, or a write in read-only mode
    ├── GitLabUnavailable        GitLab could not be reached or did not answer in time
    ├── GraphQLError             HTTP 200 with GraphQL `errors[]` (defined in mcp_bridge.graphql)
    └── GitLabHTTPError          GitLab answered with a 4xx/5xx status
        ├── GitLabUnauthorized   401: the token is invalid, expired or revoked
        ├── GitLabForbidden      403: no permission, or a token scope is missing
        ├── GitLabNotFound       404: missing, or private and hidden from this user
        ├── GitLabRejected       400/405/409/412/422: GitLab refused the request as sent
        ├── GitLabRateLimited    429, after the allowed retries
        └── GitLabServerError    5xx, after the allowed retries

The tree has a module of its own because it sits below everything that raises it: the client and
facade (mcp_bridge.gitlab) use the request context (mcp_bridge.context) and GraphQL
(mcp_bridge.graphql), and those raise from the tree too.
"""

from __future__ import annotations

from typing import Any


class GitLabError(Exception):
    """A failed GitLab call, with a message written for the model."""


class GitLabRefused(GitLabError):
    """Refused before anything was sent; `detail` is what the audit log keeps (never a secret)."""

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.detail = detail


class UnsafePathSegment(GitLabRefused):
    """`value` would not stay one URL path segment: it is empty, '.' or '..', or holds such a part
    between slashes, even percent-encoded. Clients and proxies remove dot segments (RFC 3986 §5.2.4),
    so `DELETE /projects/alice%2Fnotes/labels/..` would delete the project."""

    why = (
        "a name that is empty, '.' or '..' (even percent-encoded, or between slashes) would change which "
        "GitLab API path is called. Nothing was sent to GitLab."
    )

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"{self._shown()} cannot be sent in a GitLab URL path: {self.why}", refused="unsafe path")

    def naming(self, arguments: list[str]) -> str:
        """The refusal as the model should read it: which of its arguments held the value."""
        self.detail["arguments"] = arguments
        if not arguments:
            return str(self)
        names = " and ".join(f"'{name}'" for name in arguments)
        return f"Argument{'s' if len(arguments) > 1 else ''} {names} may not be {self._shown()}: {self.why}"

    def _shown(self) -> str:
        return repr(self.value if len(self.value) <= 80 else self.value[:80] + "…")


class RouteNotAllowed(GitLabRefused):
    pass


class GitLabUnavailable(GitLabError):
    pass


class GitLabHTTPError(GitLabError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class GitLabUnauthorized(GitLabHTTPError):
    pass


class GitLabForbidden(GitLabHTTPError):
    pass


class GitLabNotFound(GitLabHTTPError):
    pass


class GitLabRejected(GitLabHTTPError):
    pass


class GitLabRateLimited(GitLabHTTPError):
    pass


class GitLabServerError(GitLabHTTPError):
    pass
