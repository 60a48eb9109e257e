"""The decision point's remembered rows (authority.state_changes): a second decision reads no
row from the database, and every change made through the application acts at the next decision.

These tests commit (transactional_db): rows are remembered only outside a transaction, and
writes are announced when they commit. Redis is the machine's, under a key prefix of each test's
own (the `redis_cache` fixture), so that its channel is the test's alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from authority import lru, state_changes
from authority.caches import FACTS_TTL
from authority.models import Membership
from authority.principals import SYSTEM, Principal
from authority.selectors import container_for_decision
from authority.services.containers import container_update
from authority.services.owners import membership_delete
from tokens.wire import basic_acl

pytestmark = pytest.mark.django_db(transaction=True)


def _verify(client: Any, container: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/verify", {"verb": "GET", "container": container, **body}, format="json"
    )
    assert response.status_code in (200, 404), response.content
    return {"status": response.status_code, **response.json()}


def _access_token(world: dict[str, Any], session: dict[str, Any]) -> str:
    response = world["anonymous"].post(
        "/api/v1/trade", {"subject_token": session["token"]}, format="json"
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def _reads(captured: CaptureQueriesContext, table: str) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if f'"{table}"' in query["sql"]]


def test_a_second_decision_reads_no_row_from_the_database(world, issue, redis_cache):
    session = issue()
    access = _access_token(world, session)
    container = world["container"].container_id
    assert _verify(world["service"], container, access_token=access)["decision"] == "allow"
    with CaptureQueriesContext(connection) as captured:
        assert _verify(world["service"], container, access_token=access)["decision"] == "allow"
    assert _reads(captured, "authority_container") == []
    assert _reads(captured, "tokens_session") == []

    introspect = {"token": access}
    assert world["service"].post("/api/v1/introspect", introspect).json()["active"] is True
    with CaptureQueriesContext(connection) as captured:
        assert world["service"].post("/api/v1/introspect", introspect).json()["active"] is True
    assert _reads(captured, "tokens_session") == []


def test_a_cancel_acts_at_the_next_decision(world, issue, redis_cache):
    session = issue()
    access = _access_token(world, session)
    container = world["container"].container_id
    for _ in range(2):  # the second from memory
        assert _verify(world["service"], container, access_token=access)["decision"] == "allow"
        assert world["service"].post("/api/v1/introspect", {"token": access}).json()["active"]
    cancelled = world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.content
    assert _verify(world["service"], container, access_token=access)["reason"] == "revoked"
    assert world["service"].post("/api/v1/introspect", {"token": access}).json() == {
        "active": False
    }


def test_a_revoked_access_token_acts_at_the_next_decision(world, issue, redis_cache):
    access = _access_token(world, issue())
    container = world["container"].container_id
    for _ in range(2):
        assert _verify(world["service"], container, access_token=access)["decision"] == "allow"
    revoked = world["service"].post("/api/v1/revoke", {"token": access})
    assert revoked.status_code == 200, revoked.content
    assert _verify(world["service"], container, access_token=access)["reason"] == "revoked"


def test_a_revoked_bearer_grant_acts_at_the_next_decision(world, redis_cache):
    grant = (
        world["operator"]
        .post(
            "/api/v1/bearer-grants",
            {"container": world["container"].container_id, "rules": ["allow get others"]},
            format="json",
        )
        .json()
    )
    asked = {"bearer_token": grant["token"]["binary"]}
    container = world["container"].container_id
    for _ in range(2):
        assert _verify(world["service"], container, **asked)["decision"] == "allow"
    world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    assert _verify(world["service"], container, **asked)["reason"] == "revoked"


def test_a_changed_basic_acl_and_a_removed_membership_act_at_the_next_decision(world, redis_cache):
    container = world["container"]
    container_update(
        actor=SYSTEM, container=container, changes={"basic_acl": basic_acl.PRESETS["public-read"]}
    )
    for _ in range(2):
        assert _verify(world["operator"], container.container_id)["decision"] == "allow"
    container_update(
        actor=SYSTEM, container=container, changes={"basic_acl": basic_acl.PRESETS["private"]}
    )
    assert _verify(world["operator"], container.container_id)["reason"] == "basic_acl_deny"

    # The operator's membership removed: the container is no longer theirs to decide for.
    membership = Membership.objects.get(owner=world["acme"], user=world["operator_user"])
    membership_delete(actor=SYSTEM, membership=membership)
    assert _verify(world["operator"], container.container_id)["status"] == 404


def test_time_is_never_remembered(world, issue, redis_cache, monkeypatch):
    """A remembered session row holds the expiry, not the state: past the expiry, the next
    decision says expired, from memory."""
    from types import SimpleNamespace

    from tokens.services import verify

    session = issue()
    access = _access_token(world, session)
    container = world["container"].container_id
    assert _verify(world["service"], container, access_token=access)["decision"] == "allow"
    expires_at = dt.datetime.fromisoformat(session["expires_at"].replace("Z", "+00:00"))
    later = SimpleNamespace(now=lambda: expires_at + dt.timedelta(seconds=1))
    monkeypatch.setattr(verify, "timezone", later)  # the decision point's clock alone
    with CaptureQueriesContext(connection) as captured:
        assert _verify(world["service"], container, access_token=access)["reason"] == "expired"
    assert _reads(captured, "tokens_session") == []


def _read_twice(world: dict[str, Any]) -> list[str]:
    principal = Principal(user=world["operator_user"])
    cid = bytes(world["container"].cid)
    with CaptureQueriesContext(connection) as captured:
        container_for_decision(principal=principal, cid=cid)
        container_for_decision(principal=principal, cid=cid)
    return _reads(captured, "authority_container")


def test_inside_a_transaction_the_database_is_read(world, redis_cache):
    with transaction.atomic():
        assert len(_read_twice(world)) == 2
    assert len(_read_twice(world)) == 1  # outside, the second is remembered


def test_without_a_listener_every_read_goes_to_the_database(world, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert len(_read_twice(world)) == 2  # the embedded defaults: nobody to hear a write
    settings.CACHES = {
        "default": {"BACKEND": "authority.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    assert len(_read_twice(world)) == 2  # Redis unreachable


def _renamed_unannounced(world: dict[str, Any], monkeypatch: Any) -> Any:
    """Remembers the world's container, renames it without announcing the write (as a write
    made outside the application would be), and gives what the decision point now reads."""
    principal = Principal(user=world["operator_user"])
    container = world["container"]

    def read() -> str:
        return str(container_for_decision(principal=principal, cid=bytes(container.cid)).name)

    assert read() != "renamed"
    with monkeypatch.context() as unannounced:
        unannounced.setattr(state_changes, "is_announced_write", lambda sql: False)
        type(container).objects.filter(pk=container.pk).update(name="renamed")
    return read


def test_an_unannounced_write_applies_within_facts_ttl(world, redis_cache, monkeypatch):
    """A write nobody announced is the one lag there is: FACTS_TTL at most."""
    read = _renamed_unannounced(world, monkeypatch)
    assert read() != "renamed"
    now = lru._clock()
    monkeypatch.setattr(lru, "_clock", lambda: now + FACTS_TTL)
    assert read() == "renamed"


def test_a_lost_listener_forgets_everything(world, redis_cache, monkeypatch):
    read = _renamed_unannounced(world, monkeypatch)
    host, port = state_changes._listener._pubsub.connection._sock.getsockname()[:2]
    redis.Redis.from_url(redis_cache).client_kill(f"{host}:{port}")  # this process's listener only
    assert read() == "renamed"


def test_another_process_announcement_is_heard_before_a_row_is_reused(
    world, redis_cache, monkeypatch
):
    """What another process announces (published here by a client of our own, as that process
    would) makes this one read again: the poll of its subscription, not its own writes."""
    read = _renamed_unannounced(world, monkeypatch)
    assert read() != "renamed"
    client, channel = caches["default"].announcements(state_changes.CHANNEL)
    client.publish(channel, b"")
    client.ping()  # as state_changed does: the announcement is now in our listener's socket
    assert read() == "renamed"


def test_a_silent_subscription_stops_counting_after_live_for(world, redis_cache, monkeypatch):
    """A link to Redis that goes silent without a reset (a frozen network, a Redis that hangs)
    never looks closed: a subscription that has not answered a PING within LIVE_FOR is not
    trusted, and what was remembered before the silence is not trusted again once it answers
    (announcements may have been lost meanwhile)."""
    import time

    read = _renamed_unannounced(world, monkeypatch)
    assert read() != "renamed"  # alive: remembered
    listener = state_changes._listener
    with monkeypatch.context() as silent:
        silent.setattr(listener._pubsub, "ping", lambda: None)  # PINGs lost on the way
        listener._answered_at -= state_changes.LIVE_FOR
        assert read() == "renamed"  # not trusted: the database
    deadline = time.monotonic() + 2
    while time.monotonic() - listener._answered_at > state_changes.LIVE_FOR:
        assert read() == "renamed"  # still silent, or just answered
        assert time.monotonic() < deadline, "the subscription never answered again"
        time.sleep(0.01)
    for _ in range(3):
        assert read() == "renamed"  # answering again: the row remembered before is gone


def test_a_late_answer_means_the_link_stalled(world, redis_cache, monkeypatch):
    """A PING answered later than LIVE_FOR (a Redis that hung a moment) is a lapse too."""
    read = _renamed_unannounced(world, monkeypatch)
    assert read() != "renamed"
    listener = state_changes._listener
    listener._unanswered.appendleft(listener._answered_at - 2 * state_changes.LIVE_FOR)
    listener._answered(listener._answered_at)
    assert read() == "renamed"


def test_a_remembered_row_is_never_another_principals(world, redis_cache):
    """The same container asked for by an acme member (remembered), then by a globex member and
    a globex service account: their statement and parameters differ, and they see nothing."""
    from authority.errors import NotFound
    from tests.factories import ApplicationFactory, MembershipFactory, UserFactory

    cid = bytes(world["container"].cid)
    for _ in range(2):
        container_for_decision(principal=Principal(user=world["operator_user"]), cid=cid)
    stranger = UserFactory()
    MembershipFactory(owner=world["globex"], user=stranger)
    application = ApplicationFactory()
    MembershipFactory(owner=world["globex"], user=None, application=application)
    for principal in (Principal(user=stranger), Principal(application=application)):
        for _ in range(2):
            with pytest.raises(NotFound):
                container_for_decision(principal=principal, cid=cid)


def test_a_hung_redis_costs_a_decision_and_a_write_a_moment_not_seconds(world, settings):
    """A Redis that accepts connections and never answers: the decision reads the database and
    the write's announcement gives up after ANNOUNCEMENT_TIMEOUT (redis-py's default is 5 s)."""
    import socket
    import time

    from authority.cache import ANNOUNCEMENT_TIMEOUT

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes connections; nobody ever reads or answers
    try:
        host, port = silent.getsockname()
        settings.CACHES = {
            "default": {
                "BACKEND": "authority.cache.RedisCache",
                "LOCATION": f"redis://{host}:{port}/0",
            }
        }
        started = time.monotonic()
        assert len(_read_twice(world)) == 2  # from the database
        container = world["container"]
        type(container).objects.filter(pk=container.pk).update(name="renamed")  # announced
        assert time.monotonic() - started < 8 * ANNOUNCEMENT_TIMEOUT
    finally:
        silent.close()
