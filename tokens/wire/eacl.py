"""neo.fs.v2 acl: extended ACL tables, records, filters, targets — binary and JSON forms."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tokens.wire import jsonform as js
from tokens.wire.errors import WireError, build
from tokens.wire.ids import ContainerID
from tokens.wire.protobuf import Reader, Writer


class Operation(enum.IntEnum):
    OPERATION_UNSPECIFIED = 0
    GET = 1
    HEAD = 2
    PUT = 3
    DELETE = 4
    SEARCH = 5
    GETRANGE = 6
    GETRANGEHASH = 7


class Action(enum.IntEnum):
    ACTION_UNSPECIFIED = 0
    ALLOW = 1
    DENY = 2


class HeaderType(enum.IntEnum):
    HEADER_UNSPECIFIED = 0
    REQUEST = 1
    OBJECT = 2
    SERVICE = 3


class MatchType(enum.IntEnum):
    MATCH_TYPE_UNSPECIFIED = 0
    STRING_EQUAL = 1
    STRING_NOT_EQUAL = 2
    NOT_PRESENT = 3
    NUM_GT = 4
    NUM_GE = 5
    NUM_LT = 6
    NUM_LE = 7


NUMERIC_MATCHES = frozenset(
    {MatchType.NUM_GT, MatchType.NUM_GE, MatchType.NUM_LT, MatchType.NUM_LE}
)


class Role(enum.IntEnum):
    ROLE_UNSPECIFIED = 0
    USER = 1
    SYSTEM = 2
    OTHERS = 3


def is_decimal(text: str) -> bool:
    """A base-10 integer of any size, optionally signed (the values NUM_* filters compare)."""
    body = text[1:] if text[:1] in "+-" else text
    return bool(body) and body.isascii() and body.isdigit()


def compare_decimal(left: str, right: str) -> int:
    """-1, 0 or 1, comparing two decimal strings without converting them to int (any length)."""

    def key(text: str) -> tuple[int, int, str]:
        negative = text.startswith("-")
        digits = text.lstrip("+-").lstrip("0")
        if not digits:
            return (0, 0, "")
        sign = -1 if negative else 1
        return (sign, sign * len(digits), digits)

    (ls, ll, ld), (rs, rl, rd) = key(left), key(right)
    if (ls, ll) != (rs, rl):
        return -1 if (ls, ll) < (rs, rl) else 1
    if ld == rd:
        return 0
    less = ld < rd  # same sign and length: digit strings order as numbers
    return (-1 if less else 1) * (1 if ls >= 0 else -1)


@dataclass(frozen=True, slots=True)
class Version:
    """neo.fs.v2 refs.Version."""

    major: int = 2
    minor: int = 16

    def encode(self) -> bytes:
        return Writer().uint(1, self.major).uint(2, self.minor).getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str) -> Version:
        reader = Reader(data, path)
        return cls(reader.uint(1, "major", 32), reader.uint(2, "minor", 32))

    def to_json(self) -> js.JSONObject:
        return {"major": self.major, "minor": self.minor}

    @classmethod
    def from_json(cls, obj: object, path: str) -> Version:
        return cls(
            js.parse_uint(js.field(obj, "major", "major", path), f"{path}.major", 32),
            js.parse_uint(js.field(obj, "minor", "minor", path), f"{path}.minor", 32),
        )


@dataclass(frozen=True, slots=True)
class Filter:
    """neo.fs.v2 acl.EACLRecord.Filter."""

    header_type: HeaderType | int
    match_type: MatchType | int
    key: str
    value: str = ""

    def __post_init__(self) -> None:
        if self.match_type in NUMERIC_MATCHES and not is_decimal(self.value):
            raise WireError(
                "value", f"{MatchType(self.match_type).name} needs a base-10 integer value"
            )

    def encode(self) -> bytes:
        return (
            Writer()
            .enum(1, self.header_type)
            .enum(2, self.match_type)
            .string(3, self.key)
            .string(4, self.value)
            .getvalue()
        )

    @classmethod
    def decode(cls, data: bytes, path: str) -> Filter:
        reader = Reader(data, path)
        return build(
            cls,
            path,
            header_type=js.open_enum(HeaderType, reader.enum(1, "header_type")),
            match_type=js.open_enum(MatchType, reader.enum(2, "match_type")),
            key=reader.string(3, "key"),
            value=reader.string(4, "value"),
        )

    def to_json(self) -> js.JSONObject:
        return {
            "headerType": js.enum_json(self.header_type),
            "matchType": js.enum_json(self.match_type),
            "key": self.key,
            "value": self.value,
        }

    @classmethod
    def from_json(cls, obj: object, path: str) -> Filter:
        return build(
            cls,
            path,
            header_type=js.parse_enum(
                HeaderType, js.field(obj, "headerType", "header_type", path), f"{path}.headerType"
            ),
            match_type=js.parse_enum(
                MatchType, js.field(obj, "matchType", "match_type", path), f"{path}.matchType"
            ),
            key=js.parse_string(js.field(obj, "key", "key", path), f"{path}.key"),
            value=js.parse_string(js.field(obj, "value", "value", path), f"{path}.value"),
        )


@dataclass(frozen=True, slots=True)
class Target:
    """neo.fs.v2 acl.EACLRecord.Target: a role, or keys (33-byte keys or 25-byte accounts)."""

    role: Role | int = Role.ROLE_UNSPECIFIED
    keys: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        writer = Writer().enum(1, self.role)
        for key in self.keys:
            writer.bytes_(2, key)
        return writer.getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str) -> Target:
        reader = Reader(data, path)
        return cls(
            role=js.open_enum(Role, reader.enum(1, "role")),
            keys=tuple(reader.repeated_bytes(2, "keys")),
        )

    def to_json(self) -> js.JSONObject:
        return {"role": js.enum_json(self.role), "keys": [js.b64(k) for k in self.keys]}

    @classmethod
    def from_json(cls, obj: object, path: str) -> Target:
        keys = js.array(obj, "keys", "keys", path)
        return cls(
            role=js.parse_enum(Role, js.field(obj, "role", "role", path), f"{path}.role"),
            keys=tuple(js.parse_bytes(k, f"{path}.keys[{i}]") for i, k in enumerate(keys)),
        )


@dataclass(frozen=True, slots=True)
class Record:
    """neo.fs.v2 acl.EACLRecord."""

    operation: Operation | int
    action: Action | int
    filters: tuple[Filter, ...] = ()
    targets: tuple[Target, ...] = ()

    def encode(self) -> bytes:
        writer = Writer().enum(1, self.operation).enum(2, self.action)
        for item in self.filters:
            writer.message(3, item.encode())
        for target in self.targets:
            writer.message(4, target.encode())
        return writer.getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str) -> Record:
        reader = Reader(data, path)
        return cls(
            operation=js.open_enum(Operation, reader.enum(1, "operation")),
            action=js.open_enum(Action, reader.enum(2, "action")),
            filters=tuple(
                Filter.decode(raw, f"{path}.filters[{i}]")
                for i, raw in enumerate(reader.repeated_messages(3, "filters"))
            ),
            targets=tuple(
                Target.decode(raw, f"{path}.targets[{i}]")
                for i, raw in enumerate(reader.repeated_messages(4, "targets"))
            ),
        )

    def to_json(self) -> js.JSONObject:
        return {
            "operation": js.enum_json(self.operation),
            "action": js.enum_json(self.action),
            "filters": [f.to_json() for f in self.filters],
            "targets": [t.to_json() for t in self.targets],
        }

    @classmethod
    def from_json(cls, obj: object, path: str) -> Record:
        return cls(
            operation=js.parse_enum(
                Operation, js.field(obj, "operation", "operation", path), f"{path}.operation"
            ),
            action=js.parse_enum(Action, js.field(obj, "action", "action", path), f"{path}.action"),
            filters=tuple(
                Filter.from_json(f, f"{path}.filters[{i}]")
                for i, f in enumerate(js.array(obj, "filters", "filters", path))
            ),
            targets=tuple(
                Target.from_json(t, f"{path}.targets[{i}]")
                for i, t in enumerate(js.array(obj, "targets", "targets", path))
            ),
        )


@dataclass(frozen=True, slots=True)
class Table:
    """neo.fs.v2 acl.EACLTable."""

    container_id: ContainerID | None
    records: tuple[Record, ...] = ()
    version: Version | None = field(default_factory=Version)

    def encode(self) -> bytes:
        writer = Writer().message(1, self.version.encode() if self.version else None)
        writer.message(2, self.container_id.encode() if self.container_id else None)
        for record in self.records:
            writer.message(3, record.encode())
        return writer.getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str = "eacl_table") -> Table:
        reader = Reader(data, path)
        version_raw = reader.message(1, "version")
        cid_raw = reader.message(2, "container_id")
        return cls(
            version=(
                Version.decode(version_raw, f"{path}.version") if version_raw is not None else None
            ),
            container_id=(
                ContainerID.decode(cid_raw, f"{path}.container_id") if cid_raw is not None else None
            ),
            records=tuple(
                Record.decode(raw, f"{path}.records[{i}]")
                for i, raw in enumerate(reader.repeated_messages(3, "records"))
            ),
        )

    def to_json(self) -> js.JSONObject:
        return {
            "version": self.version.to_json() if self.version else None,
            "containerID": self.container_id.to_json() if self.container_id else None,
            "records": [r.to_json() for r in self.records],
        }

    @classmethod
    def from_json(cls, obj: object, path: str = "eaclTable") -> Table:
        version = js.message(obj, "version", "version", path)
        cid = js.message(obj, "containerID", "container_id", path)
        return cls(
            version=Version.from_json(version, f"{path}.version") if version is not None else None,
            container_id=(
                ContainerID.from_json(cid, f"{path}.containerID") if cid is not None else None
            ),
            records=tuple(
                Record.from_json(r, f"{path}.records[{i}]")
                for i, r in enumerate(js.array(obj, "records", "records", path))
            ),
        )


def require_named(records: tuple[Record, ...], path: str) -> None:
    """Raises unless every enum value is a named, set one: what a stored table may hold.

    The wire format keeps unnamed numbers (proto3 open enums); tables the authority stores and
    signs are held to the names, so that every record means something a node understands.
    """
    for index, record in enumerate(records):
        at = f"{path}[{index}]"
        _require(record.operation, Operation, f"{at}.operation")
        _require(record.action, Action, f"{at}.action")
        for position, item in enumerate(record.filters):
            _require(item.header_type, HeaderType, f"{at}.filters[{position}].headerType")
            _require(item.match_type, MatchType, f"{at}.filters[{position}].matchType")
        for position, target in enumerate(record.targets):
            if not isinstance(target.role, Role):
                raise WireError(f"{at}.targets[{position}].role", "must be a named role")
            for number, key in enumerate(target.keys):
                if len(key) not in (25, 33):
                    raise WireError(
                        f"{at}.targets[{position}].keys[{number}]",
                        "must be a 33-byte public key or a 25-byte account",
                    )


def _require(value: object, kind: type[enum.IntEnum], path: str) -> None:
    if not isinstance(value, kind) or not value:
        names = ", ".join(m.name for m in kind if m)
        raise WireError(path, f"must be one of {names}")
