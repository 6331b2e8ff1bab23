"""Process state shared by the server loop and the views: is this replica on its way out?"""

from __future__ import annotations

import threading

# Set when the replica was told to stop (SIGTERM): /ready answers 503 while in-flight requests finish.
draining = threading.Event()
