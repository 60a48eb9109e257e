"""Project plumbing a user meets first: OAuth2 client credentials, demo data, health, OpenAPI,
the epoch clock, and production settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from authority.models import Container, EACLTable, Owner

ROOT = Path(__file__).resolve().parents[2]


def _demo() -> dict:
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_demo_is_idempotent_and_its_credentials_work():
    first = _demo()
    second = _demo()
    assert set(second) == {"acme", "globex"}
    assert Owner.objects.count() == 2
    assert Container.objects.count() == 2 and EACLTable.objects.count() == 2
    assert first["acme"]["container_id"] == second["acme"]["container_id"]

    creds = second["acme"]["oauth2_client"]
    token = Client().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
    )
    assert token.status_code == 200, token.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    containers = api.get("/api/v1/containers").json()["results"]
    assert [c["container_id"] for c in containers] == [second["acme"]["container_id"]]

    login = Client()
    assert login.login(
        username=second["globex"]["user"]["username"], password=second["globex"]["user"]["password"]
    )
    assert login.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_health_and_readiness():
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readiness_fails_with_retry_after_when_redis_is_down(settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "REDIS_URL": "redis://127.0.0.1:1/0"}
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["checks"]["redis"]["ok"] is False


def test_openapi_schema_validates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/containers" in target.read_text()


@pytest.mark.django_db
def test_docs_ui_is_served_without_a_cdn():
    import re

    page = Client().get("/api/docs/").content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing loaded from elsewhere
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page


def test_epoch_clock(settings, db):
    import datetime as dt

    from authority.epoch import epoch_at, epochs_for

    settings.AUTHORITY = {"EPOCH_DURATION": 240, "EPOCH_ORIGIN": "2024-01-01T00:00:00+00:00"}
    origin = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert epoch_at(origin) == 0
    assert epoch_at(origin + dt.timedelta(seconds=239)) == 0
    assert epoch_at(origin + dt.timedelta(seconds=240)) == 1
    assert epochs_for(1) == 1 and epochs_for(240) == 1 and epochs_for(241) == 2
    body = APIClient().get("/api/v1/epoch").json()
    assert body["duration"] == 240 and body["epoch"] > 1000


def _settings_import(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", "import authority.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _settings_import({"DJANGO_ENV": "production", "SA_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    result = _settings_import(
        {"DJANGO_ENV": "production", "SECRET_KEY": "x" * 50, "SA_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_starts_with_a_secret_key_and_hosts(tmp_path):
    result = _settings_import(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "authority.example",
            "SA_VAR_DIR": str(tmp_path),
        }
    )
    assert result.returncode == 0, result.stderr
