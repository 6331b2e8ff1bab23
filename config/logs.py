"""LOG_FORMAT=json: one JSON object per line, for log collectors (Loki, Elasticsearch, CloudWatch).

Fields: time (UTC, ISO 8601), level, logger, message, and whatever a caller passed as `extra`
(the access log adds client_ip, method, path, status, duration_ms, and user, client and tools on MCP
requests). Nothing here adds request headers or bodies, so tokens cannot reach the log through it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# The attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
