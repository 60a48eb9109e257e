"""Django's PostgreSQL backend (ENGINE `authority.db.postgresql`), whose committed writes are
announced to every process (authority.state_changes), with two additions for the hot paths, whose
statements are one round trip each:

- `prepared_cursor()`: a server-side binding cursor. psycopg prepares a statement on the server
  after it ran `prepare_threshold` times on the connection (settings: 5); Django's default
  client-side binding has PostgreSQL plan every statement again, which costs about twice the
  trade's indexed read itself. Only the fixed statements of the hot paths use it, so the rest
  of Django keeps its client-side binding. (A transaction-pooling pgbouncer needs
  `max_prepared_statements`.)
- `is_usable()` without a round trip (CONN_HEALTH_CHECKS runs it before each request's first
  query): an idle connection the server has not written to is usable; one the server closed, or
  wrote to unasked (a termination notice), is not, and Django opens a new one. Django's own
  check sends `SELECT 1`, a round trip per request.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg import pq

from authority.state_changes import watch_writes

ServerBindingCursor: Any = base.ServerBindingCursor


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        watch_writes(self)  # committed writes announced (authority.state_changes)

    def prepared_cursor(self) -> Any:
        """Like `cursor()`, binding parameters on the server (see the module's docstring)."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(ServerBindingCursor(self.connection))  # type: ignore[attr-defined]

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return bool(super().is_usable())  # mid-transaction: ask the server
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return not poller.poll(0)  # readable while idle: closed, or closing, by the server
