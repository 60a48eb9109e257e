"""authority.db.postgresql: prepared hot-path statements and a health check without a round
trip (PostgreSQL only)."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="PostgreSQL backend"
)


@pytest.mark.django_db
def test_hot_path_statements_are_prepared_on_the_server():
    for _ in range(6):  # psycopg prepares after `prepare_threshold` (5) executions
        with connection.prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone()[0] == 42
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert any("+ 1" in row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_an_idle_healthy_connection_is_usable_without_a_round_trip(monkeypatch):
    connection.ensure_connection()
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    def no_round_trips(*args, **kwargs):
        raise AssertionError("the health check spoke to the server")

    with monkeypatch.context() as patched:
        patched.setattr(connection.connection, "cursor", no_round_trips)
        patched.setattr(connection.connection, "execute", no_round_trips)
        assert connection.is_usable() is True


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_next_query():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(_dsn(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.time() + 5
    while connection.is_usable() and time.time() < deadline:
        time.sleep(0.05)
    assert connection.is_usable() is False
    connection.health_check_done = False  # as at the start of a request
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def _dsn() -> str:
    params = connection.get_connection_params()
    keys = ("host", "port", "user", "password", "dbname")
    return " ".join(f"{key}={params[key]}" for key in keys if params.get(key))
