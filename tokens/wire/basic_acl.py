"""A container's basic ACL: the uint32 as NeoFS writes it, its hex form and its named presets.

The value is written and read as neofs-cli and neofs-sdk-go do: lower- or upper-case hex, with
or without a `0x` prefix, or one of the preset names (`private`, `public-read`, …). Which bit
grants what, and how a request is decided by it, lives with the decision point; this module
only says what a value is called and how it is spelt.
"""

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
