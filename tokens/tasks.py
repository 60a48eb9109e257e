"""Celery tasks of the tokens app: thin wrappers over services (the same as the commands)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from tokens.services.dynamic import ended_session_keys_destroy
from tokens.services.expiry import session_expiry_sweep
from tokens.services.renewals import renewal_schedules_run


@shared_task(name="tokens.sweep_expired_sessions", ignore_result=True)
def sweep_expired_sessions() -> dict[str, int]:
    return asdict(session_expiry_sweep())


@shared_task(name="tokens.run_renewal_schedules", ignore_result=True)
def run_renewal_schedules() -> int:
    return renewal_schedules_run()


@shared_task(name="tokens.destroy_session_keys", ignore_result=True)
def destroy_session_keys() -> int:
    return ended_session_keys_destroy()
