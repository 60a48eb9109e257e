"""Production security headers (issue 17): HSTS and an HTTPS redirect in production, the proxy's
HTTPS header trusted only when a proxy is configured, and a Content-Security-Policy with which the
admin and /api/docs still work (no inline script anywhere)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from authority.models import Role
from tests.authority.test_settings import _python

PRODUCTION = {"DJANGO_ENV": "production", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "sa.example"}
_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="sa.example")
plain = client.get("/api/v1/epoch")
claimed = client.get("/api/v1/epoch", HTTP_X_FORWARDED_PROTO="https")
secure = client.get("/healthz", secure=True)
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "claimed": claimed.status_code,
    "probe": client.get("/healthz").status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "csp": secure.get("Content-Security-Policy"),
    "header": settings.SECURE_PROXY_SSL_HEADER,
}))
"""


def _production(tmp_path, **environment):
    result = _python(
        _PROBE, tmp_path, SA_VAR_DIR=str(tmp_path / "var"), **PRODUCTION, **environment
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_and_sends_hsts(tmp_path):
    seen = _production(tmp_path)
    assert seen["plain"] == [301, "https://sa.example/api/v1/epoch"]
    assert seen["claimed"] == 301  # X-Forwarded-Proto is the client's say: no proxy configured
    assert seen["header"] is None
    assert seen["probe"] == 200  # the probes call the pod over plain HTTP
    assert seen["hsts"] == "max-age=31536000"
    assert "default-src 'self'" in seen["csp"] and "script-src 'self';" in seen["csp"]


def test_behind_a_configured_proxy_its_https_header_is_trusted(tmp_path):
    seen = _production(tmp_path, NUM_PROXIES="1")
    assert seen["header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["claimed"] != 301 and seen["plain"][0] == 301
    named = _production(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme")
    assert named["header"] == ["HTTP_X_FORWARDED_SCHEME", "https"]


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _no_inline_script(response):
    assert response.status_code == 200, response.status_code
    assert "script-src 'self';" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert not _INLINE_SCRIPT.findall(html), _INLINE_SCRIPT.findall(html)
    assert " onclick=" not in html and " onload=" not in html


@pytest.mark.django_db
def test_the_admin_and_api_docs_work_under_the_policy(acme, member, tenant):
    client = Client()
    _no_inline_script(client.get("/admin/login/"))
    admin = tenant(acme)["admin"]
    client.force_login(admin)
    for page in (
        "/admin/",
        "/admin/authority/container/",
        f"/admin/authority/container/{tenant(acme)['container'].pk}/change/",
        "/admin/authority/owner/",
        f"/admin/authority/owner/{acme.pk}/change/",
        "/api/docs/",
    ):
        _no_inline_script(client.get(page))
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    docs = client.get("/api/docs/").content.decode()
    for asset in re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', docs):
        assert asset.startswith("/"), asset  # this origin only (drf-spectacular-sidecar)


def test_a_viewer_sees_the_policy_on_api_responses_too(db, acme, member, user_client):
    response = user_client(member(acme, Role.VIEWER)).get("/api/v1/owners")
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
