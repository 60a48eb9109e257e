"""DRF permission: any authenticated principal (a member user or an OAuth2 service account)."""

from typing import Any

from rest_framework.permissions import BasePermission

from authority.principals import Principal, principal_from_request
from authority.request_context import request_actor_set


class IsPrincipal(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        found = principal_from_request(request)
        if found is not None:
            request_actor_set(found.label)  # for refusals audited after the view (api/observe)
        return found is not None


def principal(request: Any) -> Principal:
    """The request's principal; views behind IsPrincipal always have one."""
    found = principal_from_request(request)
    assert found is not None  # noqa: S101 - guaranteed by IsPrincipal
    return found
