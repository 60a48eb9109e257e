"""The authority's Prometheus metrics, declared in one place (`prometheus-client`).

Under gunicorn (several worker processes) set PROMETHEUS_MULTIPROC_DIR to an empty directory
shared by the web workers (and the Celery worker, to see its task counts) before they start:
each process then writes its samples to files there, and `/metrics` (authority.api.metrics)
aggregates them. Without it, each process serves its own samples (development, tests).

Labels are bounded: an operation is one of the audited API actions or `other`, an outcome one of
four words, an HSM operation one of the key store's methods, and sessions are counted for the
owners with the most sessions only (`SESSION_OWNERS_SHOWN`, the rest summed as `other`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram

T = TypeVar("T")

# Operations that take a few ms (a verify) to a few hundred (an HSM key generation).
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SESSION_OWNERS_SHOWN = 20

requests_total = Counter(
    "authority_requests_total",
    "API requests answered, by operation and outcome (success, denied, invalid, error).",
    ["operation", "outcome"],
)
request_seconds = Histogram(
    "authority_request_seconds",
    "Time to answer an API request, by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
throttled_total = Counter(
    "authority_throttled_total", "API requests refused with 429, by operation.", ["operation"]
)
verify_decisions_total = Counter(
    "authority_verify_decisions_total",
    "Decisions of the policy decision point, by decision and reason.",
    ["decision", "reason"],
)
hsm_seconds = Histogram(
    "authority_hsm_operation_seconds",
    "Time of a key store operation, by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
hsm_errors_total = Counter(
    "authority_hsm_errors_total", "Key store operations that failed, by operation.", ["operation"]
)
celery_tasks_total = Counter(
    "authority_celery_tasks_total",
    "Celery task runs, by task and outcome (success, failure, retry).",
    ["task", "outcome"],
)
decision_rows_total = Counter(
    "authority_decision_rows_total",
    "Rows the decision point (verify, introspection) used, by source: remembered (`memory`) or "
    "read (`database`) (authority.state_changes).",
    ["source"],
)
state_change_announce_failures_total = Counter(
    "authority_state_change_announce_failures_total",
    "Committed writes that could not be announced to the other processes "
    "(authority.state_changes): what they remember may lag by up to FACTS_TTL.",
)
audit_sink_failures_total = Counter(
    "authority_audit_sink_failures_total", "Audit rows a sink could not record.", ["sink"]
)


@contextmanager
def hsm_timed(operation: str) -> Iterator[None]:
    """Times a key store operation and counts it as an error when it raises."""
    began = time.perf_counter()
    try:
        yield
    except BaseException:
        hsm_errors_total.labels(operation).inc()
        raise
    finally:
        hsm_seconds.labels(operation).observe(time.perf_counter() - began)


def hsm_instrumented(operation: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """The decorator form of `hsm_timed`, for the key store's methods."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            with hsm_timed(operation):
                return method(*args, **kwargs)

        timed.__name__ = method.__name__
        timed.__doc__ = method.__doc__
        return timed

    return decorate
