"""Bearer grants API: issue (stored table, NeoFS JSON or rule lines), list, show, revoke."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority import selectors as tenancy
from authority.api.common import StrictInput, paginated, valid_data
from authority.api.fields import Base58Field
from authority.api.permissions import principal
from authority.errors import InvalidInput
from authority.services.eacl_tables import eacl_table_to_wire
from tokens import selectors
from tokens.api.token_input import token_from_input, token_payload
from tokens.models import BearerGrant
from tokens.services.bearer_grants import (
    GrantLifetime,
    bearer_grant_import,
    bearer_grant_issue,
    bearer_grant_revoke,
)
from tokens.wire import eacl as wire
from tokens.wire.bearer import BearerToken, Flavour
from tokens.wire.eacl_rules import parse_rule
from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID


class BearerGrantOutput(serializers.Serializer):
    id = serializers.UUIDField()
    owner = serializers.CharField(source="owner.slug")
    container = serializers.CharField(source="container_id")
    receiver = serializers.CharField(allow_blank=True)
    flavour = serializers.CharField()
    allow_impersonate = serializers.BooleanField()
    exp = serializers.IntegerField()
    nbf = serializers.IntegerField()
    iat = serializers.IntegerField()
    issued_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    token = serializers.SerializerMethodField()

    def get_token(self, grant: BearerGrant) -> dict[str, Any]:
        return token_payload(BearerToken.decode(bytes(grant.token), flavour=Flavour(grant.flavour)))


class BearerGrantListApi(APIView):
    class BearerGrantInput(StrictInput):
        container = Base58Field(length=32)
        receiver = serializers.CharField(
            required=False,
            allow_null=True,
            max_length=40,
            help_text="base58 owner id; omit for anyone",
        )
        lifetime = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="seconds (rounded up to epochs); default 3600 unless exp is given",
        )
        exp = serializers.IntegerField(
            required=False, min_value=0, help_text="the last valid epoch (instead of lifetime)"
        )
        nbf = serializers.IntegerField(
            required=False, min_value=0, help_text="first valid epoch (default: now)"
        )
        iat = serializers.IntegerField(
            required=False, min_value=0, help_text="issued-at epoch (default: now)"
        )
        allow_impersonate = serializers.BooleanField(
            default=False, help_text="FrostFS bearer tokens only"
        )
        eacl_table = serializers.UUIDField(required=False)
        table = serializers.JSONField(required=False, help_text="NeoFS JSON of an EACLTable")
        rules = serializers.ListField(
            child=serializers.CharField(max_length=1024), required=False, max_length=1000
        )

    @extend_schema(responses=BearerGrantOutput(many=True), operation_id="bearer_grants_list")
    def get(self, request: Request) -> Response:
        return paginated(
            request,
            self,
            selectors.bearer_grant_list(principal=principal(request)),
            BearerGrantOutput,
        )

    @extend_schema(
        request=BearerGrantInput,
        responses={201: BearerGrantOutput},
        operation_id="bearer_grants_issue",
    )
    def post(self, request: Request) -> Response:
        data = valid_data(self.BearerGrantInput, request)
        actor = principal(request)
        container = tenancy.container_get(principal=actor, cid=data["container"])
        sources = [k for k in ("eacl_table", "table", "rules") if k in data]
        if len(sources) != 1:
            raise InvalidInput("Give exactly one of eacl_table, table, rules.", field="table")
        try:
            if "eacl_table" in data:
                stored = tenancy.eacl_table_get(principal=actor, public_id=str(data["eacl_table"]))
                if stored.owner_id != container.owner_id:
                    raise InvalidInput("No such eACL table.", field="eacl_table")
                table = eacl_table_to_wire(stored)
            elif "table" in data:
                table = wire.Table.from_json(data["table"], "table")
            else:
                records = tuple(
                    parse_rule(line, f"rules[{i}]") for i, line in enumerate(data["rules"])
                )
                table = wire.Table(container_id=None, records=records)
            receiver = (
                OwnerID.from_string(data["receiver"], "receiver") if data.get("receiver") else None
            )
        except WireError as exc:
            raise InvalidInput(exc.message, field=exc.field) from None
        grant, _ = bearer_grant_issue(
            actor=actor,
            container=container,
            receiver=receiver,
            table=table,
            lifetime=GrantLifetime(
                seconds=data.get("lifetime", None if "exp" in data else 3600),
                exp=data.get("exp"),
                nbf=data.get("nbf"),
                iat=data.get("iat"),
            ),
            allow_impersonate=data["allow_impersonate"],
        )
        return Response(BearerGrantOutput(grant).data, status=status.HTTP_201_CREATED)


class BearerGrantImportApi(APIView):
    """A wallet owner's own signed bearer token, registered so that it is listed, audited and
    revocable (verify then honours its revocation)."""

    class BearerGrantImportInput(StrictInput):
        token = serializers.JSONField(help_text="the signed token: base64 binary or NeoFS JSON")
        container = Base58Field(
            length=32, required=False, help_text="when the token's table names no container"
        )

    @extend_schema(
        request=BearerGrantImportInput,
        responses={201: BearerGrantOutput},
        operation_id="bearer_grants_import",
    )
    def post(self, request: Request) -> Response:
        data = valid_data(self.BearerGrantImportInput, request)
        actor = principal(request)
        container = (
            tenancy.container_get(principal=actor, cid=data["container"])
            if data.get("container")
            else None
        )
        try:
            token, _ = token_from_input(data["token"], BearerToken, "token")
        except WireError as exc:
            raise InvalidInput(exc.message, field=exc.field) from None
        grant = bearer_grant_import(actor=actor, token=token, container=container)
        return Response(BearerGrantOutput(grant).data, status=status.HTTP_201_CREATED)


class BearerGrantDetailApi(APIView):
    @extend_schema(responses=BearerGrantOutput, operation_id="bearer_grants_retrieve")
    def get(self, request: Request, grant_id: str) -> Response:
        grant = selectors.bearer_grant_get(principal=principal(request), grant_id=grant_id)
        return Response(BearerGrantOutput(grant).data)


class BearerGrantRevokeApi(APIView):
    @extend_schema(request=None, responses=BearerGrantOutput, operation_id="bearer_grants_revoke")
    def post(self, request: Request, grant_id: str) -> Response:
        actor = principal(request)
        grant = selectors.bearer_grant_get(principal=actor, grant_id=grant_id)
        return Response(BearerGrantOutput(bearer_grant_revoke(actor=actor, grant=grant)).data)
