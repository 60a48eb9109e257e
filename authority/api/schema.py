"""The OpenAPI schema tells what the API does, in one place: list operations answer the paginated
envelope of `authority.api.common.paginated`; every operation documents its error answers with the
SPEC §5 error body (and the headers that come with them); request bodies refuse unknown fields
(the API's input serializers are strict); OAuth2 bearer tokens are a security scheme.

`AuthoritySchema` is DRF's DEFAULT_SCHEMA_CLASS (settings.REST_FRAMEWORK); importing it registers
the OAuth2 scheme extension below.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

from authority.api.common import PAGINATION_CLASS, ignores_unknown_fields

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "SPEC §5: every error answer of the API.",
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. `not_found`."},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "The message of each invalid input field, by its path.",
        },
    },
    "required": ["error", "detail"],
}

_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}
_CHALLENGE = {
    "WWW-Authenticate": {
        "schema": {"type": "string"},
        "description": "The schemes the API accepts (RFC 9110 §11.6.1).",
    }
}

# (status, description, headers, only where a request body is sent or the operation writes)
_ERRORS: tuple[tuple[str, str, dict[str, Any], bool], ...] = (
    ("400", "Invalid input, or a malformed Authorization header.", {}, False),
    ("401", "Credentials missing or not accepted.", _CHALLENGE, False),
    ("403", "Authenticated, but not allowed to do this.", {}, False),
    ("404", "No such object, or not the caller's: the two are never told apart.", {}, False),
    ("409", "The object's state forbids the change.", {}, True),
    ("413", "The request body is too large.", {}, True),
    ("415", "The body is not JSON.", {}, True),
    ("429", "Too many requests.", _RETRY_AFTER, False),
    (
        "503",
        "A backing service (database, cache, broker, HSM) is unavailable.",
        _RETRY_AFTER,
        False,
    ),
)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


class AuthoritySchema(AutoSchema):
    def _get_paginator(self) -> Any:
        """Views page lists by hand (authority.api.common.paginated), not through a
        GenericAPIView's pagination_class: every GET whose answer is a list is paged."""
        paginator = super()._get_paginator()
        if paginator is None and self.method == "GET":
            return PAGINATION_CLASS()
        return paginator

    def map_parsers(self) -> list[str]:
        """The API's bodies are JSON (SPEC §5); only views that chose their parsers (the OAuth2
        form endpoints: token exchange, introspection, revocation) document forms as well."""
        if "parser_classes" in vars(type(self.view)):
            parsers: list[str] = super().map_parsers()
            return parsers
        return ["application/json"]

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and not ignores_unknown_fields(serializer):
            schema["additionalProperties"] = False  # authority.api.common.valid_data refuses them
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        error = self._error_component()
        writes = self.method in _WRITES
        for status, description, headers, on_write in _ERRORS:
            if status in responses or (on_write and not writes):
                continue
            responses[status] = {
                "description": description,
                "content": {"application/json": {"schema": error.ref}},
                **({"headers": headers} if headers else {}),
            }
        if self._authenticated():
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {})["X-Authority-Token"] = {
                        "schema": {"type": "string"},
                        "description": "A fresh client token, when a client token or a "
                        "password authenticated the call (SPEC §4 flow 8).",
                    }
        return responses

    def _authenticated(self) -> bool:
        return not any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _error_component(self) -> ResolvedComponent:
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_COMPONENT,
            schema=ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component


class OAuth2BearerScheme(DjangoOAuthToolkitScheme):
    """OAuth2 access tokens (client credentials at /o/token/) sent as `Authorization: Bearer`.
    Any operation an authenticated principal may call takes one: the API's permission asks for
    a principal (authority.api.permissions.IsPrincipal), not for a scope."""

    priority = 1
    match_subclasses = True  # the API's bearer authentication may be a subclass of DOT's

    def get_security_requirement(self, auto_schema: Any) -> Any:
        found = super().get_security_requirement(auto_schema)
        return found if found is not None else {self.name: []}

    def get_security_definition(self, auto_schema: Any) -> Any:
        scopes = settings.OAUTH2_PROVIDER.get("SCOPES", {})
        return {
            "type": "oauth2",
            "description": "A bearer token in the Authorization header only (RFC 6750 §2.1).",
            "flows": {"clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes}},
        }
