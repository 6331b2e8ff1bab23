"""Daphne's Twisted request object, made without its form parse.

Twisted's Request parses the body of a form POST into `request.args`, and to tell whether a POST is
one it parses every POST's Content-Type through the standard library's email package. Daphne never
reads `args`: it hands the ASGI application the raw body, which Django parses itself. That unused
work was 6% of a tool call's CPU, and for a multipart body a second parse of all of it. Twisted
offers `parsePOSTFormSubmission=False` for this; Daphne gives no way to pass it, so the request
class its HTTP factory uses (`daphne.http_protocol.WebRequest`, looked up when each connection is
built) is replaced by a subclass that passes it.
"""

from __future__ import annotations

import sys
from typing import Any


def skip_form_parsing() -> None:
    """Under Daphne (its server module is loaded), make requests that Twisted does not parse as forms.
    Elsewhere (tests, other ASGI servers) nothing is imported: importing Twisted's web module
    outside Daphne could install a reactor other than Daphne's."""
    if "daphne.server" not in sys.modules:
        return
    from daphne import http_protocol

    if getattr(http_protocol.WebRequest, "skips_form_parsing", False):
        return

    class FormlessRequest(http_protocol.WebRequest):  # type: ignore[misc]
        skips_form_parsing = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "parsePOSTFormSubmission": False})

    http_protocol.WebRequest = FormlessRequest
