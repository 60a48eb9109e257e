"""Session token validity: inclusive epoch bounds, contexts, and NeoFS verb equivalences."""

from __future__ import annotations

import pytest

from tokens.wire.ids import ContainerID, ObjectID
from tokens.wire.lifetime import Lifetime, Validity
from tokens.wire.session import (
    ContainerContext,
    ContainerVerb,
    ContextMismatch,
    ObjectContext,
    ObjectVerb,
)

CNR, OTHER = ContainerID(b"\x01" * 32), ContainerID(b"\x02" * 32)
OBJ, OBJ2 = ObjectID(b"\x03" * 32), ObjectID(b"\x04" * 32)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(4, Validity.NOT_YET_VALID), (5, Validity.VALID), (7, Validity.VALID), (10, Validity.VALID),
     (11, Validity.EXPIRED)],
)  # fmt: skip
def test_lifetime_bounds_are_inclusive(epoch, expected):
    assert Lifetime(exp=10, nbf=5, iat=3).validity_at(epoch) is expected
    assert Lifetime(exp=10, nbf=3, iat=5).validity_at(epoch) is expected  # iat ≤ N as well


@pytest.mark.parametrize(
    ("token_verb", "request_verb", "ok"),
    [
        (ObjectVerb.HEAD, ObjectVerb.HEAD, True),
        (ObjectVerb.GET, ObjectVerb.HEAD, True),
        (ObjectVerb.DELETE, ObjectVerb.HEAD, True),
        (ObjectVerb.RANGE, ObjectVerb.HEAD, True),
        (ObjectVerb.PUT, ObjectVerb.HEAD, False),
        (ObjectVerb.SEARCH, ObjectVerb.SEARCH, True),
        (ObjectVerb.DELETE, ObjectVerb.SEARCH, True),
        (ObjectVerb.GET, ObjectVerb.SEARCH, False),
        (ObjectVerb.GET, ObjectVerb.PUT, False),
        (ObjectVerb.PUT, ObjectVerb.GET, False),
        (ObjectVerb.RANGEHASH, ObjectVerb.RANGE, True),
        (ObjectVerb.RANGE, ObjectVerb.RANGEHASH, False),
        (424242, ObjectVerb.GET, False),  # an unnamed verb allows nothing
    ],
)
def test_object_verb_equivalences(token_verb, request_verb, ok):
    result = ObjectContext(token_verb, CNR).check(request_verb, CNR, OBJ)
    assert (result is None) is ok


def test_object_context_container_and_objects():
    whole = ObjectContext(ObjectVerb.GET, CNR)
    assert whole.check(ObjectVerb.GET, CNR, OBJ) is None
    assert whole.check(ObjectVerb.GET, OTHER, OBJ) is ContextMismatch.CONTAINER
    listed = ObjectContext(ObjectVerb.GET, CNR, (OBJ,))
    assert listed.check(ObjectVerb.GET, CNR, OBJ) is None
    assert listed.check(ObjectVerb.GET, CNR, OBJ2) is ContextMismatch.OBJECT
    assert listed.check(ObjectVerb.GET, CNR, None) is ContextMismatch.OBJECT


def test_container_context_wildcard():
    wildcard = ContainerContext(ContainerVerb.PUT, wildcard=True)
    assert wildcard.check(ContainerVerb.PUT, OTHER) is None
    assert wildcard.check(ContainerVerb.DELETE, OTHER) is ContextMismatch.VERB
    one = ContainerContext(ContainerVerb.SETEACL, container_id=CNR)
    assert one.check(ContainerVerb.SETEACL, CNR) is None
    assert one.check(ContainerVerb.SETEACL, OTHER) is ContextMismatch.CONTAINER
