"""Properties of the codec: round trips, tamper evidence, and one error type for bad input."""

from __future__ import annotations

import json

import pytest
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


signed_tokens = st.one_of(s.signed_session_tokens(), s.signed_bearer_tokens())


def _decode_as(token: SessionToken | BearerToken, data: bytes) -> SessionToken | BearerToken:
    if isinstance(token, BearerToken):
        return BearerToken.decode(data, flavour=token.body.flavour)
    return SessionToken.decode(data)


@settings(max_examples=100, deadline=None)
@given(signed_tokens)
def test_truncated_tokens_raise_wire_error(token):
    """Every cut of a signed token raises WireError but one: the cut right after the body field.

    That prefix is a well-formed message — the same token without its signature — and protobuf
    cannot tell it from a token sent unsigned (blank dynamic-session tokens are), so it decodes as
    exactly that and checks as UNSIGNED: a cut token never verifies.
    """
    data = token.encode()
    unsigned = type(token)(token.body)
    boundary = len(unsigned.encode())
    assert data[:boundary] == unsigned.encode()  # the body field first, the signature field after
    for cut in range(len(data)):
        if cut == boundary:
            decoded = _decode_as(token, data[:cut])
            assert decoded == unsigned
            assert decoded.check() is Check.UNSIGNED
        else:
            with pytest.raises(WireError):
                _decode_as(token, data[:cut])


@settings(max_examples=200, deadline=None)
@given(signed_tokens, st.binary(min_size=1, max_size=40))
def test_bytes_after_a_token_raise_wire_error(token, extra):
    # Whatever follows, the message is no longer one stable encoding: a repeated body or
    # signature field, an unknown field, or broken framing.
    with pytest.raises(WireError):
        _decode_as(token, token.encode() + extra)


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
