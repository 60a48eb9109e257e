"""The one exception type the codec raises for malformed or invalid input."""

from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class WireError(ValueError):
    """Malformed or invalid token data; `field` names where it went wrong (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def under(self, parent: str) -> "WireError":
        """The same error, with its field path prefixed by the enclosing message's field."""
        return WireError(f"{parent}.{self.field}" if self.field else parent, self.message)


def build(kind: Callable[P, T], path: str, /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Constructs a validating dataclass, re-rooting its WireError under `path`."""
    try:
        return kind(*args, **kwargs)
    except WireError as exc:
        raise exc.under(path) from None
