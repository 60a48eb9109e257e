"""Dynamic sessions API: create (blank token), complete, and sign with the session key."""

from __future__ import annotations

import base64

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority import selectors as tenancy
from authority.api.common import StrictInput, owner_for_write, valid_data
from authority.api.fields import Base58Field
from authority.api.permissions import principal
from tokens import selectors
from tokens.api.sessions import SessionOutput
from tokens.api.token_input import bytes_from_base64, token_from_input, token_payload
from tokens.services.dynamic import (
    dynamic_session_create,
    session_complete,
    session_sign,
    static_session_import,
)
from tokens.wire.session import SessionToken
from tokens.wire.signature import Scheme


class DynamicSessionCreateApi(APIView):
    class DynamicSessionInput(StrictInput):
        owner = serializers.SlugField(required=False)
        renewer = serializers.CharField(required=False, max_length=200)
        lifetime = serializers.IntegerField(required=False, min_value=1, help_text="seconds")

    @extend_schema(
        request=DynamicSessionInput, responses={201: dict}, operation_id="sessions_create_dynamic"
    )
    def post(self, request: Request) -> Response:
        data = valid_data(self.DynamicSessionInput, request)
        actor = principal(request)
        owner = owner_for_write(actor, data.get("owner"))
        renewer = (
            tenancy.member_principal_get(owner=owner, label=data["renewer"])
            if data.get("renewer")
            else actor
        )
        session, blank = dynamic_session_create(
            actor=actor, owner=owner, renewer=renewer, lifetime=data.get("lifetime")
        )
        body = {
            **SessionOutput(session).data,
            "session_key": bytes(session.session_key or b"").hex(),
            "blank_token": token_payload(blank),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class SessionCompleteApi(APIView):
    class CompleteInput(StrictInput):
        token = serializers.JSONField(help_text="the completed token: base64, or NeoFS JSON")

    @extend_schema(request=CompleteInput, responses=dict, operation_id="sessions_complete")
    def post(self, request: Request, session_id: str) -> Response:
        data = valid_data(self.CompleteInput, request)
        token, _ = token_from_input(data["token"], SessionToken, "token")
        actor = principal(request)
        session = selectors.session_get(principal=actor, session_id=session_id)
        signed = session_complete(actor=actor, session=session, token=token)
        return Response({"id": str(session.id), "neofs_token": token_payload(signed)})


class SessionSignApi(APIView):
    class SignInput(StrictInput):
        verb = serializers.CharField(max_length=16)
        container = Base58Field(length=32, required=False, allow_null=True)
        scheme = serializers.ChoiceField(
            choices=["ECDSA_SHA512", "ECDSA_RFC6979_SHA256"], default="ECDSA_RFC6979_SHA256"
        )

        def get_fields(self) -> dict[str, serializers.Field]:
            # A declared attribute named `data` would hide Serializer.data.
            data = serializers.CharField(
                max_length=4 * 1024 * 1024, help_text="base64 of the bytes to sign"
            )
            return {**super().get_fields(), "data": data}

    @extend_schema(request=SignInput, responses=dict, operation_id="sessions_sign")
    def post(self, request: Request, session_id: str) -> Response:
        data = valid_data(self.SignInput, request)
        actor = principal(request)
        session = selectors.session_get(principal=actor, session_id=session_id)
        signature = session_sign(
            actor=actor,
            session=session,
            data=bytes_from_base64(data["data"], "data"),
            verb=data["verb"].upper(),
            container=data.get("container"),
            scheme=Scheme[data["scheme"]],
        )
        return Response(
            {
                "key": bytes(session.session_key or b"").hex(),
                "signature": base64.b64encode(signature).decode(),
                "scheme": data["scheme"],
            }
        )


class SessionImportApi(APIView):
    class ImportInput(StrictInput):
        token = serializers.JSONField(help_text="the signed token: base64, or NeoFS JSON")

    @extend_schema(
        request=ImportInput, responses={201: SessionOutput}, operation_id="sessions_import"
    )
    def post(self, request: Request) -> Response:
        data = valid_data(self.ImportInput, request)
        token, _ = token_from_input(data["token"], SessionToken, "token")
        session = static_session_import(actor=principal(request), token=token)
        return Response(SessionOutput(session).data, status=status.HTTP_201_CREATED)
