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


class HotPathInput(serializers.Serializer):
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
