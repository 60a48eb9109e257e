"""Celery tasks of the tenancy app: thin wrappers over services (the same as the commands)."""

from __future__ import annotations

from celery import shared_task

from authority.services.audit import audit_prune, audit_seal


@shared_task(name="authority.seal_audit_log", ignore_result=True)
def seal_audit_log() -> int:
    return audit_seal()


@shared_task(name="authority.prune_audit_log", ignore_result=True)
def prune_audit_log() -> int:
    return audit_prune()
