"""Console forms that keep what they are given: a basic ACL typed as hex or a preset name and
shown as hex; an owner added with every one of its settings, or from its own wallet's public key.

Values are parsed here (the spelling) and checked by the services (the rules); a service's
refusal comes back on the form (authority.admin.scoping.ServiceForm), never as a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from authority.admin.scoping import ServiceForm
from authority.models import Container, Owner
from tokens.wire import basic_acl
from tokens.wire.errors import WireError


class BasicACLInput(forms.TextInput):
    """A text input offering the preset names (a browser's number input would drop the `0x`)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {"maxlength": str(basic_acl.MAX_TEXT), "size": "24", "spellcheck": "false"}
        super().__init__({**defaults, **(attrs or {})})

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        datalist = f"{(attrs or {}).get('id') or name}-presets"
        text = super().render(name, value, {**(attrs or {}), "list": datalist}, renderer)
        options = format_html_join(
            "",
            '<option value="{}">{}</option>',
            ((name, basic_acl.to_hex(value)) for name, value in basic_acl.PRESETS.items()),
        )
        return format_html('{}<datalist id="{}">{}</datalist>', text, datalist, options)


class BasicACLFormField(forms.Field):
    """A container's basic ACL: `0x1FBFBFFF`, `1fbfbfff` or a preset name (`public-read`), kept
    as the uint32 it stands for and shown back as `0x` and eight hex digits."""

    widget = BasicACLInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Basic ACL")
        kwargs.setdefault(
            "help_text",
            format_html(
                "Hex, as neofs-cli prints it (<code>0x1FBFBFFF</code>), or a preset name: {}.",
                format_html_join(", ", "<code>{}</code>", ((name,) for name in basic_acl.PRESETS)),
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return basic_acl.to_hex(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int):
            return value
        try:
            return basic_acl.parse(str(value))
        except WireError as exc:
            raise ValidationError(f"Not a basic ACL: {exc.message}.", code="invalid") from None


class ContainerForm(ServiceForm):
    basic_acl = BasicACLFormField()

    class Meta:
        model = Container
        fields = ["owner", "name", "basic_acl", "eacl_table"]


class PublicKeyFormField(forms.CharField):
    """A wallet's public key: 33 bytes (compressed P-256) in hex, as neo-go prints it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 66)
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"spellcheck": "false", "style": "font-family: monospace; width: 68ch"}
        )

    def clean(self, value: Any) -> bytes | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise ValidationError("Hex digits only.", code="invalid") from None
        if len(raw) != 33:
            raise ValidationError("A compressed P-256 key is 33 bytes (66 hex digits).")
        return raw


class OwnerAddForm(ServiceForm):
    """Add owner: every setting is kept; with "signs own tokens" the owner keeps its wallet and
    the authority holds only the public key given here (no HSM key is made)."""

    public_key = PublicKeyFormField(
        label="Wallet public key",
        help_text=(
            "Only for an owner that signs its own tokens: its wallet's compressed public key "
            "(66 hex digits). Leave empty to make the owner's key in the HSM."
        ),
    )

    class Meta:
        model = Owner
        fields = [
            "name",
            "slug",
            "signs_own_tokens",
            "public_key",
            "bearer_flavour",
            "renew_period",
            "max_lifetime",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        own = cleaned.get("signs_own_tokens")
        key = cleaned.get("public_key")
        if own and key is None and "public_key" not in self.errors:
            self.add_error("public_key", "An owner that signs its own tokens gives its key.")
        if key is not None and not own:
            self.add_error(
                "signs_own_tokens",
                "Tick this to use the wallet's key, or leave the key empty for an HSM key.",
            )
        return cleaned
