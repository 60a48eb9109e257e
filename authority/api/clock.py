"""The epoch clock (SPEC §2): public, like a NeoFS node's network info."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.conf import authority_settings
from authority.epoch import epoch_at, epoch_start


class EpochApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class OutputSerializer(serializers.Serializer):
        epoch = serializers.IntegerField()
        duration = serializers.IntegerField(help_text="Seconds per epoch")
        origin = serializers.DateTimeField()
        started_at = serializers.DateTimeField()
        next_epoch_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer, operation_id="epoch_retrieve")
    def get(self, request: Request) -> Response:
        epoch = epoch_at(timezone.now())
        return Response(
            self.OutputSerializer(
                {
                    "epoch": epoch,
                    "duration": authority_settings.EPOCH_DURATION,
                    "origin": authority_settings.epoch_origin,
                    "started_at": epoch_start(epoch),
                    "next_epoch_at": epoch_start(epoch + 1),
                }
            ).data
        )
