"""RFC 7662 introspection and RFC 7009 revocation, for authenticated clients of the owner."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.api.common import HotPathInput, valid_data
from authority.api.parsers import FormParser, JSONParser, MultiPartParser
from authority.api.permissions import principal
from tokens.api.throttles import IntrospectThrottle
from tokens.services.introspection import token_introspect, token_revoke


class TokenInput(HotPathInput):
    # RFC 7662 / RFC 7009 form posts carry the client's own parameters (RFC 6749 §2.3.1
    # `client_id`, `client_secret`) beside the token: ignored, as the token endpoint does.
    ignores_unknown_fields = True

    token = serializers.CharField(max_length=8192)
    # RFC 6749 §3.1: a parameter sent without a value is treated as omitted
    token_type_hint = serializers.CharField(required=False, allow_blank=True, max_length=64)


class IntrospectApi(APIView):
    parser_classes = [FormParser, MultiPartParser, JSONParser]
    throttle_classes = [IntrospectThrottle]

    @extend_schema(request=TokenInput, responses={200: dict}, operation_id="introspect")
    def post(self, request: Request) -> Response:
        data = valid_data(TokenInput, request)
        return Response(token_introspect(actor=principal(request), token=data["token"]))


class RevokeApi(APIView):
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(request=TokenInput, responses={200: dict}, operation_id="revoke")
    def post(self, request: Request) -> Response:
        data = valid_data(TokenInput, request)
        token_revoke(actor=principal(request), token=data["token"])
        return Response({})  # RFC 7009 §2.2: 200 whether or not the token was known
