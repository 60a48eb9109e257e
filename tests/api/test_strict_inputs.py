"""Every API input refuses a field it does not know (400 naming it), through one base class."""

from __future__ import annotations

import inspect

import pytest
from rest_framework import serializers

import authority.api.tenancy
import tokens.api.auth
import tokens.api.bearer_grants
import tokens.api.dynamic
import tokens.api.introspection
import tokens.api.sessions
import tokens.api.trade
import tokens.api.verify
from authority.api.common import StrictInput
from authority.models import Role

pytestmark = pytest.mark.django_db

MODULES = [
    authority.api.tenancy, tokens.api.auth, tokens.api.bearer_grants, tokens.api.dynamic,
    tokens.api.introspection, tokens.api.sessions, tokens.api.trade, tokens.api.verify,
]  # fmt: skip


def _input_serializers():
    for module in MODULES:
        for _, member in inspect.getmembers(module, inspect.isclass):
            nested = [member, *(c for _, c in inspect.getmembers(member, inspect.isclass))]
            for candidate in nested:
                if issubclass(candidate, serializers.Serializer) and candidate.__name__.endswith(
                    "Input"
                ):
                    yield candidate


def test_every_input_serializer_is_strict():
    found = set(_input_serializers())
    assert len(found) >= 15
    assert [s.__qualname__ for s in found if not issubclass(s, StrictInput)] == []
    # only the OAuth2 form endpoints ignore what they do not know (RFC 6749 §3.2)
    lenient = sorted(s.__qualname__ for s in found if s.ignores_unknown_fields)
    assert lenient == ["TokenExchangeApi.TokenExchangeInput", "TokenInput"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/trade", {"subject_token": "sa1.x.y", "scoep": "GET"}),
        ("/api/v1/sessions", {"verbs": ["GET"], "lifetme": 60}),
        ("/api/v1/bearer-grants", {"rules": ["deny get others"], "lifetme": 60}),
        ("/api/v1/verify", {"verb": "GET", "bearer_tokn": "x"}),
        ("/api/v1/trade", {"subject_token": "sa1.x.y", "proof": {"time": 1, "noncee": "x"}}),
    ],
)
def test_an_unknown_field_is_a_400_naming_it(acme, service_client, path, body):
    client = service_client(acme, Role.OPERATOR)
    response = client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    unknown = [
        name for name, message in response.json()["fields"].items() if message == "Unknown field."
    ]
    assert unknown and unknown[0].split(".")[-1] in {"scoep", "lifetme", "bearer_tokn", "noncee"}
