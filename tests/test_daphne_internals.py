"""The Daphne and Twisted internals config.daphne relies on, pinned: a Daphne or Twisted upgrade that
renames or reshapes one fails here, loudly, rather than in a replica's graceful stop."""

from __future__ import annotations

import inspect

from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server  # installs Twisted's asyncio reactor (none of the above imports one)
from twisted.internet import defer, tcp
from twisted.web import http


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_server_hooks_overridden_keep_their_signatures():
    assert "signal_handlers" in parameters(Server.__init__)
    assert parameters(Server.listen_success) == ["self", "port"]
    assert parameters(Server.listen_error) == ["self", "failure"]
    assert parameters(Server.protocol_connected) == ["self", "protocol"]
    assert parameters(Server.stop) == ["self"]


def test_server_run_makes_the_connection_table_and_factory_read():
    """GracefulServer.busy() reads `connections` (protocol → details dict) and listen_success()
    wraps `http_factory.buildProtocol`: both are made in Server.run, not __init__."""
    source = inspect.getsource(Server.run)
    assert "self.connections = {}" in source
    assert "self.http_factory = HTTPFactory(self)" in source
    assert 'reactor.addSystemEventTrigger("before", "shutdown", self.kill_all_applications)' in source
    assert callable(HTTPFactory.buildProtocol)


def test_connection_details_keys_read():
    """A request's details: "application_instance" (an asyncio future) once its application runs,
    "disconnected" once answered or its client left."""
    assert '["application_instance"] = asyncio.ensure_future(' in inspect.getsource(Server.create_application)
    assert '["disconnected"] = time.time()' in inspect.getsource(Server.protocol_disconnected)


def test_request_knows_its_channel():
    """protocol_connected() receives a WebRequest (a twisted.web Request) whose `channel` is the one
    the factory built, inside Twisted's HTTP/2-switching wrapper's `_channel`."""
    assert issubclass(WebRequest, http.Request)
    assert "self.channel = channel" in inspect.getsource(http.Request.__init__)
    assert "_channel" in inspect.getsource(http._GenericHTTPChannelProtocol)
    assert "def _genericHTTPChannelProtocolFactory" in inspect.getsource(http)


def test_listening_port_methods_patched_and_called():
    """_stop_listening() calls doRead and stopListening and wraps connectionLost on Twisted's TCP port."""
    assert parameters(tcp.Port.doRead) == ["self"]
    assert parameters(tcp.Port.connectionLost) == ["self", "reason"]
    assert callable(tcp.Port.stopListening)


def test_reactor_is_asyncio_and_has_what_the_stop_uses():
    from twisted.internet import reactor
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    assert isinstance(reactor, AsyncioSelectorReactor)
    for name in ("callLater", "callFromThread", "callWhenRunning", "addSystemEventTrigger", "stop", "run"):
        assert callable(getattr(reactor, name)), name
    assert callable(defer.Deferred.fromFuture)


def test_the_form_parse_daphne_never_reads_can_be_skipped(monkeypatch):
    """config.daphne.requests: Twisted's own switch, given through the request class Daphne's factory
    looks up by name for each connection."""
    assert "parsePOSTFormSubmission" in parameters(http.Request.__init__)
    assert "self._parsePOSTFormSubmission" in inspect.getsource(http.Request.requestReceived)
    assert "protocol.requestFactory = WebRequest" in inspect.getsource(HTTPFactory.buildProtocol)
    from daphne import http_protocol

    from config.daphne.requests import skip_form_parsing

    monkeypatch.setattr(http_protocol, "WebRequest", WebRequest)
    skip_form_parsing()
    skip_form_parsing()  # once is enough
    made = http_protocol.WebRequest
    assert made.__mro__[1] is WebRequest and made.skips_form_parsing
    seen = {}
    monkeypatch.setattr(http.Request, "__init__", lambda self, *a, **k: seen.update(k))
    monkeypatch.setattr(WebRequest, "__init__", lambda self, *a, **k: http.Request.__init__(self, *a, **k))
    made(object())
    assert seen == {"parsePOSTFormSubmission": False}
