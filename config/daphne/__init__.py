"""Every use of Daphne's internals and of Twisted, in one place.

Daphne has no public API for a graceful stop, so config.daphne.server subclasses its Server and
reads its private connection table, and patches a few Twisted objects (the listening port, the
HTTP factory). Each private name relied on is pinned by tests/test_daphne_internals.py, so that a
Daphne or Twisted upgrade that changes one fails there, loudly, rather than in a shutdown.
Nothing outside this package imports Daphne or Twisted.
"""
