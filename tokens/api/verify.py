"""`POST /api/v1/verify`: the policy decision point for an owner's containers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.api.common import HotPathInput, valid_data
from authority.api.fields import Base58Field, HeadersField
from authority.api.permissions import principal
from authority.errors import InvalidInput
from tokens.api.token_input import token_from_input
from tokens.services.verify import Operation, container_for_verify, request_verify
from tokens.wire.bearer import BearerToken
from tokens.wire.errors import WireError
from tokens.wire.ids import ObjectID, OwnerID
from tokens.wire.session import ContainerVerb, ObjectVerb, SessionToken


class VerifyApi(APIView):
    class VerifyInput(HotPathInput):
        kind = serializers.ChoiceField(choices=["object", "container"], default="object")
        verb = serializers.CharField(max_length=16)
        container = Base58Field(length=32)
        object = Base58Field(length=32, required=False, allow_null=True)
        request_headers = HeadersField(required=False)
        object_headers = HeadersField(required=False)
        requester_key = serializers.RegexField(r"^(02|03)[0-9a-fA-F]{64}$", required=False)
        requester_account = serializers.CharField(required=False, max_length=40)
        epoch = serializers.IntegerField(required=False, min_value=0, help_text="default: now")
        object_owner = serializers.CharField(
            required=False, max_length=40, help_text="the owner a PUT's object names (sticky bit)"
        )
        session_token = serializers.JSONField(required=False)
        bearer_token = serializers.JSONField(required=False)
        access_token = serializers.CharField(
            required=False, max_length=8192, help_text="the authority's access token (JWT)"
        )
        audience = serializers.CharField(
            required=False,
            max_length=200,
            help_text="the access token's (default: the authority's)",
        )

    class VerifyOutput(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["allow", "deny"])
        reason = serializers.CharField()
        record = serializers.JSONField(allow_null=True)

    @extend_schema(request=VerifyInput, responses=VerifyOutput, operation_id="verify")
    def post(self, request: Request) -> Response:
        data = valid_data(self.VerifyInput, request)
        verb = data["verb"].upper()
        try:
            object_verb = ObjectVerb[verb] if data["kind"] == "object" else None
            container_verb = ContainerVerb[verb] if data["kind"] == "container" else None
        except KeyError:
            raise InvalidInput(f"Not a {data['kind']} verb.", field="verb") from None
        if "session_token" in data and "access_token" in data:
            raise InvalidInput(
                "Attach a session token or an access token, not both.", field="access_token"
            )
        try:
            session = (
                token_from_input(data["session_token"], SessionToken, "session_token")[0]
                if "session_token" in data
                else None
            )
            bearer, raw = (
                token_from_input(data["bearer_token"], BearerToken, "bearer_token")
                if "bearer_token" in data
                else (None, b"")
            )
            account = (
                OwnerID.from_string(data["requester_account"], "requester_account")
                if data.get("requester_account")
                else None
            )
            object_owner = (
                OwnerID.from_string(data["object_owner"], "object_owner")
                if data.get("object_owner")
                else None
            )
        except WireError as exc:
            raise InvalidInput(exc.message, field=exc.field) from None
        container = container_for_verify(  # with the state of the tokens' records, in one query
            principal=principal(request),
            cid=data["container"],
            session_token=session,
            bearer_token=bearer,
            bearer_raw=raw,
            access_token=data.get("access_token"),
            audience=data.get("audience"),
        )
        decision = request_verify(
            Operation(
                container=container,
                object_verb=object_verb,
                container_verb=container_verb,
                object_id=ObjectID(data["object"]) if data.get("object") else None,
                request_headers=data.get("request_headers", {}),
                object_headers=data.get("object_headers", {}),
                requester_key=bytes.fromhex(data["requester_key"])
                if data.get("requester_key")
                else b"",
                requester_account=account,
                session_token=session,
                bearer_token=bearer,
                bearer_raw=raw,
                access_token=data.get("access_token"),
                audience=data.get("audience"),
                object_owner=object_owner,
                epoch=data.get("epoch"),
            )
        )
        return Response(
            {
                "decision": "allow" if decision.allow else "deny",
                "reason": decision.reason,
                "record": decision.record,
            }
        )
