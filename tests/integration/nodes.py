"""Serving the authority from real processes for the fault and two-node suites: a throwaway
redis-server, a database of its own (PostgreSQL when the suite runs on it, else a SQLite file),
and gunicorn nodes started with the environment an operator would give them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
# Ports of this suite (a dead one stands for a broker or database that is down).
REDIS_PORT = 8880
DEAD_PORT = 8881
NODE_PORTS = (8882, 8883, 8884)


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while free(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {port}")
        time.sleep(0.1)


@contextlib.contextmanager
def redis_server(port: int = REDIS_PORT) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: run `bash scripts/system-deps.sh`")
    assert free(port), f"port {port} is taken"
    process = subprocess.Popen(  # noqa: S603 - a fixed program
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def database_url(tmp: Path, name: str) -> str:
    """A fresh, empty database: on the suite's PostgreSQL server when it has one."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{tmp / 'authority.sqlite3'}"
    import psycopg

    parsed = urlparse(base)
    database = f"{parsed.path.lstrip('/') or 'postgres'}_{name}"
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    return parsed._replace(path=f"/{database}").geturl()


def environment(*, tmp: Path, database: str, redis: str | None, broker: str, hsm: dict[str, str]):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "REDIS_URL", "DATABASE_URL", "CELERY_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="authority.settings",
        DEBUG="false",
        SA_VAR_DIR=str(tmp / "var"),
        SECRET_KEY="two-nodes-share-this-test-secret-key-" + "x" * 20,
        DATABASE_URL=database,
        CELERY_BROKER_URL=broker,
        HSM_BACKEND="hsm.keystore.pkcs11.PKCS11KeyStore",
        HSM_MODULE="/usr/lib/softhsm/libsofthsm2.so",
        HSM_TOKEN_LABEL=hsm["label"],
        HSM_PIN=hsm["pin"],
        SOFTHSM2_CONF=hsm["conf"],
        AUDIT_KEY="two-nodes-audit-key-" + "y" * 24,
    )
    if redis:
        env["REDIS_URL"] = redis
    return env


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - the project's own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# Run by `manage.py shell` in the nodes' environment: an owner (its key in the HSM), an admin
# member with a password, and a container.
_BOOTSTRAP = """
from django.contrib.auth.models import User
from authority.models import Membership, Role
from authority.principals import SYSTEM
from authority.services.owners import owner_create
from authority.services.containers import container_create
from authority.principals import Principal
owner = owner_create(actor=SYSTEM, name="Acme", slug="acme")
user = User.objects.create_user("alice", password="correct horse battery staple", is_staff=True)
Membership.objects.create(owner=owner, user=user, role=Role.ADMIN)
container = container_create(actor=Principal(user=user), owner=owner, name="c", cid=None, basic_acl=None)
import json; print(json.dumps({"container": container.container_id}))
"""


def bootstrap(env: dict[str, str]) -> dict[str, str]:
    manage(env, "migrate", "--noinput", "-v", "0")
    out = manage(env, "shell", "--no-imports", stdin=_BOOTSTRAP)
    return json.loads(out.strip().splitlines()[-1])


@dataclass
class Node:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        form: bool = False,
    ) -> tuple[int, dict[str, str], Any, float]:
        """(status, headers, JSON body or text, seconds taken)."""
        data = None
        sent = dict(headers or {})
        if body is not None:
            if form:
                data = "&".join(f"{k}={v}" for k, v in body.items()).encode()
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                sent["Content-Type"] = "application/json"
        url = self.url + path  # always http://127.0.0.1
        request = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                status, answer, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, answer, raw = error.code, dict(error.headers), error.read()
        took = time.monotonic() - started
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, answer, parsed, took


@contextlib.contextmanager
def node(env: dict[str, str], port: int) -> Iterator[Node]:
    assert free(port), f"port {port} is taken"
    process = subprocess.Popen(  # noqa: S603 - the project's own WSGI app
        [
            sys.executable, "-m", "gunicorn", "authority.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60",
            "--log-level", "warning",
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    try:
        _wait_for(port, 60)
        yield Node(port, process)
    finally:
        stop(process)


def client_token(server: Node) -> dict[str, str]:
    status, _, body, _ = server.call(
        "POST",
        "/api/v1/auth/login",
        {"username": "alice", "password": "correct horse battery staple"},
    )
    assert status == 200, body
    return {"Authorization": f"Token {body['token']}"}
