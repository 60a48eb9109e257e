"""eACL evaluation as NeoFS storage nodes apply it.

Records are checked in order; a record applies when its operation matches, one of its targets
matches the requester, and every filter matches (AND). The first applying record decides; when none
applies the answer is ALLOW (the basic ACL decides).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tokens.wire.eacl import (
    Action,
    Filter,
    HeaderType,
    MatchType,
    Operation,
    Record,
    Role,
    Table,
    compare_decimal,
    is_decimal,
)


@dataclass(frozen=True, slots=True)
class Request:
    """What the engine needs of a request: operation, requester and the headers it carries."""

    operation: Operation
    role: Role
    public_key: bytes = b""
    account: bytes = b""  # 25-byte owner id of the requester
    headers: Mapping[HeaderType | int, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action | int
    record_index: int | None  # None: no record applied, the default ALLOW

    @property
    def allowed(self) -> bool:
        """Only ALLOW allows: a record with an unnamed action denies, as NeoFS nodes do."""
        return self.action == Action.ALLOW


def evaluate(table: Table, request: Request) -> Decision:
    for index, record in enumerate(table.records):
        if record.operation != request.operation:
            continue
        if not _target_matches(record, request):
            continue
        if all(_filter_matches(item, request) for item in record.filters):
            return Decision(record.action, index)
    return Decision(Action.ALLOW, None)


def _target_matches(record: Record, request: Request) -> bool:
    """As neofs-sdk-go `eacl/validator.go` `targetMatches`: SYSTEM targets are skipped (the
    basic ACL alone controls container nodes); a target that lists keys or accounts matches by
    them only — its role is then not consulted; otherwise its role must be the request's."""
    for target in record.targets:
        if target.role == Role.SYSTEM:
            continue
        if target.keys:
            for key in target.keys:
                # 33-byte keys are the sender's key, 25-byte accounts the sender's account
                if key and key == (request.public_key if len(key) != 25 else request.account):
                    return True
            continue
        if target.role != Role.ROLE_UNSPECIFIED and target.role == request.role:
            return True
    return False


def _filter_matches(item: Filter, request: Request) -> bool:
    headers = request.headers.get(item.header_type, {})
    present = item.key in headers
    if item.match_type == MatchType.NOT_PRESENT:
        return not present
    if not present:  # every other match type, STRING_NOT_EQUAL included, needs the header
        return False
    actual = headers[item.key]
    if item.match_type == MatchType.STRING_EQUAL:
        return actual == item.value
    if item.match_type == MatchType.STRING_NOT_EQUAL:
        return actual != item.value
    if not (is_decimal(actual) and is_decimal(item.value)):
        return False
    order = compare_decimal(actual, item.value)
    if item.match_type == MatchType.NUM_GT:
        return order > 0
    if item.match_type == MatchType.NUM_GE:
        return order >= 0
    if item.match_type == MatchType.NUM_LT:
        return order < 0
    if item.match_type == MatchType.NUM_LE:
        return order <= 0
    return False  # MATCH_TYPE_UNSPECIFIED and unnamed match types never match
