"""Client sessions over HTTP (SPEC §4 flow 8): login, logout, reset-key. The authentication
class and the middleware that rolls the token are in tokens.api.authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.api.common import StrictInput, valid_data
from authority.api.parsers import JSONParser
from authority.api.permissions import principal
from authority.conf import authority_settings
from authority.errors import AuthFormat, AuthMissing, NotAllowed
from tokens.api.authentication import (
    TOKEN_HEADER,
    authorization_parse,
    basic_credentials,
    client_session_forget,
)
from tokens.services.client_sessions import (
    client_session_key_reset,
    client_session_login,
    client_session_logout,
)


class ClientTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of tokens.api.authentication.ClientTokenAuthentication."""

    target_class = "tokens.api.authentication.ClientTokenAuthentication"
    name = "clientToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <client token>` from /api/v1/auth/login, or HTTP Basic. "
            "Each answer carries the next client token in `X-Authority-Token`.",
        }


class IsSuperuser(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


class LoginInput(StrictInput):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class LoginOutput(serializers.Serializer):
    token = serializers.CharField()
    token_type = serializers.CharField()
    idle_timeout = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    user = serializers.CharField()


class LoginApi(APIView):
    """A member's username and password (a JSON body or HTTP Basic) for a client token."""

    authentication_classes: list[type] = []  # the credentials are this view's input
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(
        request=LoginInput, responses={200: LoginOutput}, operation_id="auth_login", auth=[]
    )
    def post(self, request: Request) -> Response:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is not None:
            scheme, credentials = authorization_parse(header)
            if scheme != "basic":
                raise AuthFormat("Log in with HTTP Basic or a JSON body.")
            username, password = basic_credentials(credentials)
        else:
            if isinstance(request.data, dict) and not (
                {"username", "password"} & set(request.data)
            ):
                raise AuthMissing("Send a username and password (JSON body or HTTP Basic).")
            data = valid_data(LoginInput, request)
            username, password = data["username"], data["password"]
        issued = client_session_login(username=username, password=password)
        body = LoginOutput(
            {
                "token": issued.token,
                "token_type": "Token",
                "idle_timeout": authority_settings.CLIENT_TOKEN_IDLE_TIMEOUT,
                "expires_at": issued.session.expires_at,
                "user": issued.username,
            }
        ).data
        return Response(body, headers={TOKEN_HEADER: issued.token, "Cache-Control": "no-store"})


class LogoutApi(APIView):
    """Ends every client session of the calling user (a per-user not-before)."""

    @extend_schema(request=None, responses={204: None}, operation_id="auth_logout")
    def post(self, request: Request) -> Response:
        actor = principal(request)
        if actor.user is None:
            raise NotAllowed("Client sessions belong to users; this caller is an application.")
        client_session_logout(user=actor.user)
        client_session_forget(request)
        return Response(status=204)


class ResetKeyApi(APIView):
    """Rotates the client-session key and destroys the old ones: every client token stops."""

    permission_classes = [IsSuperuser]

    @extend_schema(request=None, responses={204: None}, operation_id="auth_reset_key")
    def post(self, request: Request) -> Response:
        client_session_key_reset(actor=principal(request))
        client_session_forget(request)
        return Response(status=204)
