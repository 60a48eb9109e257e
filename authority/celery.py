"""The Celery app, configured from Django settings (CELERY_ namespace), tasks autodiscovered."""

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import task_postrun

from authority.metrics import celery_tasks_total
from authority.private_files import private_directory

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")

app = Celery("authority")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The file-system broker's folders (development, under var/). kombu makes none of them but the
# control folder, and only one level deep.
_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


@app.on_after_configure.connect
def _broker_folders_create(sender: Celery, source: Any, **kwargs: Any) -> None:
    """Makes them when a process first configures the app (a worker, beat, or a web process
    sending its first task), not when the settings are imported."""
    options = source.broker_transport_options or {}
    for folder in _BROKER_FOLDERS:
        if folder in options:
            private_directory(Path(options[folder]))  # 0700: messages carry task arguments


# Task runs and failures for the metrics endpoint (authority.metrics). A worker's counts reach
# /metrics when it shares PROMETHEUS_MULTIPROC_DIR with the web workers (docs/operations.md).
_TASK_OUTCOMES = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}


@task_postrun.connect
def _task_ran(sender: Any = None, state: str | None = None, **kwargs: Any) -> None:
    outcome = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}.get(
        state or "", "other"
    )
    celery_tasks_total.labels(getattr(sender, "name", "unknown"), outcome).inc()
