"""Owner-scoped tenancy API: owners (read), containers and eACL tables (CRUD).

Thin views: parse → service/selector → serialize. Anything the caller cannot see is 404.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority import selectors
from authority.api.common import StrictInput, owner_for_write, paginated, valid_data
from authority.api.fields import Base58Field, BasicACLField, PublicKeyField
from authority.api.permissions import principal
from authority.errors import InvalidInput, NotFound
from authority.models import BearerFlavour, Container, EACLTable, Owner, Role
from authority.services.containers import (
    ContainerChanges,
    container_create,
    container_delete,
    container_update,
)
from authority.services.eacl_tables import (
    UNCHANGED,
    Unchanged,
    eacl_table_create,
    eacl_table_delete,
    eacl_table_to_wire,
    eacl_table_update,
)
from authority.services.owners import (
    MAX_OWNER_PERIOD,
    owner_create,
    require_tenant_maker,
    resource_server_register,
)
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import format_rule, parse_rule
from tokens.wire.errors import WireError
from tokens.wire.ids import decode_base58


class OwnerOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    neofs_owner_id = serializers.CharField(allow_null=True)
    public_key = serializers.SerializerMethodField()
    signs_own_tokens = serializers.BooleanField()
    bearer_flavour = serializers.CharField()
    renew_period = serializers.IntegerField(allow_null=True)
    max_lifetime = serializers.IntegerField(allow_null=True)

    def get_public_key(self, owner: Owner) -> str | None:
        return bytes(owner.public_key).hex() if owner.public_key else None


class OwnerListApi(APIView):
    class OwnerCreateInput(StrictInput):
        name = serializers.CharField(max_length=200)
        slug = serializers.CharField(max_length=64)
        public_key = PublicKeyField(required=False, allow_null=True)
        bearer_flavour = serializers.ChoiceField(
            choices=BearerFlavour.choices, default=BearerFlavour.NEOFS
        )
        renew_period = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=MAX_OWNER_PERIOD
        )
        max_lifetime = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=MAX_OWNER_PERIOD
        )

    @extend_schema(responses=OwnerOutput(many=True), operation_id="owners_list")
    def get(self, request: Request) -> Response:
        return paginated(
            request, self, selectors.owner_list(principal=principal(request)), OwnerOutput
        )

    @extend_schema(
        request=OwnerCreateInput, responses={201: OwnerOutput}, operation_id="owners_create"
    )
    def post(self, request: Request) -> Response:
        """A new tenant (superusers only). With `public_key` (compressed P-256, hex) the owner
        keeps its own wallet and no key is made; without, its key is generated in the HSM."""
        actor = principal(request)
        require_tenant_maker(actor)
        data = valid_data(self.OwnerCreateInput, request)
        owner = owner_create(
            actor=actor,
            name=data["name"],
            slug=data["slug"],
            public_key=data.get("public_key"),
            bearer_flavour=data["bearer_flavour"],
            renew_period=data.get("renew_period"),
            max_lifetime=data.get("max_lifetime"),
        )
        return Response(OwnerOutput(owner).data, status=status.HTTP_201_CREATED)


class OwnerDetailApi(APIView):
    @extend_schema(responses=OwnerOutput, operation_id="owners_retrieve")
    def get(self, request: Request, slug: str) -> Response:
        owner = selectors.owner_get(principal=principal(request), slug=slug)
        return Response(OwnerOutput(owner).data)


class ResourceServerApi(APIView):
    """An owner admin registers a resource-server client: it may verify and introspect for the
    owner, and nothing else. Its secret is shown once."""

    class ResourceServerInput(StrictInput):
        name = serializers.CharField(max_length=255)

    class ResourceServerOutput(serializers.Serializer):
        client_id = serializers.CharField()
        client_secret = serializers.CharField()
        name = serializers.CharField()
        role = serializers.CharField()

    @extend_schema(
        request=ResourceServerInput,
        responses={201: ResourceServerOutput},
        operation_id="owners_resource_servers_register",
    )
    def post(self, request: Request, slug: str) -> Response:
        data = valid_data(self.ResourceServerInput, request)
        actor = principal(request)
        owner = selectors.owner_get(principal=actor, slug=slug)
        application, secret = resource_server_register(actor=actor, owner=owner, name=data["name"])
        body = {
            "client_id": application.client_id,
            "client_secret": secret,
            "name": application.name,
            "role": Role.RESOURCE_SERVER.value,
        }
        return Response(self.ResourceServerOutput(body).data, status=status.HTTP_201_CREATED)


class ContainerOutput(serializers.Serializer):
    container_id = serializers.CharField()
    owner = serializers.CharField(source="owner.slug")
    name = serializers.CharField()
    basic_acl = BasicACLField(allow_null=True)
    eacl_table = serializers.UUIDField(source="eacl_table.public_id", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class ContainerListApi(APIView):
    class ContainerCreateInput(StrictInput):
        owner = serializers.SlugField(required=False)
        name = serializers.CharField(max_length=200)
        container_id = Base58Field(length=32, required=False)
        basic_acl = BasicACLField(required=False, allow_null=True)

    @extend_schema(responses=ContainerOutput(many=True), operation_id="containers_list")
    def get(self, request: Request) -> Response:
        return paginated(
            request, self, selectors.container_list(principal=principal(request)), ContainerOutput
        )

    @extend_schema(
        request=ContainerCreateInput,
        responses={201: ContainerOutput},
        operation_id="containers_create",
    )
    def post(self, request: Request) -> Response:
        data = valid_data(self.ContainerCreateInput, request)
        actor = principal(request)
        container = container_create(
            actor=actor,
            owner=owner_for_write(actor, data.get("owner")),
            name=data["name"],
            cid=data.get("container_id"),
            basic_acl=data.get("basic_acl"),
        )
        return Response(ContainerOutput(container).data, status=status.HTTP_201_CREATED)


class ContainerDetailApi(APIView):
    class ContainerUpdateInput(StrictInput):
        name = serializers.CharField(max_length=200, required=False)
        basic_acl = BasicACLField(required=False, allow_null=True)
        eacl_table = serializers.UUIDField(required=False, allow_null=True)

    def _get(self, request: Request, container_id: str) -> Container:
        try:
            cid = decode_base58(container_id, "container_id", 32)
        except WireError:
            raise NotFound("No such container.") from None
        return selectors.container_get(principal=principal(request), cid=cid)

    @extend_schema(responses=ContainerOutput, operation_id="containers_retrieve")
    def get(self, request: Request, container_id: str) -> Response:
        return Response(ContainerOutput(self._get(request, container_id)).data)

    @extend_schema(
        request=ContainerUpdateInput, responses=ContainerOutput, operation_id="containers_update"
    )
    def patch(self, request: Request, container_id: str) -> Response:
        container = self._get(request, container_id)
        data = valid_data(self.ContainerUpdateInput, request)
        changes = ContainerChanges()
        if "name" in data:
            changes["name"] = data["name"]
        if "basic_acl" in data:
            changes["basic_acl"] = data["basic_acl"]
        if "eacl_table" in data:
            changes["eacl_table"] = (
                _table_of_owner(request, data["eacl_table"], container.owner)
                if data["eacl_table"]
                else None
            )
        container = container_update(actor=principal(request), container=container, changes=changes)
        return Response(ContainerOutput(container).data)

    @extend_schema(responses={204: None}, operation_id="containers_destroy")
    def delete(self, request: Request, container_id: str) -> Response:
        container_delete(actor=principal(request), container=self._get(request, container_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EACLTableOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    owner = serializers.CharField(source="owner.slug")
    container = serializers.SerializerMethodField()
    name = serializers.CharField()
    table = serializers.SerializerMethodField(help_text="NeoFS JSON (neo.fs.v2 acl.EACLTable)")
    rules = serializers.SerializerMethodField(help_text="The records in neofs-cli rule syntax")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_container(self, table: EACLTable) -> str | None:
        return table.container.container_id if table.container else None

    def to_representation(self, instance: EACLTable) -> Any:
        # Both `table` and `rules` come from one conversion of the stored rows.
        self._wire = eacl_table_to_wire(instance)
        return super().to_representation(instance)

    def get_table(self, table: EACLTable) -> dict[str, Any]:
        return self._wire.to_json()

    def get_rules(self, table: EACLTable) -> list[str]:
        return [format_rule(r) for r in self._wire.records]


class EACLTableInput(StrictInput):
    """A table as NeoFS JSON (`table`) or as rule lines (`rules`), not both."""

    name = serializers.CharField(max_length=200)
    owner = serializers.SlugField(required=False)
    container = Base58Field(length=32, required=False, allow_null=True)
    table = serializers.JSONField(required=False, help_text="NeoFS JSON of an EACLTable")
    rules = serializers.ListField(
        child=serializers.CharField(max_length=1024), required=False, max_length=1000
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "table" in attrs and "rules" in attrs:
            raise serializers.ValidationError({"table": "Give either table or rules, not both."})
        try:
            if "table" in attrs:
                attrs["wire_table"] = wire.Table.from_json(attrs["table"], "table")
                wire.require_named(attrs["wire_table"].records, "table.records")
            elif "rules" in attrs:
                attrs["wire_table"] = wire.Table(
                    container_id=None,
                    records=tuple(
                        parse_rule(line, f"rules[{i}]") for i, line in enumerate(attrs["rules"])
                    ),
                )
        except WireError as exc:
            raise serializers.ValidationError({exc.field: exc.message}) from None
        return attrs


class EACLTableListApi(APIView):
    @extend_schema(responses=EACLTableOutput(many=True), operation_id="eacl_tables_list")
    def get(self, request: Request) -> Response:
        return paginated(
            request, self, selectors.eacl_table_list(principal=principal(request)), EACLTableOutput
        )

    @extend_schema(
        request=EACLTableInput, responses={201: EACLTableOutput}, operation_id="eacl_tables_create"
    )
    def post(self, request: Request) -> Response:
        data = valid_data(EACLTableInput, request)
        actor = principal(request)
        table = data.get("wire_table") or wire.Table(container_id=None)
        cid = data.get("container") or (table.container_id.value if table.container_id else None)
        container = selectors.container_get(principal=actor, cid=cid) if cid else None
        if container is not None and not data.get("owner"):
            owner = container.owner
        else:
            owner = owner_for_write(actor, data.get("owner"))
        row = eacl_table_create(
            actor=actor, owner=owner, name=data["name"], container=container, table=table
        )
        return Response(EACLTableOutput(_reload(request, row)).data, status=status.HTTP_201_CREATED)


class EACLTableDetailApi(APIView):
    class EACLTableUpdateInput(EACLTableInput):
        name = serializers.CharField(max_length=200, required=False)

    @extend_schema(responses=EACLTableOutput, operation_id="eacl_tables_retrieve")
    def get(self, request: Request, table_id: str) -> Response:
        table = selectors.eacl_table_get(principal=principal(request), public_id=table_id)
        return Response(EACLTableOutput(table).data)

    @extend_schema(
        request=EACLTableUpdateInput, responses=EACLTableOutput, operation_id="eacl_tables_update"
    )
    def patch(self, request: Request, table_id: str) -> Response:
        actor = principal(request)
        row = selectors.eacl_table_get(principal=actor, public_id=table_id)
        data = valid_data(self.EACLTableUpdateInput, request)
        if "owner" in data and data["owner"] != row.owner.slug:
            raise InvalidInput("A table stays with its owner.", field="owner")
        container: Container | None | Unchanged = UNCHANGED
        if "container" in data:
            cid = data["container"]
            container = selectors.container_get(principal=actor, cid=cid) if cid else None
        row = eacl_table_update(
            actor=actor, eacl_table=row, name=data.get("name"), container=container,
            table=data.get("wire_table"),
        )  # fmt: skip
        return Response(EACLTableOutput(_reload(request, row)).data)

    @extend_schema(responses={204: None}, operation_id="eacl_tables_destroy")
    def delete(self, request: Request, table_id: str) -> Response:
        actor = principal(request)
        eacl_table_delete(
            actor=actor, eacl_table=selectors.eacl_table_get(principal=actor, public_id=table_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _table_of_owner(request: Request, public_id: Any, owner: Owner) -> EACLTable:
    table = selectors.eacl_table_get(principal=principal(request), public_id=str(public_id))
    if table.owner_id != owner.pk:
        raise InvalidInput("No such eACL table.", field="eacl_table")
    return table


def _reload(request: Request, row: EACLTable) -> EACLTable:
    return selectors.eacl_table_get(principal=principal(request), public_id=str(row.public_id))
