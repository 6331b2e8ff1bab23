"""config.urls as an OAuth-mode server has them, for in-process tests (@pytest.mark.urls).

config.urls reads OAUTH_ENABLED once, at import; the test settings have it off. This runs the same
module again, under its own name, with the flag on.
"""

from __future__ import annotations

import importlib.util

from django.test import override_settings

_spec = importlib.util.find_spec("config.urls")
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
with override_settings(OAUTH_ENABLED=True):
    _spec.loader.exec_module(_module)

urlpatterns = _module.urlpatterns
