#!/usr/bin/env bash
# `make run`: web server, Celery worker and beat together, on the embedded defaults
# (SQLite, the file-system broker under var/). Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
"$VENV/bin/python" manage.py setup_schedules
mkdir -p "${SA_VAR_DIR:-var}"  # beat keeps its schedule file there
"$VENV/bin/celery" -A authority worker --beat --pool=solo --loglevel=warning \
  --schedule "${SA_VAR_DIR:-var}/celerybeat-schedule" &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
"$VENV/bin/python" manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
