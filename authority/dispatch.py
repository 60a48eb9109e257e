"""Sending Celery tasks from request handling: after commit, and never failing the request.

A task is sent by its name once the transaction that asked for it commits (it must see the
committed rows). By name, as beat sends them: services never import the task modules, which are
interfaces over them (authority/tasks.py, tokens/tasks.py).
If the broker cannot take it, the request has already succeeded: the failure is logged and the
periodic schedules (beat) catch the work up — every task here is also a sweep over the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from authority.celery import app

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    def send() -> None:
        try:
            app.send_task(task_name, args=args, retry=False)
        except Exception as exc:  # noqa: BLE001 - any broker failure; the schedule catches up
            logger.warning(
                "Broker unavailable; %s left to its schedule: %s", task_name, type(exc).__name__
            )

    transaction.on_commit(send)
