"""Trading session tokens for access tokens: `POST /api/v1/trade` (JSON) and the RFC 8693 token
exchange `POST /api/v1/token` (form), plus the JWKS document.

The presented session token is the credential (delegated authentication, as the broker's
GetAccessToken): these endpoints take no other authentication, and so spend no query on it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.api.common import HotPathInput, valid_data
from authority.errors import AuthorityError, BadCredentials, InvalidInput
from tokens.api.throttles import TokenExchangeThrottle, TradeThrottle
from tokens.api.token_input import bytes_from_base64
from tokens.services.access_tokens import jwks_document
from tokens.services.proof import Proof
from tokens.services.trade import TradeResult, access_token_trade

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN, not a secret
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN, not a secret
DELEGATION_TOKEN_TYPE = "urn:session-authority:token-type:delegation"  # noqa: S105 - a URN, not a secret
NEOFS_SESSION_TOKEN_TYPE = "urn:session-authority:token-type:neofs-session"  # noqa: S105 - a URN, not a secret


def _proof(time: int | None, nonce: str | None, signature: str | None) -> Proof | None:
    if time is None and nonce is None and signature is None:
        return None
    if time is None or not nonce or not signature:
        raise InvalidInput("A proof needs time, nonce and signature.", field="proof")
    return Proof(time=time, nonce=nonce, signature=bytes_from_base64(signature, "proof.signature"))


def _trade_body(result: TradeResult) -> dict[str, Any]:
    return {
        "access_token": result.access_token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": result.expires_in,
        "scope": result.scope,
    }


class ProofInput(serializers.Serializer):
    time = serializers.IntegerField(help_text="unix seconds, within ±60 s of the server")
    nonce = serializers.CharField(min_length=8, max_length=128, help_text="single-use")
    signature = serializers.CharField(
        max_length=200, help_text="base64 of an RFC 6979 signature over trade:<id>:<time>:<nonce>"
    )


class TradeOutput(serializers.Serializer):
    access_token = serializers.CharField()
    issued_token_type = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    scope = serializers.CharField()


class TradeApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [TradeThrottle]

    class TradeInput(HotPathInput):
        subject_token = serializers.CharField(max_length=8192, trim_whitespace=True)
        scope = serializers.CharField(required=False, max_length=200)
        audience = serializers.CharField(required=False, max_length=200)
        proof = ProofInput(required=False)

    @extend_schema(request=TradeInput, responses=TradeOutput, operation_id="trade")
    def post(self, request: Request) -> Response:
        data = valid_data(self.TradeInput, request)
        proof = data.get("proof") or {}
        result = access_token_trade(
            subject_token=data["subject_token"],
            scope=data.get("scope"),
            audience=data.get("audience"),
            proof=_proof(proof.get("time"), proof.get("nonce"), proof.get("signature")),
        )
        return Response(_trade_body(result))


class TokenExchangeApi(APIView):
    """RFC 8693 §2: errors use the RFC 6749 §5.2 body (`error`, `error_description`)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenExchangeThrottle]
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    class TokenExchangeInput(HotPathInput):
        ignores_unknown_fields = True  # RFC 6749 §3.2: a token endpoint ignores them
        grant_type = serializers.CharField()
        subject_token = serializers.CharField(max_length=8192)
        subject_token_type = serializers.ChoiceField(
            choices=[DELEGATION_TOKEN_TYPE, NEOFS_SESSION_TOKEN_TYPE]
        )
        scope = serializers.CharField(required=False, max_length=200)
        audience = serializers.CharField(required=False, max_length=200)
        resource = serializers.CharField(required=False, max_length=500)
        requested_token_type = serializers.ChoiceField(choices=[ACCESS_TOKEN_TYPE], required=False)
        proof_time = serializers.IntegerField(required=False)
        proof_nonce = serializers.CharField(required=False, min_length=8, max_length=128)
        proof_signature = serializers.CharField(required=False, max_length=200)

    @extend_schema(request=TokenExchangeInput, responses=TradeOutput, operation_id="token_exchange")
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict) or request.data.get("grant_type") != TOKEN_EXCHANGE:
            return _oauth_error("unsupported_grant_type", f"grant_type must be {TOKEN_EXCHANGE}.")
        serializer = self.TokenExchangeInput(data=request.data)
        if not serializer.is_valid():
            field, messages = next(iter(serializer.errors.items()))
            return _oauth_error("invalid_request", f"{field}: {' '.join(map(str, messages))}")
        data = serializer.validated_data
        try:
            result = access_token_trade(
                subject_token=data["subject_token"],
                scope=data.get("scope"),
                audience=data.get("audience") or data.get("resource"),
                proof=_proof(
                    data.get("proof_time"), data.get("proof_nonce"), data.get("proof_signature")
                ),
            )
        except BadCredentials as exc:
            return _oauth_error("invalid_grant", exc.detail)
        except InvalidInput as exc:
            code = "invalid_scope" if exc.field == "scope" else "invalid_request"
            return _oauth_error(code, exc.detail)
        except AuthorityError as exc:
            return _oauth_error("invalid_grant", exc.detail, status=exc.status)
        response = Response(_trade_body(result))
        response["Cache-Control"] = "no-store"  # RFC 6749 §5.1
        return response


def _oauth_error(code: str, description: str, status: int = 400) -> Response:
    response = Response(
        {"error": code, "error_description": description, "detail": description}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


class JWKSApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: dict}, operation_id="jwks")
    def get(self, request: Request) -> Response:
        return Response(jwks_document())
