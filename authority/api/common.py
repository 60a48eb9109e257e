"""Helpers every thin API view shares: validated input, pagination, the owner a write targets."""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.serializer_helpers import BindingDict
from rest_framework.views import APIView

from authority import selectors
from authority.errors import InvalidInput
from authority.models import Owner
from authority.principals import Principal


class StrictInput(serializers.Serializer):
    """The base of every API input serializer: a field it does not declare is a 400 naming the
    field, never silently dropped (SPEC flow 7: a misspelt `bearer_tokn` must not turn a deny
    into an allow). Nested input serializers are checked the same way, at their own path.

    `ignores_unknown_fields = True` is for the OAuth2 form endpoints only, where RFC 6749 §3.2
    has the server ignore parameters it does not know (clients send `client_id`, `resource`…)."""

    ignores_unknown_fields = False

    def to_internal_value(self, data: Any) -> Any:
        if not self.ignores_unknown_fields and isinstance(data, dict):
            known = set(self.fields)
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise serializers.ValidationError(
                    {name[:64]: ["Unknown field."] for name in unknown[:10]}
                )
        return super().to_internal_value(data)


class HotPathInput(StrictInput):
    """An input serializer for the hot paths (trade, token exchange, verify, introspection).
    DRF deep-copies every declared field for each serializer it makes, and binds each copy to
    it: most of validating a small body. The fields of these inputs keep no state of their own
    between requests and read nothing of their parent while validating (no context, no partial
    updates: `_check_shareable` refuses the kinds that do), so they are copied shallowly once
    and one set of bound fields, bound to a serializer holding no data, serves every instance
    of the class."""

    @property  # in place of DRF's per-instance `fields`
    def fields(self) -> BindingDict:
        shared: BindingDict | None = type(self).__dict__.get("_shared_fields")
        if shared is None:
            template = type(self)()  # no data of any request stays bound to the fields
            shared = BindingDict(template)
            for name, field in self._declared_fields.items():
                _check_shareable(type(self), name, field)
                shared[name] = copy.copy(field)
            type(self)._shared_fields = shared  # type: ignore[attr-defined]
        return shared


def _check_shareable(serializer: type, name: str, field: serializers.Field) -> None:
    default = getattr(field, "default", serializers.empty)
    if (
        isinstance(field, serializers.HiddenField | serializers.RelatedField)
        or isinstance(field, serializers.ManyRelatedField)
        or getattr(default, "requires_context", False)
    ):
        raise TypeError(f"{serializer.__name__}.{name} reads its parent: not a HotPathInput field")


class ListPagination(LimitOffsetPagination):
    """limit/offset paging that refuses what it cannot use (DRF's falls back to the defaults
    silently): a limit of 1..max_limit and an offset of 0 or more, as the schema says. The
    ceiling matters: without one, `?limit=10000000` asks for every row at once."""

    max_limit = 500
    _BOUNDS = {"limit": (1, max_limit), "offset": (0, None)}

    def _bounded(self, request: Request, name: str, default: int | None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        low, high = self._BOUNDS[name]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
            raise InvalidInput("Must be an integer.", field=name)
        if int(raw) < low or (high and int(raw) > high):
            raise InvalidInput(f"Must be from {low} to {high or 'any'}.", field=name)
        return int(raw)

    def get_limit(self, request: Request) -> int | None:
        return self._bounded(request, self.limit_query_param, self.default_limit)

    def get_offset(self, request: Request) -> int:
        return self._bounded(request, self.offset_query_param, 0) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            low, high = self._BOUNDS[parameter["name"]]
            parameter["schema"]["minimum"] = low
            if high:
                parameter["schema"]["maximum"] = high
        return parameters


# The one pager of the API's lists; the OpenAPI schema (authority.api.schema) documents it.
PAGINATION_CLASS = ListPagination


def paginated(request: Request, view: APIView, queryset: Any, serializer: type) -> Response:
    paginator = PAGINATION_CLASS()
    page: Any = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def owner_for_write(actor: Principal, slug: str | None) -> Owner:
    """The named owner, or the caller's only owner when none is named."""
    if slug:
        return selectors.owner_get(principal=actor, slug=slug)
    owners = list(selectors.owner_list(principal=actor)[:2])
    if len(owners) != 1:
        raise InvalidInput("Name the owner (you belong to several, or none).", field="owner")
    return owners[0]


def ignores_unknown_fields(serializer: Any) -> bool:
    return bool(getattr(serializer, "ignores_unknown_fields", False))


def _json_type_error(field: serializers.Field, value: Any) -> str | None:
    """DRF coerces scalars (a number to a CharField, "12" to an IntegerField, "true" to a
    BooleanField); a JSON body must send the type the schema names."""
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be a boolean."
    if isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "Must be an integer."
    if isinstance(field, serializers.CharField):
        if not isinstance(value, str):
            return "Must be a string."
        if isinstance(field, serializers.SlugField) and value != value.strip():
            return "Must be a slug, without spaces."  # DRF would trim it, the schema refuses it
    return None


def input_shape_error(
    serializer: serializers.Serializer, data: Any, *, json: bool, prefix: str = ""
) -> tuple[str, str] | None:
    """(field path, message) of the first scalar of a JSON body, nested serializers included,
    whose type is not the field's. Unknown fields are StrictInput's to refuse (one place)."""
    if not isinstance(data, dict):
        return None
    fields = serializer.fields
    for name, value in data.items():
        path = f"{prefix}{name}" or "input"
        field = fields.get(name)
        if field is None or field.read_only:
            continue
        if json and (message := _json_type_error(field, value)):
            return path, message
        found: tuple[str, str] | None = None
        if isinstance(field, serializers.Serializer):
            found = input_shape_error(field, value, json=json, prefix=f"{path}.")
        elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            child: Any = field.child
            for index, item in enumerate(value):
                found = input_shape_error(child, item, json=json, prefix=f"{path}[{index}].")
                if found:
                    break
        if found:
            return found
    return None


def valid_data(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidInput("The body must be a JSON object.")
    serializer = serializer_class(data=request.data)
    json = type(request.data) is dict  # a form's QueryDict carries strings only
    if shape := input_shape_error(serializer, request.data, json=json):
        raise InvalidInput(shape[1], field=shape[0])
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
