"""The audit log's second sink: one JSON object per line, on stdout or appended to a file, for log
shippers (as Vault's file and socket audit devices); and which sinks can record right now.

The database chain stays the record of truth; the stream repeats each row once its transaction
commits (`transaction.on_commit`: a refused request's rolled-back work leaves no line, a refusal
recorded after the rollback leaves one). A line carries the row as MACed (token fingerprints only,
never a token) and its MAC, so a shipped line can be checked against the database.

Each process opens the file itself, after any fork, with O_APPEND, and writes each line with one
`write()`: lines of concurrent workers never interleave. `AUDIT_STREAM` names the sink: "" (none),
"stdout", or a file path.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import threading
import time
from typing import Any

from django.db import transaction

from authority import metrics
from authority.caches import registry
from authority.conf import authority_settings

# After a failure, a sink counts as unable to record for this many seconds; the next write
# after that tries again (and clears the mark when it succeeds).
RETRY_AFTER = 5.0


class Sink(enum.StrEnum):
    DATABASE = "database"
    STREAM = "stream"


class SinkHealth:
    """When each sink of this process last failed to record (monotonic seconds), if it has."""

    def __init__(self) -> None:
        self.failed_at: dict[Sink, float] = {}

    def failed(self, sink: Sink) -> None:
        self.failed_at[sink] = time.monotonic()

    def recorded(self, sink: Sink) -> None:
        if self.failed_at:  # the hot path pays one truth test
            self.failed_at.pop(sink, None)

    def can_record(self, sink: Sink) -> bool:
        failed = self.failed_at.get(sink)
        return failed is None or time.monotonic() - failed >= RETRY_AFTER

    def any_can_record(self) -> bool:
        """Whether at least one configured sink may record (the fail-closed mode's test)."""
        sinks = [Sink.DATABASE, Sink.STREAM] if authority_settings.AUDIT_STREAM else [Sink.DATABASE]
        return any(self.can_record(sink) for sink in sinks)

    def clear(self) -> None:
        self.failed_at.clear()


sink_health = SinkHealth()


class _Stream:
    """The open stream of this process: (pid, target, descriptor)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: tuple[int, str, int] | None = None

    def write(self, line: bytes) -> None:
        target = authority_settings.AUDIT_STREAM
        with self._lock:
            if self._open is None or self._open[:2] != (os.getpid(), target):
                self._close()
                descriptor = (
                    1
                    if target == "stdout"
                    else os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                )
                self._open = (os.getpid(), target, descriptor)
            os.write(self._open[2], line)

    def _close(self) -> None:
        if self._open is not None and self._open[2] != 1 and self._open[1] != "stdout":
            if self._open[0] == os.getpid():
                os.close(self._open[2])
        self._open = None

    def clear(self) -> None:
        with self._lock:
            self._close()


_stream = _Stream()
registry.attach("authority.audit_stream", clear=_stream.clear)
registry.attach("authority.audit_sink_health", clear=sink_health.clear)


def _line(row: dict[str, Any]) -> bytes:
    created = row["created_at"]
    record = {
        "time": created.astimezone(dt.UTC).isoformat() if isinstance(created, dt.datetime) else "",
        **{name: value for name, value in row.items() if name != "created_at"},
    }
    return json.dumps(record, separators=(",", ":"), default=str).encode() + b"\n"


def stream_write(row: dict[str, Any]) -> bool:
    """Writes the row's line now; whether it could (a failure is remembered, never raised: the
    database chain has the row)."""
    try:
        _stream.write(_line(row))
    except OSError:
        sink_health.failed(Sink.STREAM)
        metrics.audit_sink_failures_total.labels(Sink.STREAM.value).inc()
        return False
    sink_health.recorded(Sink.STREAM)
    return True


def stream_after_commit(row: dict[str, Any]) -> None:
    """The row's line once its transaction commits (at once outside one); nothing without a
    stream."""
    if authority_settings.AUDIT_STREAM:
        transaction.on_commit(lambda: stream_write(row))


def database_failed(row: dict[str, Any]) -> None:
    """The database could not take the row: remember it, and give the stream the line now (no
    commit will come), so that a sink still records it."""
    sink_health.failed(Sink.DATABASE)
    metrics.audit_sink_failures_total.labels(Sink.DATABASE.value).inc()
    if authority_settings.AUDIT_STREAM:
        stream_write(row)
