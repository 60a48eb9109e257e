"""A container's basic ACL: the uint32 as NeoFS writes it, its hex form and its named presets.

The value is written and read as neofs-cli and neofs-sdk-go do: lower- or upper-case hex, with
or without a `0x` prefix, or one of the preset names (`private`, `public-read`, …).

The bits (neofs-sdk-go `container/acl/acl_basic.go`): seven operations of four bits each, from
the lowest (GET, HEAD, PUT, DELETE, SEARCH, RANGE, RANGEHASH — `init.go` `orderedOps`); in each,
from the lowest, B (bearer rules allowed), others, container nodes, owner. Bit 28 is F (final:
the eACL is not consulted) and bit 29 the sticky bit (only an object's owner may put it).
"""

import enum

from tokens.wire.errors import WireError

UINT32_MAX = 0xFFFFFFFF

# The frequently used values and their names, as neofs-sdk-go's `container/acl` package defines
# them ("numbers are taken from NeoFS Specification").
PRESETS: dict[str, int] = {
    "private": 0x1C8C8CCC,
    "eacl-private": 0x0C8C8CCC,
    "public-read": 0x1FBF8CFF,
    "eacl-public-read": 0x0FBF8CFF,
    "public-read-write": 0x1FBFBFFF,
    "eacl-public-read-write": 0x0FBFBFFF,
    "public-append": 0x1FBF9FFF,
    "eacl-public-append": 0x0FBF9FFF,
}
_NAMES = {value: name for name, value in PRESETS.items()}

# Longest accepted spelling: "0x" and eight hex digits, or the longest preset name.
MAX_TEXT = max(10, *(len(name) for name in PRESETS))


def parse(text: str, field: str = "basic_acl") -> int:
    """The uint32 a preset name or a hex string (`0x1FBFBFFF`, `1fbfbfff`) stands for."""
    spelt = text.strip()
    if len(spelt) > MAX_TEXT:
        raise WireError(field, "a basic ACL is a preset name or at most eight hex digits")
    preset = PRESETS.get(spelt.lower())
    if preset is not None:
        return preset
    digits = spelt[2:] if spelt[:2].lower() == "0x" else spelt
    if not digits or any(c not in "0123456789abcdefABCDEF" for c in digits):
        names = ", ".join(PRESETS)
        raise WireError(field, f"not a hex number or a preset name ({names})")
    value = int(digits, 16)
    if value > UINT32_MAX:
        raise WireError(field, "a basic ACL is a uint32 (at most 0xFFFFFFFF)")
    return value


def to_hex(value: int) -> str:
    """`0x` and eight upper-case hex digits, as the console and the API show a basic ACL."""
    return f"0x{value:08X}"


def preset_name(value: int) -> str | None:
    """The preset's name when the value is one, else None."""
    return _NAMES.get(value)


def describe(value: int) -> str:
    """The hex form, followed by the preset's name in brackets when it has one."""
    name = preset_name(value)
    return f"{to_hex(value)} ({name})" if name else to_hex(value)


class Role(enum.IntEnum):
    """Who a request is from, as the basic ACL sees it (neofs-sdk-go `container/acl` Role)."""

    OWNER = 1
    CONTAINER = 2  # nodes of the container (eACL role SYSTEM): never from a request here
    INNER_RING = 3  # Inner Ring nodes: never from a request here
    OTHERS = 4


# The operation codes are those of neo.fs.v2 acl.Operation (GET=1 … GETRANGEHASH=7), whose order
# is the SDK's `orderedOps`: operation n owns bits 4(n-1) … 4(n-1)+3.
FIRST_OPERATION, LAST_OPERATION = 1, 7
_BITS_PER_OPERATION = 4
_BIT_BEARER, _BIT_OTHERS, _BIT_CONTAINER, _BIT_OWNER = 0, 1, 2, 3
FINAL_BIT = 7 * _BITS_PER_OPERATION  # 28
STICKY_BIT = FINAL_BIT + 1  # 29
# Operations container nodes always may do (SDK `isReplicationOp`): GET, HEAD, PUT, SEARCH, HASH.
_REPLICATION = frozenset({1, 2, 3, 5, 7})
_INNER_RING = frozenset({1, 2, 5, 7})  # GET, HEAD, SEARCH, GETRANGEHASH


def _bit(value: int, position: int) -> bool:
    return bool(value >> position & 1)


def _operation_bit(value: int, operation: int, offset: int) -> bool:
    if not FIRST_OPERATION <= operation <= LAST_OPERATION:
        raise WireError("operation", f"not an object operation: {operation}")
    return _bit(value, (operation - 1) * _BITS_PER_OPERATION + offset)


def is_operation_allowed(value: int, operation: int, role: Role) -> bool:
    """May `role` do `operation` on a container with this basic ACL (SDK `Basic.IsOpAllowed`)."""
    if role is Role.INNER_RING:
        return operation in _INNER_RING
    if role is Role.CONTAINER:
        return operation in _REPLICATION or _operation_bit(value, operation, _BIT_CONTAINER)
    offset = _BIT_OWNER if role is Role.OWNER else _BIT_OTHERS
    return _operation_bit(value, operation, offset)


def bearer_rules_allowed(value: int, operation: int) -> bool:
    """The B bit of `operation`: may a bearer token's eACL replace the container's
    (SDK `Basic.AllowedBearerRules`)."""
    return _operation_bit(value, operation, _BIT_BEARER)


def extendable(value: int) -> bool:
    """F clear: the eACL is consulted after the basic ACL (SDK `Basic.Extendable`)."""
    return not _bit(value, FINAL_BIT)


def sticky(value: int) -> bool:
    """Only an object's owner may put it (SDK `Basic.Sticky`)."""
    return _bit(value, STICKY_BIT)
