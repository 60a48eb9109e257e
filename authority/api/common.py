"""Helpers every thin API view shares: validated input, pagination, the owner a write targets."""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
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
    """An input serializer for the hot paths (trade, token exchange). DRF deep-copies every
    declared field for each serializer it makes, which re-creates the field and its validators:
    two thirds of validating a small body. Fields that keep no state of their own between
    requests (scalar fields, and nested serializers made of them; the copy is bound to this
    serializer as usual) can be copied shallowly instead."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class Pagination(LimitOffsetPagination):
    """DRF's limit/offset pages, with a ceiling on `limit`: without one, `?limit=10000000` asks
    for every row at once (DRF's default max_limit is None)."""

    max_limit = 500


def paginated(request: Request, view: APIView, queryset: Any, serializer: type) -> Response:
    paginator = Pagination()
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


def valid_data(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidInput("The body must be a JSON object.")
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
