"""The authority's own keys (access-token signing, delegation HMAC, …) have one active key each,
however many processes need one at the same moment: a second is refused by the database, and the
key it would have named is destroyed in the HSM again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from pkcs11 import Attribute, ObjectClass

from hsm.errors import ActiveKeyExists, KeyUnusable
from hsm.keystore import keystore
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.services import key_active_or_generate, key_generate, key_rotate, key_sign
from tokens.wire.signature import Scheme

pytestmark = pytest.mark.django_db


def _private_keys_in_hsm() -> int:
    def count(session: Any) -> int:
        return sum(1 for _ in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))

    return keystore().run(count)


def _active(purpose: KeyPurpose) -> list[KeyRecord]:
    return list(KeyRecord.objects.filter(purpose=purpose, owner=None, state=KeyState.ACTIVE))


def test_a_second_active_authority_key_is_refused_and_destroyed():
    first = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    in_hsm = _private_keys_in_hsm()
    with pytest.raises(ActiveKeyExists):
        key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    assert _private_keys_in_hsm() == in_hsm  # the refused key is not left in the token
    assert _active(KeyPurpose.ACCESS_TOKEN_SIGNING) == [first]
    assert key_active_or_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING) == first


def test_owner_and_dynamic_keys_are_not_limited(acme):
    key_generate(purpose=KeyPurpose.DYNAMIC_SESSION, owner=acme)
    key_generate(purpose=KeyPurpose.DYNAMIC_SESSION, owner=acme)
    dynamic = KeyRecord.objects.filter(purpose=KeyPurpose.DYNAMIC_SESSION, state=KeyState.ACTIVE)
    assert dynamic.count() == 2


def test_rotation_leaves_the_new_key_the_only_active_one():
    old = key_generate(purpose=KeyPurpose.DELEGATION_HMAC)
    new = key_rotate(purpose=KeyPurpose.DELEGATION_HMAC)
    assert _active(KeyPurpose.DELEGATION_HMAC) == [new]
    old.refresh_from_db()
    assert old.state == KeyState.RETIRED and old.retired_at is not None


def _at_once(count: int, job: Callable[[], KeyRecord]) -> list[Any]:
    outcomes: list[Any] = []
    barrier = threading.Barrier(count)

    def worker() -> None:
        from django.db import connection as thread_connection

        barrier.wait()
        try:
            outcomes.append(job())
        except Exception as exc:  # noqa: BLE001 - any error is a failure, asserted below
            outcomes.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
)


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_concurrent_first_needs_make_one_key():
    """Eight workers trade their first token at the same moment: one key, used by all of them
    (before, each made its own, and a process kept signing with a key the others did not use)."""
    in_hsm = _private_keys_in_hsm()
    outcomes = _at_once(8, lambda: key_active_or_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    active = _active(KeyPurpose.ACCESS_TOKEN_SIGNING)
    assert len(active) == 1
    assert {key.pk for key in outcomes} == {active[0].pk}
    assert _private_keys_in_hsm() == in_hsm + 1  # the losers' keys were destroyed
    key_sign(key=active[0], data=b"x", scheme=Scheme.ECDSA_RFC6979_SHA256)


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_concurrent_rotations_leave_one_active_key():
    original = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    in_hsm = _private_keys_in_hsm()
    outcomes = _at_once(4, lambda: key_rotate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    active = _active(KeyPurpose.ACCESS_TOKEN_SIGNING)
    assert len(active) == 1 and active[0].pk != original.pk
    # Every rotation that lost to another destroyed its own key; those that won in turn retired.
    recorded = KeyRecord.objects.filter(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING).count() - 1
    assert _private_keys_in_hsm() == in_hsm + recorded
    original.refresh_from_db()
    with pytest.raises(KeyUnusable):
        key_sign(key=original, data=b"x", scheme=Scheme.ECDSA_RFC6979_SHA256)
