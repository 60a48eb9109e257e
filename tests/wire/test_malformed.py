"""Malformed input of every kind raises WireError naming the field — nothing else, never a hang."""

from __future__ import annotations

import pytest

from tests.wire import vectors
from tokens.wire import WireError
from tokens.wire.bearer import BearerToken
from tokens.wire.eacl import Table
from tokens.wire.eacl_rules import parse_rule
from tokens.wire.ids import ContainerID, OwnerID
from tokens.wire.protobuf import Writer
from tokens.wire.session import SessionToken


def _session_with_body(body: bytes) -> bytes:
    return Writer().message(1, body).getvalue()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (vectors.SESSION_TOKEN[:-5], "session_token"),  # truncated
        (b"\x0a\xff\xff\xff\xff\x0f", "session_token"),  # length past the end
        (b"\x08" + b"\xff" * 11, "session_token"),  # varint longer than 64 bits
        (b"\x0b\x00", "session_token"),  # wire type 3 (groups) unsupported
        (b"\x00\x00", "session_token"),  # field number 0
        (
            _session_with_body(Writer().bytes_(1, b"\x01\x02\x03").getvalue()),
            "session_token.body.id",
        ),
        (
            _session_with_body(
                Writer().message(2, Writer().bytes_(1, b"\x35" * 24).getvalue()).getvalue()
            ),
            "session_token.body.owner_id.value",
        ),
        (
            _session_with_body(Writer().bytes_(4, b"\x04" + b"\x00" * 32).getvalue()),
            "session_token.body.session_key",
        ),
        (
            _session_with_body(Writer().message(2, b"\x08\x01").getvalue()),
            "session_token.body.owner_id.value",
        ),
        (vectors.SESSION_TOKEN + b"\x20\x01", "session_token"),  # unknown trailing field
    ],
)
def test_bad_binary_session_tokens(data, field):
    with pytest.raises(WireError) as caught:
        SessionToken.decode(data)
    assert caught.value.field.startswith(field), caught.value


def test_oversized_repeated_field_is_refused():
    objects = Writer()
    for _ in range(10_001):
        objects.message(2, ContainerID(b"\x01" * 32).encode())
    context = Writer().enum(1, 1).message(2, objects.getvalue()).getvalue()
    data = _session_with_body(Writer().message(5, context).getvalue())
    with pytest.raises(WireError, match="repeats more than"):
        SessionToken.decode(data)


def test_owner_id_checksum_and_version_are_checked():
    good = OwnerID(vectors.BEARER_ISSUER).value
    with pytest.raises(WireError, match="checksum"):
        OwnerID(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(WireError, match="version"):
        OwnerID(b"\x42" + good[1:])


@pytest.mark.parametrize(
    ("text", "message"),
    [("0OIl", "invalid base58"), ("3mJr7AoUXx2Wqd", "must decode to 25 bytes")],
)
def test_bad_base58(text, message):
    with pytest.raises(WireError, match=message) as caught:
        OwnerID.from_string(text)
    assert caught.value.field == "owner_id"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"body": {"sessionKey": "%%%"}}, "sessionToken.body.sessionKey"),
        ({"body": {"id": 5}}, "sessionToken.body.id"),
        ({"body": {"lifetime": {"exp": "-1"}}}, "sessionToken.body.lifetime.exp"),
        ({"body": {"lifetime": {"exp": "18446744073709551616"}}}, "sessionToken.body.lifetime.exp"),
        ({"body": {"object": {"verb": "FETCH"}}}, "sessionToken.body.object.verb"),
        ({"body": {"object": {"verb": True}}}, "sessionToken.body.object.verb"),
        ({"body": {"object": {"verb": 2**40}}}, "sessionToken.body.object.verb"),
        ({"body": {"container": {"wildcard": "yes"}}}, "sessionToken.body.container.wildcard"),
        ({"body": {"object": {}, "container": {}}}, "sessionToken.body"),
        ({"body": {"ownerID": {"value": "AAAA"}}}, "sessionToken.body.ownerID.value"),
        ({"body": []}, "sessionToken.body"),
        ({"signature": {"scheme": "RSA"}}, "sessionToken.signature.scheme"),
        ([], "sessionToken"),
    ],
)
def test_bad_json_session_tokens(document, field):
    with pytest.raises(WireError) as caught:
        SessionToken.from_json(document)
    assert caught.value.field == field, caught.value


def test_invalid_json_text_and_deep_nesting():
    with pytest.raises(WireError, match="invalid JSON"):
        SessionToken.from_json_text("{")
    with pytest.raises(WireError):
        BearerToken.from_json_text("[" * 100_000 + "]" * 100_000)


def test_numeric_filter_needs_a_number_and_huge_numbers_are_fine():
    with pytest.raises(WireError) as caught:
        Table.from_json(
            {"records": [{"operation": "GET", "action": "DENY", "filters": [
                {"headerType": "OBJECT", "matchType": "NUM_GT", "key": "k", "value": "ten"}]}]}
        )  # fmt: skip
    assert caught.value.field == "eaclTable.records[0].filters[0].value"
    parse_rule("deny get obj:size>" + "9" * 5000 + " others")  # beyond int's string limit: no crash


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ("deny", "rule"),
        ("forbid get others", "rule.action"),
        ("deny fetch others", "rule.operation"),
        ("deny get obj:Size>big others", "rule.filters[0].value"),
        ("deny get others obj:A=b", "rule.filters"),
        ("deny get pubkey:zz", "rule.targets[0]"),
        ("deny get address:0OIl", "rule.targets[0]"),
        ("deny get everyone", "rule.targets[0]"),
    ],
)
def test_bad_rules(rule, field):
    with pytest.raises(WireError) as caught:
        parse_rule(rule)
    assert caught.value.field == field, caught.value


def test_wire_error_is_a_value_error_with_a_field():
    error = WireError("a.b", "bad")
    assert isinstance(error, ValueError) and str(error) == "a.b: bad"
    assert error.field == "a.b" and error.under("token").field == "token.a.b"
