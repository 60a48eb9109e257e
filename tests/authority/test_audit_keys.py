"""Audit key rotation: each row names its keys, and the ring keeps the history verifiable."""

from __future__ import annotations

import pytest

from authority.models import AuditEvent
from authority.principals import SYSTEM
from authority.services.audit import (
    audit_chain_verify,
    audit_key_current,
    audit_key_ring,
    audit_record,
    audit_seal,
    token_fingerprint,
)

pytestmark = pytest.mark.django_db

OLD_SECRET_KEY = "old-secret-key-" + "o" * 40
NEW_SECRET_KEY = "new-secret-key-" + "n" * 40


@pytest.fixture
def derived_key(settings):
    """The audit key derived from SECRET_KEY (no AUDIT_KEY), starting at OLD_SECRET_KEY; ask for
    it before any fixture that writes audit rows."""
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_KEY": "", "AUDIT_KEY_FALLBACKS": []}
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_SECRET_KEY, []
    return settings


def _write(owner, action, count=2):
    for index in range(count):
        audit_record(actor=SYSTEM, owner=owner, action=action, object_id=str(index))


def _keys_by_action():
    rows = AuditEvent.objects.filter(action__startswith="test.")
    return {row.action: (row.row_mac_key_id, row.hash_key_id) for row in rows}


def _history_across_a_rotation(owner, rotate):
    """Rows written and sealed before `rotate()`, written before and sealed after, and written
    and sealed after; the key ids before and after."""
    _write(owner, "test.before")
    audit_seal()
    _write(owner, "test.written_before_sealed_after")
    old = audit_key_current().key_id
    rotate()
    new = audit_key_current().key_id
    _write(owner, "test.after")
    audit_seal()
    return old, new


def test_rotating_secret_key_keeps_the_history_verifiable(derived_key, acme):
    def rotate():
        derived_key.SECRET_KEY_FALLBACKS = [OLD_SECRET_KEY]
        derived_key.SECRET_KEY = NEW_SECRET_KEY

    old, new = _history_across_a_rotation(acme, rotate)
    assert old != new
    assert audit_chain_verify() == []
    assert _keys_by_action() == {
        "test.before": (old, old),
        "test.written_before_sealed_after": (old, new),
        "test.after": (new, new),
    }


@pytest.fixture
def configured_key(settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_KEY": "first-audit-key"}
    return settings


def test_rotating_audit_key_keeps_the_history_verifiable(configured_key, acme):
    settings = configured_key

    def rotate():
        settings.AUTHORITY = {
            **settings.AUTHORITY,
            "AUDIT_KEY": "second-audit-key",
            "AUDIT_KEY_FALLBACKS": "retired-audit-key,first-audit-key",  # as the env var gives it
        }

    old, new = _history_across_a_rotation(acme, rotate)
    assert old != new
    assert audit_chain_verify() == []


def test_tampering_still_shows_on_either_side_of_a_rotation(derived_key, acme):
    def rotate():
        derived_key.SECRET_KEY_FALLBACKS = [OLD_SECRET_KEY]
        derived_key.SECRET_KEY = NEW_SECRET_KEY

    _history_across_a_rotation(acme, rotate)
    edited = [AuditEvent.objects.filter(action=action).first() for action in _keys_by_action()]
    for row in edited:
        AuditEvent.objects.filter(pk=row.pk).update(outcome="failure")
    problems = audit_chain_verify()
    assert sorted(p.seq for p in problems) == sorted(row.seq for row in edited)
    assert {p.problem for p in problems} == {"contents do not match their MAC"}


def test_a_row_moved_to_another_known_key_does_not_verify(derived_key, acme):
    def rotate():
        derived_key.SECRET_KEY_FALLBACKS = [OLD_SECRET_KEY]
        derived_key.SECRET_KEY = NEW_SECRET_KEY

    old, new = _history_across_a_rotation(acme, rotate)
    row = AuditEvent.objects.filter(action="test.before").first()
    AuditEvent.objects.filter(pk=row.pk).update(row_mac_key_id=new)
    assert [(p.seq, p.problem) for p in audit_chain_verify()] == [
        (row.seq, "contents do not match their MAC")
    ]


def test_a_key_dropped_from_the_ring_is_reported_not_crashed_on(derived_key, acme):
    _write(acme, "test.sealed")
    audit_seal()
    _write(acme, "test.unsealed", count=1)
    sealed = AuditEvent.objects.filter(seq__isnull=False).count()
    unsealed = AuditEvent.objects.filter(seq__isnull=True).count()
    old = audit_key_current().key_id
    derived_key.SECRET_KEY = NEW_SECRET_KEY  # rotated without keeping the old key
    problems = [str(p) for p in audit_chain_verify()]
    assert len(problems) == 2 * sealed + unsealed  # a sealed row's MAC and chain hash
    assert all("unknown audit key" in problem for problem in problems)
    assert sum(old in problem for problem in problems) == 2 * sealed


def test_a_forged_key_id_is_reported(derived_key, acme):
    _write(acme, "test.sealed", count=1)
    audit_seal()
    AuditEvent.objects.filter(action="test.sealed").update(row_mac_key_id="f" * 16)
    assert [p.problem for p in audit_chain_verify()] == [
        f"MACed under an unknown audit key {'f' * 16!r}"
    ]


def test_legacy_rows_verify_under_any_key_of_the_ring(derived_key, acme):
    """Rows written before rows named their keys (migration 0003 marks them "legacy")."""
    _write(acme, "test.legacy", count=3)
    audit_seal()
    AuditEvent.objects.update(row_mac_key_id="legacy", hash_key_id="legacy")
    assert audit_chain_verify() == []
    derived_key.SECRET_KEY_FALLBACKS = [OLD_SECRET_KEY]
    derived_key.SECRET_KEY = NEW_SECRET_KEY
    assert audit_chain_verify() == []
    edited = AuditEvent.objects.order_by("seq")[1]
    AuditEvent.objects.filter(pk=edited.pk).update(actor="user:mallory")
    assert [p.seq for p in audit_chain_verify()] == [edited.seq]


def test_secret_key_vouches_for_no_row_once_an_audit_key_is_set(derived_key, acme):
    """Moving to an AUDIT_KEY takes the SECRET_KEY-derived keys out of the ring, so that holding
    SECRET_KEY is not enough to forge a row; the rows they MACed then name an unknown key."""
    derived = audit_key_current().key_id
    _write(acme, "test.before", count=1)
    audit_seal()
    derived_key.AUTHORITY = {**derived_key.AUTHORITY, "AUDIT_KEY": "an-audit-key"}
    assert derived not in audit_key_ring()
    _write(acme, "test.after", count=1)
    audit_seal()
    problems = audit_chain_verify()
    before = AuditEvent.objects.filter(row_mac_key_id=derived).values_list("seq", flat=True)
    assert {p.seq for p in problems} == set(before)
    assert all("unknown audit key" in p.problem for p in problems)


def test_key_ids_are_labels_not_key_material(derived_key):
    current = audit_key_current()
    assert len(current.key_id) == 16 and current.key_id not in current.secret.hex()
    assert current.secret.hex() not in repr(current) and str(current.secret) not in repr(current)
    assert audit_key_current().key_id == current.key_id  # stable for a key
    derived_key.SECRET_KEY_FALLBACKS = [NEW_SECRET_KEY]
    ring = audit_key_ring()
    assert list(ring)[0] == current.key_id and len(ring) == 2  # current first, then fallbacks


def test_new_rows_and_fingerprints_use_the_current_key(derived_key, acme):
    before = token_fingerprint("sa1.session.secret")
    derived_key.SECRET_KEY_FALLBACKS = [OLD_SECRET_KEY]
    derived_key.SECRET_KEY = NEW_SECRET_KEY
    event = audit_record(actor=SYSTEM, owner=acme, action="test.new", token="sa1.session.secret")
    assert event.row_mac_key_id == audit_key_current().key_id
    assert event.token_fingerprint == token_fingerprint("sa1.session.secret") != before


def test_fallback_keys_come_from_comma_separated_environment_variables(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    printed = "import authority.settings as s; print(s.AUTHORITY['AUDIT_KEY_FALLBACKS'], s.SECRET_KEY_FALLBACKS)"
    env = {
        "AUDIT_KEY_FALLBACKS": "k1,k2",
        "SECRET_KEY_FALLBACKS": "s1,s2",
        "SA_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", printed],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.split("\n")[0] == "['k1', 'k2'] ['s1', 's2']", result.stderr
