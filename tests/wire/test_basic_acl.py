import pytest

from tokens.wire import basic_acl
from tokens.wire.errors import WireError


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0x1FBFBFFF", 0x1FBFBFFF),
        ("0x1fbfbfff", 0x1FBFBFFF),
        ("1FBFBFFF", 0x1FBFBFFF),
        (" 0X0C8C8CCC ", 0x0C8C8CCC),
        ("0x00000001", 1),
        ("private", 0x1C8C8CCC),
        ("Public-Read", 0x1FBF8CFF),
        ("eacl-public-read-write", 0x0FBFBFFF),
        ("0xFFFFFFFF", 0xFFFFFFFF),
    ],
)
def test_parse_reads_hex_and_preset_names(text: str, value: int) -> None:
    assert basic_acl.parse(text) == value


@pytest.mark.parametrize("text", ["", "0x", "0x100000000", "0xZZ", "-1", "privat", "1" * 200])
def test_parse_refuses_what_is_not_a_basic_acl(text: str) -> None:
    with pytest.raises(WireError) as caught:
        basic_acl.parse(text)
    assert caught.value.field == "basic_acl"


def test_every_preset_round_trips_through_its_hex_form() -> None:
    for name, value in basic_acl.PRESETS.items():
        assert basic_acl.parse(basic_acl.to_hex(value)) == value
        assert basic_acl.preset_name(value) == name
        assert basic_acl.describe(value) == f"{basic_acl.to_hex(value)} ({name})"
    assert basic_acl.describe(1) == "0x00000001"
