"""The API's body parsers: the one place a request body becomes data (DEFAULT_PARSER_CLASSES).

Beyond DRF's own they refuse, as 400 before any view runs, what would otherwise fail deep inside
it: JSON nested deeper than any input of the API needs (Python's decoder recurses, and so would
every serializer after it), and NUL characters, which PostgreSQL cannot store or compare
(`\\u0000` in JSON, `%00` in a form). The URL's NUL bytes and the body's size are refused even
earlier, by authority.api.edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest input of the API is NeoFS JSON (a bearer token's eACL table: about 8 levels).
MAX_JSON_DEPTH = 32


def check_parsed(data: Any, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`data` if no container in it is nested deeper than `max_depth` and no string (key or
    value) holds a NUL; ParseError otherwise. Iterative, linear in the data's size."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError("NUL characters are not accepted.")
        elif isinstance(value, Mapping | list | tuple):
            if depth > max_depth:
                raise ParseError(f"The body is nested deeper than {max_depth} levels.")
            if isinstance(value, Mapping):
                for key, item in _items(value):
                    pending.append((key, depth))
                    pending.append((item, depth + 1))
            else:
                pending.extend((item, depth + 1) for item in value)
    return data


def _items(mapping: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    # A form's QueryDict holds a list per key; items() would show only the last value.
    if hasattr(mapping, "lists"):
        return [(key, values) for key, values in mapping.lists()]
    return list(mapping.items())


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # Python's decoder recurses per level: ~1,000 levels end it
            raise ParseError(f"The body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
        return check_parsed(data)


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return check_parsed(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        check_parsed(result.data)
        return result
