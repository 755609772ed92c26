"""The last errors this process logged, for the status page.

A logging handler on the root logger keeps the newest ERROR records (message only, scrubbed of the
configured secrets and anything token-shaped, like every other log line). They live in this process's
memory: a restart empties the list, and with several workers each shows its own. The full record,
with its traceback, is in the log as always.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from connector.logs import RedactingFilter

MAX_KEPT = 20


@dataclass(frozen=True)
class LoggedError:
    at: datetime
    logger: str
    message: str


class RecentErrors(logging.Handler):
    def __init__(self, *, secrets: list[str], capacity: int = MAX_KEPT) -> None:
        super().__init__(level=logging.ERROR)
        self._kept: deque[LoggedError] = deque(maxlen=capacity)
        self._guard = threading.Lock()
        self._redact = RedactingFilter(secrets)
        self.set_name("oro-connector-recent-errors")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self._redact.scrub(record.getMessage())
        except Exception:  # a broken log call must not break the request that made it
            message = str(record.msg)
        entry = LoggedError(datetime.fromtimestamp(record.created, UTC), record.name, message[:500])
        with self._guard:
            self._kept.append(entry)

    def newest_first(self) -> list[LoggedError]:
        with self._guard:
            return list(reversed(self._kept))


def install(secrets: list[str]) -> RecentErrors:
    """Attach a collector to the root logger, replacing one an earlier app of this process attached."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "oro-connector-recent-errors"]:
        root.removeHandler(old)
    handler = RecentErrors(secrets=secrets)
    root.addHandler(handler)
    return handler
