"""Session lifecycle API: issue, list, show, renew, cancel (thin views over tokens.services)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority import selectors as tenancy
from authority.api.common import StrictInput, owner_for_write, paginated, valid_data
from authority.api.fields import Base58Field
from authority.api.permissions import principal
from authority.errors import InvalidInput
from tokens import selectors
from tokens.api.token_input import token_payload
from tokens.models import Session, SessionContext, SessionKind
from tokens.services.renewals import renewal_schedule_create
from tokens.services.sessions import (
    IssuedSession,
    SessionRequest,
    session_cancel,
    session_issue,
    session_renew,
)
from tokens.wire.errors import WireError
from tokens.wire.ids import decode_base58


class SessionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    owner = serializers.CharField(source="owner.slug")
    kind = serializers.CharField()
    verbs = serializers.ListField(child=serializers.CharField())
    container = serializers.CharField(source="container_id", allow_null=True)
    objects = serializers.ListField(source="objects_list", child=serializers.CharField())
    subject = serializers.CharField()
    renewer = serializers.CharField(source="renewer_label")
    session_key = serializers.SerializerMethodField()
    state = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    max_expires_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # A declared attribute named `context` would hide Serializer.context.
        return {**super().get_fields(), "context": serializers.CharField(read_only=True)}

    def get_session_key(self, session: Session) -> str | None:
        return bytes(session.session_key).hex() if session.session_key else None


class NeoFSTokenOutput(serializers.Serializer):
    binary = serializers.CharField(help_text="base64 of the neo.fs.v2 SessionToken")
    json = serializers.JSONField(help_text="protojson of the same token")


class IssuedSessionOutput(SessionOutput):
    token = serializers.CharField(
        required=False, help_text="Delegation token sa1.<id>.<secret>; shown once, never again."
    )
    neofs_token = NeoFSTokenOutput(required=False)


def issued_payload(issued: IssuedSession) -> dict[str, Any]:
    data = dict(SessionOutput(issued.session).data)
    if issued.delegation_token:
        data["token"] = issued.delegation_token
    if issued.neofs_token is not None:
        data["neofs_token"] = token_payload(issued.neofs_token)
    return data


class SessionListApi(APIView):
    class SessionIssueInput(StrictInput):
        kind = serializers.ChoiceField(
            choices=[SessionKind.DELEGATION, SessionKind.STATIC], default=SessionKind.DELEGATION
        )
        owner = serializers.SlugField(required=False)
        verbs = serializers.ListField(
            child=serializers.CharField(max_length=16), min_length=1, max_length=8
        )
        container = Base58Field(length=32, required=False, allow_null=True)
        objects = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, max_length=1000
        )
        renewer = serializers.CharField(
            required=False,
            max_length=200,
            help_text="user:<username> or app:<client_id>; default: you",
        )
        lifetime = serializers.IntegerField(required=False, min_value=1, help_text="seconds")
        session_key = serializers.RegexField(
            r"^(02|03)[0-9a-fA-F]{64}$", required=False,
            help_text="hex of the trusted party's 33-byte compressed key (static sessions)",
        )  # fmt: skip

        def get_fields(self) -> dict[str, serializers.Field]:
            # A declared attribute named `context` would hide Serializer.context.
            context = serializers.ChoiceField(
                choices=SessionContext.choices, default=SessionContext.OBJECT
            )
            return {**super().get_fields(), "context": context}

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=["active", "expired", "cancelled"]),
            OpenApiParameter("renewer", str),
            OpenApiParameter("container", str),
        ],
        responses=SessionOutput(many=True),
        operation_id="sessions_list",
    )
    def get(self, request: Request) -> Response:
        container = request.query_params.get("container")
        try:
            cid = decode_base58(container, "container", 32) if container else None
        except WireError as exc:
            raise InvalidInput(exc.message, field="container") from None
        sessions = selectors.session_list(
            principal=principal(request),
            state=request.query_params.get("state"),
            renewer=request.query_params.get("renewer"),
            container=cid,
        )
        return paginated(request, self, sessions, SessionOutput)

    @extend_schema(
        request=SessionIssueInput,
        responses={201: IssuedSessionOutput},
        operation_id="sessions_issue",
    )
    def post(self, request: Request) -> Response:
        data = valid_data(self.SessionIssueInput, request)
        actor = principal(request)
        container = (
            tenancy.container_get(principal=actor, cid=data["container"])
            if data.get("container")
            else None
        )
        owner = (
            container.owner
            if container and not data.get("owner")
            else owner_for_write(actor, data.get("owner"))
        )
        renewer = (
            tenancy.member_principal_get(owner=owner, label=data["renewer"])
            if data.get("renewer")
            else actor
        )
        issued = session_issue(
            actor=actor,
            owner=owner,
            request=SessionRequest(
                kind=SessionKind(data["kind"]),
                context=SessionContext(data["context"]),
                verbs=tuple(v.upper() for v in data["verbs"]),
                renewer=renewer,
                container=container,
                objects=tuple(data.get("objects", ())),
                lifetime=data.get("lifetime"),
                session_key=bytes.fromhex(data["session_key"]) if data.get("session_key") else None,
            ),
        )
        return Response(issued_payload(issued), status=status.HTTP_201_CREATED)


class SessionDetailApi(APIView):
    @extend_schema(responses=SessionOutput, operation_id="sessions_retrieve")
    def get(self, request: Request, session_id: str) -> Response:
        session = selectors.session_get(principal=principal(request), session_id=session_id)
        return Response(SessionOutput(session).data)


class SessionRenewApi(APIView):
    @extend_schema(request=None, responses=SessionOutput, operation_id="sessions_renew")
    def post(self, request: Request, session_id: str) -> Response:
        actor = principal(request)
        session = selectors.session_get(principal=actor, session_id=session_id)
        return Response(SessionOutput(session_renew(actor=actor, session=session)).data)


class SessionCancelApi(APIView):
    @extend_schema(request=None, responses=SessionOutput, operation_id="sessions_cancel")
    def post(self, request: Request, session_id: str) -> Response:
        actor = principal(request)
        session = selectors.session_get(principal=actor, session_id=session_id)
        return Response(SessionOutput(session_cancel(actor=actor, session=session)).data)


class RenewalScheduleOutput(serializers.Serializer):
    session = serializers.UUIDField(source="session_id")
    period = serializers.IntegerField()
    stop_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()
    next_run_at = serializers.DateTimeField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_outcome = serializers.CharField()


class SessionRenewalScheduleApi(APIView):
    class RenewalScheduleInput(StrictInput):
        stop_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        request=RenewalScheduleInput,
        responses={201: RenewalScheduleOutput},
        operation_id="sessions_renewal_schedule",
    )
    def post(self, request: Request, session_id: str) -> Response:
        actor = principal(request)
        session = selectors.session_get(principal=actor, session_id=session_id)
        data = valid_data(self.RenewalScheduleInput, request)
        schedule = renewal_schedule_create(
            actor=actor, session=session, stop_at=data.get("stop_at")
        )
        return Response(RenewalScheduleOutput(schedule).data, status=status.HTTP_201_CREATED)
