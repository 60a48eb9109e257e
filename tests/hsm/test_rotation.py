"""Scheduled rotation: due keys rotate; retired keys are destroyed only when nothing they signed
or keyed can still be presented."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.rotation import keys_rotate_due
from hsm.services import key_generate, key_rotate

pytestmark = pytest.mark.django_db


def _age(key: KeyRecord, **delta) -> None:
    KeyRecord.objects.filter(pk=key.pk).update(created_at=timezone.now() - dt.timedelta(**delta))


def test_due_keys_rotate_and_fresh_ones_do_not(settings):
    settings.AUTHORITY = {"KEY_ROTATION": {"access_token_signing": 86400, "delegation_hmac": 86400}}
    old = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    _age(old, days=2)
    fresh = key_generate(purpose=KeyPurpose.DELEGATION_HMAC)
    result = keys_rotate_due()
    assert len(result.rotated) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == KeyState.RETIRED and fresh.state == KeyState.ACTIVE
    assert keys_rotate_due().rotated == []  # the new key is not due


def test_retired_access_token_key_is_destroyed_after_its_tokens_expire(settings):
    settings.AUTHORITY = {"ACCESS_TOKEN_TTL": 900, "KEY_ROTATION": {}}
    old = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    key_rotate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    assert keys_rotate_due().destroyed == []  # its tokens may still be in use
    KeyRecord.objects.filter(pk=old.pk).update(retired_at=timezone.now() - dt.timedelta(hours=1))
    assert keys_rotate_due().destroyed == [old.label]
    old.refresh_from_db()
    assert old.state == KeyState.DESTROYED
