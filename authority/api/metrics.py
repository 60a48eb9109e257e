"""`GET /metrics`: the Prometheus exposition of authority.metrics, plus figures read from the
database when scraped (sessions by owner and state, unsealed audit rows).

Protected: a request passes with `Authorization: Bearer <METRICS_TOKEN>` (when the token is
set), or from an address in `METRICS_ALLOWED_ADDRESSES` (the loopback addresses by default: a
Prometheus beside the authority, or behind the same proxy — mind that behind a proxy every
request comes from the proxy's address). Anything else is 403. Under gunicorn,
PROMETHEUS_MULTIPROC_DIR makes the answer the sum over every worker (authority.metrics).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from authority.api.errors import error_body
from authority.conf import authority_settings
from authority.metrics import SESSION_OWNERS_SHOWN
from authority.request_context import client_address
from authority.services.audit import audit_unsealed_count
from tokens.selectors import session_counts_by_owner

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCollector(Collector):
    """Figures read from the database at each scrape (so every worker answers the same)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        sessions = GaugeMetricFamily(
            "authority_sessions",
            f"Sessions by owner and state (the {SESSION_OWNERS_SHOWN} owners with the most "
            'sessions by name, the others summed as owner="other").',
            labels=["owner", "state"],
        )
        counts = session_counts_by_owner()
        totals: dict[str, int] = {}
        for (slug, _), count in counts.items():
            totals[slug] = totals.get(slug, 0) + count
        shown = set(sorted(totals, key=lambda slug: (-totals[slug], slug))[:SESSION_OWNERS_SHOWN])
        grouped: dict[tuple[str, str], int] = {}
        for (slug, state), count in counts.items():
            key = (slug if slug in shown else "other", state)
            grouped[key] = grouped.get(key, 0) + count
        for (owner, state), count in sorted(grouped.items()):
            sessions.add_metric([owner, state], count)
        yield sessions
        yield GaugeMetricFamily(
            "authority_audit_unsealed_rows",
            "Audit rows not yet sealed into their owner's chain.",
            value=audit_unsealed_count(),
        )


def _allowed(request: HttpRequest) -> bool:
    token = authority_settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    # The client's address as every throttle takes it: behind a trusted proxy, the proxy's own
    # (often loopback) address must not let every client through.
    return (client_address(request.META) or "") in authority_settings.METRICS_ALLOWED_ADDRESSES


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return JsonResponse(error_body("forbidden", "Not allowed to read the metrics."), status=403)
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        samples = generate_latest(processes)
    else:
        samples = generate_latest(REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    return HttpResponse(samples + generate_latest(database), content_type=CONTENT_TYPE)
