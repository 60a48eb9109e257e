"""Properties of the codec: round trips, tamper evidence, and one error type for bad input."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.wire import strategies as s
from tokens.wire import WireError
from tokens.wire.bearer import BearerToken
from tokens.wire.eacl import Table
from tokens.wire.session import SessionToken
from tokens.wire.token import Check

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(s.tables)
def test_table_binary_and_json_round_trip(table):
    assert Table.decode(table.encode()) == table
    assert Table.from_json(json.loads(json.dumps(table.to_json()))) == table


@FAST
@given(s.session_bodies, st.booleans())
def test_session_token_round_trips(body, signed):
    token = SessionToken(body).signed(s.SIGNERS[0]) if signed else SessionToken(body)
    assert SessionToken.decode(token.encode()) == token
    assert SessionToken.from_json_text(json.dumps(token.to_json())) == token


@FAST
@given(s.bearer_bodies(), st.booleans())
def test_bearer_token_round_trips(body, signed):
    token = BearerToken(body).signed(s.SIGNERS[1]) if signed else BearerToken(body)
    decoded = BearerToken.decode(token.encode(), flavour=body.flavour)
    assert decoded == token
    assert BearerToken.from_json_text(json.dumps(token.to_json()), flavour=body.flavour) == token


def _changed(data: bytes, index: int, delta: int) -> bytes:
    out = bytearray(data)
    out[index % len(out)] = (out[index % len(out)] + delta) % 256
    return bytes(out)


@FAST
@given(s.signed_session_tokens(), st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_of_a_signed_session_token_fails(token, index, delta):
    assert token.check() is Check.OK
    try:
        tampered = SessionToken.decode(_changed(token.encode(), index, delta))
    except WireError:
        return
    assert tampered.check() is not Check.OK


@FAST
@given(s.signed_bearer_tokens(), st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_of_a_signed_bearer_token_fails(token, index, delta):
    assert token.check() is Check.OK
    try:
        tampered = BearerToken.decode(_changed(token.encode(), index, delta))
    except WireError:
        return
    assert tampered.check() is not Check.OK


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=512))
def test_raw_bytes_raise_only_wire_error(data):
    for decode in (SessionToken.decode, BearerToken.decode, Table.decode):
        try:
            decode(data)
        except WireError:
            pass


@settings(max_examples=200, deadline=None)
@given(s.signed_session_tokens(), st.integers(min_value=0), st.integers(min_value=0, max_value=40))
def test_truncated_tokens_raise_wire_error(token, cut, extra):
    data = token.encode()
    truncated = data[: cut % len(data)]
    try:
        SessionToken.decode(truncated)
    except WireError:
        pass
    try:
        SessionToken.decode(data + b"\x00" * extra)
    except WireError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["body", "signature", "ownerID", "lifetime", "exp", "value", "object", "verb",
             "target", "container", "objects", "eaclTable", "records", "operation", "filters",
             "targets", "keys", "role", "key", "scheme", "sessionKey", "id", "containerID"]
        ),
        children,
        max_size=5,
    ),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_arbitrary_json_raises_only_wire_error(value):
    for parse in (SessionToken.from_json, BearerToken.from_json, Table.from_json):
        try:
            parse(value)
        except WireError:
            pass
