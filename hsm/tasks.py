"""Celery tasks of the hsm app: thin wrappers over services (the same as the commands)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from hsm.rotation import keys_rotate_due


@shared_task(name="hsm.rotate_keys", ignore_result=True)
def rotate_keys() -> dict[str, list[str]]:
    return asdict(keys_rotate_due())
