"""Production static files: with DEBUG off, the WSGI application itself (whitenoise) serves what
collectstatic gathered — the admin's stylesheets, the console's, and the API docs' assets."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application

ASSETS = [
    ("/static/admin/css/base.css", "text/css"),
    ("/static/authority/console.css", "text/css"),
    ("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", "javascript"),
]


def get(application: Any, path: str) -> tuple[str, dict[str, str], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
    }  # fmt: skip
    body = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], body


@pytest.mark.django_db
def test_the_wsgi_application_serves_collected_static_files_with_debug_off(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    application = get_wsgi_application()  # as `gunicorn authority.wsgi` builds it
    for path, content_type in ASSETS:
        status, headers, body = get(application, path)
        assert status.startswith("200"), (path, status)
        assert content_type in headers["Content-Type"] and body, path
    status, _, _ = get(application, "/static/admin/css/no-such.css")
    assert status.startswith("404")
