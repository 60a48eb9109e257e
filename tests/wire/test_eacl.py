"""The eACL engine (first match, no match = ALLOW) and the CLI rule syntax."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.wire.strategies import SIGNERS
from tokens.wire.eacl import (
    Action,
    HeaderType,
    Operation,
    Record,
    Role,
    Table,
    Target,
    compare_decimal,
    require_named,
)
from tokens.wire.eacl_engine import Request, evaluate
from tokens.wire.eacl_rules import format_rule, parse_rule, parse_rules
from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID

ALICE = SIGNERS[0].public_key()
ALICE_ACCOUNT = OwnerID.from_public_key(ALICE).value
BOB = SIGNERS[1].public_key()


def _table(*rules: str) -> Table:
    return Table(container_id=None, records=parse_rules("\n".join(rules)))


def _get(role=Role.OTHERS, key=BOB, obj=None, req=None, operation=Operation.GET):
    return Request(
        operation=operation,
        role=role,
        public_key=key,
        account=OwnerID.from_public_key(key).value,
        headers={HeaderType.OBJECT: obj or {}, HeaderType.REQUEST: req or {}},
    )


SECRET = _table("deny get obj:Classification=secret others")


@pytest.mark.parametrize(
    ("table", "request_", "allowed", "record"),
    [
        (SECRET, _get(obj={"Classification": "secret"}), False, 0),
        (SECRET, _get(obj={"Classification": "public"}), True, None),
        (SECRET, _get(role=Role.USER, obj={"Classification": "secret"}), True, None),
        (SECRET, _get(obj={"Classification": "secret"}, operation=Operation.HEAD), True, None),
        (_table("deny get obj:A!=x others"), _get(obj={}), True, None),  # absent never matches !=
        (_table("deny get obj:A!=x others"), _get(obj={"A": "y"}), False, 0),
        (_table("deny get obj:A= others"), _get(obj={}), False, 0),  # NOT_PRESENT
        (_table("deny get obj:A= others"), _get(obj={"A": ""}), True, None),
        (
            _table("deny get obj:N>99999999999999999999 others"),
            _get(obj={"N": "100000000000000000000"}),
            False,
            0,
        ),
        (
            _table("deny get obj:N>99999999999999999999 others"),
            _get(obj={"N": "99999999999999999999"}),
            True,
            None,
        ),
        (_table("deny get obj:N>=-5 others"), _get(obj={"N": "-5"}), False, 0),
        (_table("deny get obj:N<10 others"), _get(obj={"N": "ten"}), True, None),  # not a number
        (_table("deny get obj:N<=0 others"), _get(obj={"N": "-0"}), False, 0),
        (_table("allow get others", "deny get others"), _get(), True, 0),  # first match decides
        (_table("deny get others", "allow get others"), _get(), False, 0),
        (
            _table("deny put others", "deny get obj:A=1 others", "allow get others"),
            _get(obj={"A": "1"}),
            False,
            1,
        ),
        (_table("deny get obj:A=1 obj:B=2 others"), _get(obj={"A": "1"}), True, None),  # AND
        (_table("deny get obj:A=1 obj:B=2 others"), _get(obj={"A": "1", "B": "2"}), False, 0),
        (
            _table("deny get req:X=1 others"),
            _get(obj={"X": "1"}),
            True,
            None,
        ),  # header type matters
        (_table("deny get req:X=1 others"), _get(req={"X": "1"}), False, 0),
        (_table(f"deny get pubkey:{BOB.hex()}"), _get(), False, 0),
        (_table(f"deny get pubkey:{BOB.hex()}"), _get(key=ALICE), True, None),
        (_table(f"deny get address:{OwnerID(ALICE_ACCOUNT)}"), _get(key=ALICE), False, 0),
        (_table("deny get user"), _get(), True, None),
        # neofs-sdk-go eacl/validator.go targetMatches: SYSTEM targets are skipped (container
        # nodes are the basic ACL's alone); OTHERS still matches others
        (_table("deny get system others"), _get(role=Role.SYSTEM), True, None),
        (_table("deny get system others"), _get(), False, 0),
        # targetMatches: a target listing keys matches by its keys only, whatever its role
        (
            Table(
                None, (Record(Operation.GET, Action.DENY, (), (Target(Role.OTHERS, (ALICE,)),)),)
            ),
            _get(),
            True,
            None,
        ),
        (
            Table(
                None, (Record(Operation.GET, Action.DENY, (), (Target(Role.OTHERS, (ALICE,)),)),)
            ),
            _get(key=ALICE),
            False,
            0,
        ),
        (Table(container_id=None), _get(), True, None),  # empty table: basic ACL decides
    ],
)
def test_engine(table, request_, allowed, record):
    decision = evaluate(table, request_)
    assert decision.allowed is allowed
    assert decision.record_index == record


def test_unnamed_action_denies():
    from tokens.wire.eacl import Record, Target

    table = Table(None, (Record(Operation.GET, 5692342, (), (Target(Role.OTHERS),)),))
    assert not evaluate(table, _get()).allowed


@given(st.integers(), st.integers())
def test_decimal_comparison_agrees_with_int(left, right):
    assert compare_decimal(str(left), str(right)) == (left > right) - (left < right)


@pytest.mark.parametrize(
    "rule",
    [
        "deny get obj:Classification=secret others",
        "allow put obj:$Object:payloadLength<4096 user",
        "deny head req:X!=y obj:A>=10 obj:B<=-3 obj:C>1 system others",
        "deny search obj:Missing= others",
        f"allow getrange pubkey:{ALICE.hex()},{BOB.hex()}",
        f"allow getrangehash address:{OwnerID(ALICE_ACCOUNT)}",
        "deny delete others",
    ],
)
def test_rules_round_trip(rule):
    record = parse_rule(rule)
    assert format_rule(record) == rule
    assert parse_rule(format_rule(record)) == record
    require_named((record,), "records")


def test_rules_file_skips_comments_and_blank_lines():
    records = parse_rules("# header\n\ndeny get others\n  allow put user  \n")
    assert [(r.action, r.operation) for r in records] == [
        (Action.DENY, Operation.GET),
        (Action.ALLOW, Operation.PUT),
    ]


def test_unnamed_values_have_no_rule_form():
    from tokens.wire.eacl import Record

    with pytest.raises(WireError):
        format_rule(Record(99, Action.DENY))
    with pytest.raises(WireError) as caught:
        require_named((Record(Operation.GET, 7),), "records")
    assert caught.value.field == "records[0].action"
