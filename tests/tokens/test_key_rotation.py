"""Rotating the delegation key never strands a live session."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hsm.models import KeyPurpose, KeyRecord
from hsm.rotation import keys_rotate_due
from hsm.services import key_rotate
from tokens.models import Session

pytestmark = pytest.mark.django_db


def test_retired_delegation_key_lives_while_a_session_uses_it(world, issue, settings):
    settings.AUTHORITY = {"KEY_ROTATION": {}}
    session = issue()
    key = Session.objects.get(pk=session["id"]).secret_key
    key_rotate(purpose=KeyPurpose.DELEGATION_HMAC)
    KeyRecord.objects.filter(pk=key.pk).update(retired_at=timezone.now() - dt.timedelta(hours=1))
    assert keys_rotate_due().destroyed == []
    trade = world["anonymous"].post(
        "/api/v1/trade", {"subject_token": session["token"]}, format="json"
    )
    assert trade.status_code == 200  # the retired key still checks the secret
    world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert keys_rotate_due().destroyed == [key.label]
