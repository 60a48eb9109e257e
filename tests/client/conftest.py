"""A real authority for the SDK and sactl: pytest-django's live server (the app in a thread of
this process, on the test database), a tenant with a container, and an OAuth2 service account
whose client credentials the SDK exchanges itself at /o/token/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from authority.models import Owner, Role
from tests.factories import ApplicationFactory, ContainerFactory, MembershipFactory
from tokens.client import Client, ClientCredentials, SessionFile
from tokens.client.cli import cli

SECRET = "client-secret-for-tests-only"


@dataclass
class Authority:
    url: str
    owner: Owner
    container: str
    client_id: str
    client_secret: str
    token_path: Path


@pytest.fixture
def authority(live_server: Any, transactional_db: Any, acme: Owner, tmp_path: Path) -> Authority:
    container = ContainerFactory(owner=acme)
    application = ApplicationFactory(client_secret=SECRET)
    MembershipFactory(owner=acme, user=None, application=application, role=Role.ADMIN)
    return Authority(
        url=live_server.url,
        owner=acme,
        container=container.container_id,
        client_id=application.client_id,
        client_secret=SECRET,
        token_path=tmp_path / "state" / "session-authority" / "token",
    )


@pytest.fixture
def sdk(authority: Authority) -> Any:
    client = Client(
        authority.url,
        credentials=ClientCredentials(authority.client_id, authority.client_secret),
        session_file=SessionFile(authority.token_path),
    )
    yield client
    client.close()


@pytest.fixture
def sactl(authority: Authority, monkeypatch: pytest.MonkeyPatch) -> Any:
    """sactl(*args, env=None) -> click's Result, run as a service account (client credentials)."""
    for name in ("SA_PASSWORD", "SA_TOKEN", "SA_CLIENT_ID", "SA_CLIENT_SECRET", "SA_USERNAME"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        base = {
            "SA_URL": authority.url,
            "SA_TOKEN_PATH": str(authority.token_path),
            "SA_CLIENT_ID": authority.client_id,
            "SA_CLIENT_SECRET": authority.client_secret,
        }
        return CliRunner().invoke(cli, list(args), env={**base, **(env or {})})

    return run
