"""Django's SQLite backend (ENGINE `authority.db.sqlite3`) that makes the database file's folder
when it connects (the folder 0700, the file 0600): the default database lives under var/
(SA_VAR_DIR), which a fresh clone does not have, and importing the settings creates nothing.
Its committed writes are announced like PostgreSQL's (authority.state_changes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base

from authority.private_files import private_file
from authority.state_changes import watch_writes


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        watch_writes(self)  # committed writes announced (authority.state_changes)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if not self.is_in_memory_db():
            # 0600 in a 0700 folder; SQLite gives its -wal and -shm files the database's mode.
            private_file(Path(conn_params["database"]))
        return super().get_new_connection(conn_params)
