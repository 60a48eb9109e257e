"""Observability (issue 18): the metrics endpoint after a known sequence of requests, the
production log line, the audit stream sink, the fail-closed mode and the audit-hash form."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys
from typing import Any

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from authority.logs import logging_config
from authority.models import AuditEvent, Role
from authority.services.audit import AuditAction, audit_unsealed_count, token_fingerprint
from authority.services.audit import stream as audit_stream
from tests.factories import ContainerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ws(acme, globex, member, user_client, service_client) -> dict[str, Any]:
    operator = member(acme, Role.OPERATOR)
    return {
        "acme": acme,
        "container": ContainerFactory(owner=acme),
        "operator": user_client(operator),
        "service": service_client(acme, Role.OPERATOR),
        "anonymous": APIClient(),
    }


def _issue(ws) -> dict[str, Any]:
    body = {"verbs": ["GET"], "container": ws["container"].container_id}
    response = ws["operator"].post("/api/v1/sessions", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _trade(ws, token: str) -> Any:
    return ws["anonymous"].post("/api/v1/trade", {"subject_token": token}, format="json")


def _scrape(client: APIClient | None = None, **headers: str) -> dict[tuple[str, tuple], float]:
    response = (client or APIClient()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    samples: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_a_known_sequence_of_requests(ws, settings):
    session = _issue(ws)
    before = _scrape()
    assert _trade(ws, session["token"]).status_code == 200
    assert _trade(ws, session["token"]).status_code == 200
    assert _trade(ws, session["token"] + "x").status_code == 401
    _issue(ws)
    verify = {"verb": "GET", "container": ws["container"].container_id}
    assert ws["service"].post("/api/v1/verify", verify, format="json").status_code == 200
    settings.AUTHORITY = {**settings.AUTHORITY, "LOGIN_THROTTLE": "1/minute"}
    for _ in range(3):
        login = {"username": "nobody", "password": "wrong"}
        APIClient().post("/api/v1/auth/login", login, format="json")
    after = _scrape()

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    trade = AuditAction.SESSION_TRADE.value
    assert grew("authority_requests_total", operation=trade, outcome="success") == 2
    assert grew("authority_requests_total", operation=trade, outcome="denied") == 1
    assert grew("authority_request_seconds_count", operation=trade) == 3
    issue = AuditAction.SESSION_ISSUE.value
    assert grew("authority_requests_total", operation=issue, outcome="success") == 1
    verify_op = AuditAction.REQUEST_VERIFY.value
    assert grew("authority_requests_total", operation=verify_op, outcome="success") == 1
    assert (
        sum(v for (name, _), v in after.items() if name == "authority_verify_decisions_total") >= 1
    )
    assert grew("authority_throttled_total", operation="other") >= 1
    # The first trade signed an access token in the HSM.
    assert grew("authority_hsm_operation_seconds_count", operation="sign") >= 1
    # Figures read from the database when scraped.
    assert _value(after, "authority_sessions", owner="acme", state="active") == 2
    assert _value(after, "authority_audit_unsealed_rows") == audit_unsealed_count()


def test_metrics_are_protected(settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "METRICS_ALLOWED_ADDRESSES": []}
    assert APIClient().get("/metrics").status_code == 403
    settings.AUTHORITY = {**settings.AUTHORITY, "METRICS_TOKEN": "scrape-secret"}
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    _scrape(HTTP_AUTHORIZATION="Bearer scrape-secret")
    settings.AUTHORITY = {**settings.AUTHORITY, "METRICS_ALLOWED_ADDRESSES": ["10.1.2.3"]}
    assert APIClient(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200


def test_metrics_behind_a_proxy_judge_the_client_not_the_proxy(settings):
    settings.AUTHORITY = {
        **settings.AUTHORITY,
        "NUM_PROXIES": 1,
        "METRICS_ALLOWED_ADDRESSES": ["127.0.0.1"],
    }
    via_proxy = APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert via_proxy.get("/metrics").status_code == 403
    own = APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert own.get("/metrics").status_code == 200


class _Captured:
    def __init__(self, buffer: io.StringIO) -> None:
        self.buffer = buffer

    def read(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


@pytest.fixture
def json_logs(settings):
    """The production logging configuration, its one handler writing to a buffer."""
    logging.config.dictConfig(logging_config(level="INFO", form="json"))
    (handler,) = logging.getLogger().handlers  # the one handler: Django's loggers propagate
    buffer = io.StringIO()
    handler.setStream(buffer)
    yield _Captured(buffer)
    logging.config.dictConfig(settings.LOGGING)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.__stderr__)


def _lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def test_production_log_lines_are_json_once_per_request_with_the_request_id(ws, json_logs):
    session = _issue(ws)
    json_logs.read()
    succeeded = _trade(ws, session["token"])
    failed = _trade(ws, session["token"] + "x")
    missing = ws["operator"].post("/api/v1/sessions/00000000-0000-0000-0000-000000000000/renew")
    assert (succeeded.status_code, failed.status_code, missing.status_code) == (200, 401, 404)
    output = json_logs.read()
    lines = _lines(output)  # every line is one JSON object
    for response, status in ((succeeded, 200), (failed, 401), (missing, 404)):
        mine = [line for line in lines if line["request_id"] == response["X-Request-ID"]]
        assert len(mine) == 1, mine  # one line per event: no second copy by Django
        assert mine[0]["status"] == status and mine[0]["logger"] == "authority.requests"
        assert mine[0]["level"] == ("INFO" if status < 400 else "WARNING")
    assert "Traceback" not in output
    assert session["token"] not in output
    assert succeeded.json()["access_token"] not in output


def test_credentials_in_a_message_are_redacted(json_logs):
    logging.getLogger("authority.test").warning(
        "saw sa1.abc.def and Bearer abcdef123 and eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl"
    )
    (line,) = _lines(json_logs.read())
    assert line["message"] == "saw [redacted] and [redacted] and [redacted]"
    assert line["request_id"] == "-"


def test_the_audit_stream_repeats_committed_rows_and_refusals(
    ws, settings, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "audit.jsonl"
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_STREAM": str(path)}
    with django_capture_on_commit_callbacks(execute=True):
        session = _issue(ws)
        _trade(ws, session["token"])
        _trade(ws, session["token"] + "x")
    lines = _lines(path.read_text())
    by_action = {}
    for line in lines:
        by_action.setdefault(line["action"], []).append(line)
    assert [line["outcome"] for line in by_action["session.issue"]] == ["success"]
    assert sorted(line["outcome"] for line in by_action["session.trade"]) == ["denied", "success"]
    refused = next(line for line in by_action["session.trade"] if line["outcome"] == "denied")
    assert refused["token_fingerprint"] == token_fingerprint(session["token"] + "x")
    assert session["token"] not in path.read_text()
    stored = AuditEvent.objects.get(row_mac=refused["row_mac"])
    assert stored.detail["reason"] == refused["detail"]["reason"] == "invalid_token"


@pytest.mark.django_db(transaction=True)
def test_fail_closed_refuses_state_changes_while_no_sink_can_record(
    acme, member, user_client, settings, tmp_path, monkeypatch
):
    ws = {
        "container": ContainerFactory(owner=acme),
        "operator": user_client(member(acme, Role.OPERATOR)),
        "anonymous": APIClient(raise_request_exception=False),  # answers, even a 500
    }
    session = _issue(ws)
    assert _trade(ws, session["token"]).status_code == 200  # the signing key made, cached
    settings.AUTHORITY = {
        **settings.AUTHORITY,
        "AUDIT_FAIL_CLOSED": True,
        "AUDIT_STREAM": str(tmp_path / "no such directory" / "audit.jsonl"),
    }
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        broken = _trade(ws, session["token"])  # its audit row cannot be written anywhere
        assert broken.status_code in (500, 503)
        refused = _trade(ws, session["token"])
        assert refused.status_code == 503 and refused.json()["error"] == "unavailable"
        assert refused["Retry-After"]
        assert ws["operator"].get("/api/v1/epoch").status_code == 200  # reads go on
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    monkeypatch.setattr(audit_stream, "RETRY_AFTER", 0.0)  # the next request tries the sinks
    assert _trade(ws, session["token"]).status_code == 200


def test_the_admin_computes_a_known_tokens_fingerprint(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")
    client.force_login(admin)
    page = client.get("/admin/authority/auditevent/hash/")
    assert page.status_code == 200
    answer = client.post("/admin/authority/auditevent/hash/", {"token": "sa1.known.token"})
    assert answer.status_code == 200
    text = answer.content.decode()
    assert token_fingerprint("sa1.known.token") in text
    assert "sa1.known.token" not in text


def test_celery_task_runs_are_counted():
    from authority.tasks import seal_audit_log

    before = _scrape()
    seal_audit_log.apply()  # runs the task here, through Celery's tracer and its signals
    after = _scrape()
    labels = {"task": "authority.seal_audit_log", "outcome": "success"}
    assert (
        _value(after, "authority_celery_tasks_total", **labels)
        - _value(before, "authority_celery_tasks_total", **labels)
        == 1
    )


def test_logs_are_json_in_production_and_plain_in_development(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    code = (
        "import django, logging; django.setup(); from django.conf import settings;"
        "print(settings.LOG_FORMAT, type(logging.getLogger().handlers[0].formatter).__name__)"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "LOG_FORMAT"}}
    base.update(PYTHONPATH=str(Path(__file__).resolve().parents[2]), SA_VAR_DIR=str(tmp_path))
    base["DJANGO_SETTINGS_MODULE"] = "authority.settings"

    def run(**environment: str) -> str:
        result = subprocess.run(  # noqa: S603 - fixed interpreter and arguments
            [sys.executable, "-c", code], env={**base, **environment}, capture_output=True,
            text=True, timeout=120, check=True,
        )  # fmt: skip
        return result.stdout.strip()

    production = {"DJANGO_ENV": "production", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "a.example"}
    assert run(**production) == "json JSONFormatter"
    assert run(DJANGO_ENV="development") == "plain PlainFormatter"
    assert run(**production, LOG_FORMAT="plain") == "plain PlainFormatter"
