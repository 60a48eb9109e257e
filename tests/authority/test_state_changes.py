"""Committed writes announced (authority.state_changes): which statements announce, once per
committed transaction and never for a rolled-back one, on a channel of the deployment's own."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import redis
from django.apps import apps
from django.core.cache import caches
from django.db import transaction
from oauth2_provider.models import get_application_model

from authority import state_changes
from authority.models import AuditEvent, Container, EACLTable, Membership, Owner
from tests.factories import ContainerFactory
from tokens.models import BearerGrant, RevokedAccessToken, Session


@pytest.mark.parametrize(
    ("sql", "announced"),
    [
        ('SELECT "authority_container"."id" FROM "authority_container"', False),
        ('UPDATE "authority_container" SET "name" = %s WHERE "id" = %s', True),
        ('INSERT INTO "tokens_session" ("id") VALUES (%s)', True),
        ('DELETE FROM "authority_membership" WHERE "id" IN (%s)', True),
        ('INSERT INTO "authority_auditevent" ("actor") SELECT %s WHERE TRUE', False),
        ('UPDATE "oauth2_provider_accesstoken" SET "expires" = %s', False),
        ('SAVEPOINT "s1_x1"', False),
        ("SET LOCAL synchronous_commit TO OFF", False),
        ('RELEASE SAVEPOINT "s1_x1"', False),
        ("BEGIN IMMEDIATE", False),
        ('ALTER TABLE "authority_container" ADD COLUMN "x" integer', True),
        ('TRUNCATE "tokens_session"', True),
        ('WITH moved AS (DELETE FROM "tokens_session" RETURNING 1) SELECT 1', True),
    ],
)
def test_which_statements_announce(sql: str, announced: bool) -> None:
    assert state_changes.is_announced_write(sql) is announced


def test_the_unwatched_tables_are_tables_the_decision_point_never_reads() -> None:
    tables = {model._meta.db_table for model in apps.get_models()}
    assert state_changes.UNWATCHED_TABLES <= tables  # no stale names
    read = {
        model._meta.db_table
        for model in (
            Container, Owner, Membership, EACLTable, Session, BearerGrant, RevokedAccessToken,
            get_application_model(), apps.get_model("auth", "User"),
        )
    }  # fmt: skip
    assert not read & state_changes.UNWATCHED_TABLES
    assert AuditEvent._meta.db_table in state_changes.UNWATCHED_TABLES


@pytest.fixture
def channel(redis_cache: str) -> Any:
    """A subscription to the announcements of a cache with a key prefix of its own."""
    _, name = caches["default"].announcements(state_changes.CHANNEL)
    subscription = redis.Redis.from_url(redis_cache).pubsub(ignore_subscribe_messages=True)
    subscription.subscribe(name)
    assert subscription.get_message(timeout=1) is None  # the confirmation, ignored

    def heard() -> int:
        count = 0
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            if subscription.get_message(timeout=0.05) is not None:
                count += 1
        return count

    yield heard
    subscription.close()


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_is_announced_once_after_its_commit(acme, channel) -> None:
    with transaction.atomic():
        for name in ("one", "two", "three"):
            ContainerFactory(owner=acme, name=name)
        assert channel() == 0  # not before the commit
    assert channel() == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_is_not_announced(acme, channel) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        ContainerFactory(owner=acme, name="gone")
        raise RuntimeError
    assert channel() == 0
    with transaction.atomic():  # a savepoint rolled back takes its registration with it...
        try:
            with transaction.atomic():
                ContainerFactory(owner=acme, name="gone too")
                raise RuntimeError
        except RuntimeError:
            pass
        ContainerFactory(owner=acme, name="kept")  # ...and a later write registers again
    assert channel() == 1


@pytest.mark.django_db(transaction=True)
def test_an_autocommit_write_is_announced_at_once(acme, channel) -> None:
    Container.objects.filter(owner=acme).update(name="renamed")
    assert channel() == 1
    AuditEvent.objects.filter(owner_id=acme.pk).update(object_type="x")  # unwatched
    assert channel() == 0


def test_every_connection_of_the_project_backends_announces_from_its_birth() -> None:
    from django.db import connections

    fresh = connections.create_connection("default")  # not yet connected: no signal has fired
    assert state_changes._watch_writes in fresh.execute_wrappers
    fresh.close()


@pytest.mark.django_db
def test_no_remembered_read_consults_an_unwatched_table(acme, member) -> None:
    """The tables the remembered statements read, as compiled for a user and an application
    (visible_to's joins included), are all watched: none of their writes goes unannounced."""
    import re

    from authority.models import Role
    from authority.principals import Principal
    from authority.selectors import _decision_read
    from tests.factories import ApplicationFactory, MembershipFactory
    from tokens.services.introspection import _access_token_read
    from tokens.services.verify import _state_read, _Wanted

    application = ApplicationFactory()
    MembershipFactory(owner=acme, user=None, application=application, role=Role.RESOURCE_SERVER)
    wanted = _Wanted(
        session=uuid.uuid4(), bearer_digest="d" * 64, access_session=uuid.uuid4(), access_jti="j"
    )
    also = _state_read(wanted)
    assert also is not None
    for principal in (Principal(user=member(acme)), Principal(application=application)):
        reads = (
            _decision_read(principal, b"c" * 32, *also.values, also=also),
            _access_token_read(principal, uuid.uuid4(), "jti"),
        )
        for read in reads:
            sql = str(read.query)
            tables = set(re.findall(r'(?:FROM|JOIN)\s+"(\w+)"', sql))
            assert "authority_membership" in tables  # visible_to's scoping, compiled in
            assert not tables & state_changes.UNWATCHED_TABLES, tables
