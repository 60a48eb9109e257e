"""Liveness (`/healthz`) and readiness (`/readyz`: database, Redis when configured, HSM)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from authority.celery import app
from authority.conf import authority_settings

READINESS_CHECKS: list[tuple[str, Callable[[], dict[str, object]]]] = []


def readiness_check(
    name: str,
) -> Callable[[Callable[[], dict[str, object]]], Callable[[], dict[str, object]]]:
    """Registers a check; it returns details and raises when the dependency is not usable."""

    def register(check: Callable[[], dict[str, object]]) -> Callable[[], dict[str, object]]:
        READINESS_CHECKS.append((name, check))
        return check

    return register


@readiness_check("database")
def _database() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"vendor": connection.vendor}


@readiness_check("redis")
def _redis() -> dict[str, object]:
    if not authority_settings.REDIS_URL:
        return {"configured": False}
    import redis

    client = redis.Redis.from_url(
        authority_settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"configured": True}


@readiness_check("broker")
def _broker() -> dict[str, object]:
    """The Celery broker takes a connection (one short attempt: authority.celery's settings)."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=0, timeout=1)
        return {"transport": connection.transport.driver_type}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    ready = True
    for name, check in READINESS_CHECKS:
        try:
            results[name] = {"ok": True, **check()}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by type
            ready = False
            results[name] = {"ok": False, "error": type(exc).__name__}
    response = JsonResponse({"ready": ready, "checks": results}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "5"
    return response
