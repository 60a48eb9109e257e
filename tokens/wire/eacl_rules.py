"""The neofs-cli / frostfs-cli rule syntax for eACL records.

`<action> <operation> [<filter> ...] [<target> ...]`,
e.g. `deny get obj:Classification=secret others`.
Filters are `obj:` or `req:` + key + match (`=`, `!=`, `>`, `>=`, `<`, `<=`) + value; `obj:Key=`
(no value) means NOT_PRESENT. Targets: `user`, `system`, `others`, `pubkey:<hex>,...`,
`address:<base58>,...`.
"""

from __future__ import annotations

import binascii
import enum
import re

import base58

from tokens.wire.eacl import Action, Filter, HeaderType, MatchType, Operation, Record, Role, Target
from tokens.wire.errors import WireError, build
from tokens.wire.ids import OwnerID, check_public_key

_OPERATIONS = {op.name.lower(): op for op in Operation if op}
_ACTIONS = {"allow": Action.ALLOW, "deny": Action.DENY}
_HEADERS = {"obj": HeaderType.OBJECT, "req": HeaderType.REQUEST}
_ROLES = {"user": Role.USER, "system": Role.SYSTEM, "others": Role.OTHERS}
# Longest operators first, so `>=` is not read as `>` followed by `=value`.
_FILTER = re.compile(r"^(obj|req):(.+?)(!=|>=|<=|=|>|<)(.*)$")
_MATCH_BY_OPERATOR = {
    "!=": MatchType.STRING_NOT_EQUAL,
    ">": MatchType.NUM_GT,
    ">=": MatchType.NUM_GE,
    "<": MatchType.NUM_LT,
    "<=": MatchType.NUM_LE,
}
# Keyed by int: a filter's match type may be an unnamed number (open enum), which has no operator.
_OPERATOR_BY_MATCH: dict[int, str] = {
    **{v: k for k, v in _MATCH_BY_OPERATOR.items()},
    MatchType.STRING_EQUAL: "=",
    MatchType.NOT_PRESENT: "=",
}


def parse_rule(line: str, path: str = "rule") -> Record:
    words = line.split()
    if len(words) < 2:
        raise WireError(path, "expected '<action> <operation> [filters] [targets]'")
    action = _ACTIONS.get(words[0].lower())
    if action is None:
        raise WireError(f"{path}.action", f"unknown action {words[0]!r}; use allow or deny")
    operation = _OPERATIONS.get(words[1].lower())
    if operation is None:
        raise WireError(f"{path}.operation", f"unknown operation {words[1]!r}")
    filters: list[Filter] = []
    targets: list[Target] = []
    for word in words[2:]:
        if word.startswith(("obj:", "req:")):
            if targets:
                raise WireError(f"{path}.filters", "filters must come before targets")
            filters.append(_parse_filter(word, f"{path}.filters[{len(filters)}]"))
        else:
            targets.append(_parse_target(word, f"{path}.targets[{len(targets)}]"))
    return Record(operation, action, tuple(filters), tuple(targets))


def parse_rules(text: str) -> tuple[Record, ...]:
    """One rule a line; blank lines and `#` comments are skipped."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            records.append(parse_rule(line, f"rules[line {number}]"))
    return tuple(records)


def _parse_filter(word: str, path: str) -> Filter:
    match = _FILTER.match(word)
    if not match:
        raise WireError(path, f"cannot parse filter {word!r}")
    kind, key, operator, value = match.groups()
    if operator == "=":
        match_type = MatchType.STRING_EQUAL if value else MatchType.NOT_PRESENT
    else:
        match_type = _MATCH_BY_OPERATOR[operator]
    return build(
        Filter, path, header_type=_HEADERS[kind], match_type=match_type, key=key, value=value
    )


def _parse_target(word: str, path: str) -> Target:
    lowered = word.lower()
    if lowered in _ROLES:
        return Target(role=_ROLES[lowered])
    kind, _, items = word.partition(":")
    if kind in ("pubkey", "address") and items:
        return Target(keys=tuple(parse_target_key(item, path) for item in items.split(",")))
    raise WireError(path, f"unknown target {word!r}; use user, system, others, pubkey:, address:")


def parse_target_key(item: str, path: str) -> bytes:
    """A target key: hex of a 33-byte public key, or a base58 25-byte account."""
    if len(item.removeprefix("0x")) == 66:
        try:
            raw = binascii.unhexlify(item.removeprefix("0x"))
        except (binascii.Error, ValueError):
            raise WireError(path, f"invalid hex public key {item!r}") from None
        return check_public_key(raw, path)
    return OwnerID.from_string(item, path).value


def parse_target_keys(text: str, path: str = "keys") -> tuple[bytes, ...]:
    """Keys one a line (the admin's form of a target's key list)."""
    return tuple(
        parse_target_key(line.strip(), f"{path}[{i}]")
        for i, line in enumerate(line for line in text.splitlines() if line.strip())
    )


def format_target_key(key: bytes) -> str:
    return key.hex() if len(key) == 33 else base58.b58encode(key).decode()


def _name(value: object, kind: type[enum.IntEnum], path: str) -> str:
    if not isinstance(value, kind) or not value:
        raise WireError(path, f"{value!r} has no rule-syntax name")
    return value.name.lower()


def format_rule(record: Record) -> str:
    """The record in rule syntax; records with unnamed enum values have none (WireError)."""
    words = [
        _name(record.action, Action, "action"),
        _name(record.operation, Operation, "operation"),
    ]
    for item in record.filters:
        prefix = "req" if item.header_type == HeaderType.REQUEST else "obj"
        value = "" if item.match_type == MatchType.NOT_PRESENT else item.value
        operator = _OPERATOR_BY_MATCH.get(item.match_type)
        if operator is None:
            raise WireError("match_type", f"{item.match_type!r} has no rule-syntax operator")
        words.append(f"{prefix}:{item.key}{operator}{value}")
    for target in record.targets:
        if target.role:
            words.append(_name(target.role, Role, "role"))
        pubkeys = [format_target_key(k) for k in target.keys if len(k) == 33]
        accounts = [format_target_key(k) for k in target.keys if len(k) != 33]
        if pubkeys:
            words.append("pubkey:" + ",".join(pubkeys))
        if accounts:
            words.append("address:" + ",".join(accounts))
    return " ".join(words)
