"""Shared fixtures: two tenants (acme, globex), members in each role, and API clients."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, set_token_value
from rest_framework.test import APIClient

from authority.models import Owner, Role
from authority.principals import SYSTEM, Principal
from authority.services.eacl_tables import eacl_table_create
from authority.services.owners import owner_create
from tests.factories import (
    ApplicationFactory,
    ContainerFactory,
    MembershipFactory,
    UserFactory,
)
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import parse_rules


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """PBKDF2's deliberate slowness buys nothing in tests of throwaway users (the client-secret
    hasher stays listed: OAUTH2_PROVIDER's CLIENT_SECRET_HASHER names it)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "authority.services.oauth2_clients.ClientSecretHasher",
    ]


@pytest.fixture
def acme(db: Any) -> Owner:
    """A tenant with its P-256 key in the (test) HSM, made by the real service."""
    return owner_create(actor=SYSTEM, name="Acme", slug="acme")


@pytest.fixture
def globex(db: Any) -> Owner:
    return owner_create(actor=SYSTEM, name="Globex", slug="globex")


@pytest.fixture
def member(db: Any) -> Callable[..., Any]:
    """member(owner, role) -> a staff user with that role in the owner."""

    def make(owner: Owner, role: Role = Role.OPERATOR) -> Any:
        user = UserFactory()
        MembershipFactory(owner=owner, user=user, role=role)
        return user

    return make


@pytest.fixture
def user_client() -> Callable[[Any], APIClient]:
    """An API client logged in with a Django session (as the browsable API and admin are)."""

    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def service_client(db: Any) -> Callable[..., APIClient]:
    """An API client holding an OAuth2 bearer token of a service account of `owner`."""

    def make(owner: Owner, role: Role = Role.OPERATOR) -> APIClient:
        application = ApplicationFactory()
        MembershipFactory(owner=owner, user=None, application=application, role=role)
        raw = secrets.token_urlsafe(32)
        token = AccessToken(
            application=application,
            expires=timezone.now() + dt.timedelta(hours=1),
            scope="authority",
        )
        set_token_value(token, raw)  # at rest: its checksum only, as DOT stores what it issues
        token.save()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def tenant(member: Callable[..., Any]) -> Callable[[Owner], dict[str, Any]]:
    """A container and an eACL table of `owner`, made through the services."""

    def make(owner: Owner) -> dict[str, Any]:
        admin = member(owner, Role.ADMIN)
        container = ContainerFactory(owner=owner)
        table = eacl_table_create(
            actor=Principal(user=admin),
            owner=owner,
            name=f"{owner.slug}-table",
            container=container,
            table=wire.Table(
                container_id=None, records=parse_rules("deny get obj:Classification=secret others")
            ),
        )
        return {"admin": admin, "container": container, "table": table}

    return make


@pytest.fixture(scope="session", autouse=True)
def softhsm_token(tmp_path_factory: Any) -> dict[str, str]:
    """A fresh SoftHSM2 token for the test run (never the system's or the project's own)."""
    import os
    import shutil
    import subprocess

    from django.conf import settings as django_settings

    from authority.conf import authority_settings
    from hsm.keystore import keystore, reset_keystore

    util = shutil.which("softhsm2-util")
    if util is None:
        pytest.exit("softhsm2-util is missing: run `bash scripts/system-deps.sh`", returncode=3)
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    token = {
        "label": "test-authority",
        "pin": "1234-test",
        "so_pin": "5678-test",
        "conf": str(conf),
    }
    subprocess.run(  # noqa: S603 - fixed tool
        [util, "--init-token", "--free", "--label", token["label"],
         "--pin", token["pin"], "--so-pin", token["so_pin"]],
        check=True, capture_output=True,
    )  # fmt: skip
    django_settings.AUTHORITY = {
        **django_settings.AUTHORITY,
        "HSM_KEYSTORE": "hsm.keystore.pkcs11.PKCS11KeyStore",
        "HSM_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
        "HSM_TOKEN_LABEL": token["label"],
        "HSM_PIN": token["pin"],
    }
    authority_settings.reload()
    reset_keystore()
    keystore()  # made now, so that tests replacing settings.AUTHORITY keep this token's store
    return token


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Each test rolls its database back; every per-process cache (authority.caches) and the
    shared cache (nonces, rate-limit counters) must follow."""
    from django.core.cache import cache

    from authority.caches import registry

    registry.clear_all()
    cache.clear()
    yield
    registry.clear_all()  # and after: rows a batch still holds belong to the rolled-back test


# The machine's Redis (REDIS_URL, else the default port), for tests of what needs one whatever
# the run's own cache is (the embedded run has none).
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_cache(settings: Any) -> str:
    """The cache on the machine's Redis under a key prefix of this test's own, so that its
    keys and its announcement channel (authority.state_changes) are the test's alone."""
    settings.CACHES = {
        "default": {
            "BACKEND": "authority.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    return REDIS_URL
