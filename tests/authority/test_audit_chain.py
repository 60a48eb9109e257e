"""The audit log's hash chains: tampering, deletion and reordering are all detected."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authority.models import AuditChain, AuditEvent
from authority.principals import SYSTEM
from authority.services.audit import (
    audit_chain_verify,
    audit_record,
    audit_seal,
    audit_unsealed_count,
    token_fingerprint,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(acme, globex):
    for index in range(5):
        audit_record(actor=SYSTEM, owner=acme, action="test.event", object_id=str(index))
        audit_record(actor=SYSTEM, owner=globex, action="test.event", object_id=str(index))
    audit_seal()
    return AuditEvent.objects.filter(owner=acme, action="test.event").order_by("seq")


def test_untouched_chains_verify(events):
    assert audit_chain_verify() == []
    call_command("audit_verify")


def test_each_owner_has_its_own_chain(events, acme, globex):
    for owner in (acme, globex):
        rows = AuditEvent.objects.filter(owner=owner)
        assert rows.filter(action="test.event").count() == 5
        assert AuditChain.objects.get(owner=owner).last_seq == rows.count()
        assert set(rows.values_list("chain__owner", flat=True)) == {owner.pk}


def test_writes_are_single_inserts_and_sealing_chains_them(acme, django_assert_num_queries):
    audit_seal()
    with django_assert_num_queries(1):
        audit_record(actor=SYSTEM, owner=acme, action="test.hot_path")
    assert audit_unsealed_count() == 1
    assert audit_seal() == 1 and audit_unsealed_count() == 0
    assert audit_seal() == 0  # idempotent
    assert audit_chain_verify() == []


def test_sealing_continues_the_chain_in_batches(events, acme):
    for index in range(7):
        audit_record(actor=SYSTEM, owner=acme, action="test.more", object_id=str(index))
    before = AuditChain.objects.get(owner=acme).last_seq
    assert audit_seal(batch_size=3) == 7
    assert AuditChain.objects.get(owner=acme).last_seq == before + 7
    assert audit_chain_verify() == []


def test_edited_unsealed_row_is_detected(acme):
    event = audit_record(actor=SYSTEM, owner=acme, action="test.event")
    AuditEvent.objects.filter(pk=event.pk).update(outcome="failure")
    assert any("unsealed" in p.problem for p in audit_chain_verify())


def test_edited_row_is_detected(events):
    AuditEvent.objects.filter(pk=events[2].pk).update(actor="user:mallory")
    problems = audit_chain_verify()
    assert [p.seq for p in problems] == [events[2].seq]
    with pytest.raises(CommandError):
        call_command("audit_verify")


def test_deleted_middle_row_is_detected(events):
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    assert any("missing" in p.problem for p in audit_chain_verify())


def test_deleted_last_row_is_detected(events):
    AuditEvent.objects.filter(pk=events[4].pk).delete()
    assert any("head" in p.problem for p in audit_chain_verify())


def test_reordered_rows_are_detected(events):
    first, second = events[1], events[2]
    AuditEvent.objects.filter(pk=first.pk).update(seq=1000)
    AuditEvent.objects.filter(pk=second.pk).update(seq=first.seq)
    AuditEvent.objects.filter(pk=first.pk).update(seq=second.seq)
    assert audit_chain_verify()


def test_recomputed_plain_hash_does_not_pass(events):
    """Without the audit key a forger cannot re-seal an edited row with a plain SHA-256."""
    import hashlib

    row = events[0]
    forged = hashlib.sha256(b"forged").hexdigest()
    AuditEvent.objects.filter(pk=row.pk).update(action="test.forged", row_mac=forged, hash=forged)
    assert audit_chain_verify()


def test_fingerprints_never_contain_the_token():
    token = "sa1.session.very-secret-value"
    fingerprint = token_fingerprint(token)
    assert token not in fingerprint and len(fingerprint) == 32
    assert fingerprint == token_fingerprint(token)
    assert fingerprint != token_fingerprint(token + "x")


def test_audit_rows_carry_request_id_and_client_address(acme, member, user_client):
    from authority.models import Role

    client = user_client(member(acme, Role.OPERATOR))
    response = client.post(
        "/api/v1/containers",
        {"name": "traced"},
        format="json",
        HTTP_X_REQUEST_ID="req-123",
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-123"
    event = AuditEvent.objects.get(action="container.create", owner=acme)
    assert event.request_id == "req-123"
    assert event.client_address == "192.0.2.7"


def test_pruning_keeps_the_rest_of_the_chain_verifiable(acme, tmp_path):
    import json

    from django.utils import timezone

    from authority.services.audit import audit_prune

    for index in range(6):
        audit_record(actor=SYSTEM, owner=acme, action="test.old", object_id=str(index))
    audit_seal()
    cutoff = timezone.now()
    for index in range(3):
        audit_record(actor=SYSTEM, owner=acme, action="test.new", object_id=str(index))
    audit_seal()
    old = AuditEvent.objects.filter(created_at__lt=cutoff)
    old_seqs = list(old.order_by("seq").values_list("seq", flat=True))
    removed = audit_prune(before=cutoff, archive_dir=tmp_path, batch_size=4)
    assert removed == len(old_seqs) and not old.exists()
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.new"] * 3
    assert audit_chain_verify() == []
    archive = (tmp_path / f"owner-{acme.pk}.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in archive] == old_seqs
    AuditEvent.objects.filter(action="test.new").order_by("seq").first().delete()
    assert audit_chain_verify()  # a deletion past the anchor still shows


def test_an_owner_with_audit_rows_cannot_be_deleted(acme):
    """The audit table has no database foreign key to owners (its check would lock the owner's
    row on every trade); Django's PROTECT still keeps an owner with a history."""
    from django.db.models import ProtectedError

    from authority.models import Owner

    audit_record(actor=SYSTEM, owner=acme, action="test.event")
    with pytest.raises(ProtectedError) as refused:
        acme.delete()
    assert any(isinstance(row, AuditEvent) for row in refused.value.protected_objects)
    assert Owner.objects.filter(pk=acme.pk).exists()


# Values the columns store in another spelling than the one written: the MAC must cover what is
# stored, or an untouched row reads as tampered.
ADDRESSES = [
    ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),
    ("::FFFF:192.0.2.1", "::ffff:192.0.2.1"),
    ("::ffff:c000:201", "::ffff:192.0.2.1"),
    ("::1.2.3.4", None),  # PostgreSQL's inet keeps this spelling, SQLite stores ::102:304
    ("fe80::1%eth0", "fe80::1"),
    ("192.0.2.7", "192.0.2.7"),
]
STORED_NUMBERS = {"whole": 1e20, "negative_zero": -0.0, "small": 1.5e-7, "big": 1.2345678901e30}


def _from_address(address, write):
    """Runs `write` as a request from `address` does, through the real request middleware."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from authority.request_context import RequestIdMiddleware

    def view(request):
        write()
        return HttpResponse()

    RequestIdMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR=address))


@pytest.mark.parametrize("written,stored", ADDRESSES)
def test_rows_from_any_address_spelling_verify_on_every_write_path(acme, written, stored):
    from authority.services.audit import audit_record_if

    row = {"actor": SYSTEM, "owner": acme, "action": "test.addressed", "detail": STORED_NUMBERS}
    _from_address(written, lambda: audit_record(**row))
    _from_address(written, lambda: audit_record(**row, synchronous=False))  # one statement
    _from_address(written, lambda: audit_record_if("1 = %s", [1], **row))  # the trade's
    rows = AuditEvent.objects.filter(action="test.addressed").order_by("id")
    assert rows.count() == 3
    if stored is not None:
        assert set(rows.values_list("client_address", flat=True)) == {stored}
    assert audit_chain_verify() == []  # unsealed rows: their MACs
    audit_seal()
    assert audit_chain_verify() == []  # sealed rows: MACs and chain hashes
    AuditEvent.objects.filter(pk=rows[1].pk).update(client_address="2001:db8::2")
    assert [p.seq for p in audit_chain_verify()] == [rows[1].seq]


def test_an_api_request_over_ipv6_leaves_a_verifiable_row(acme, member, user_client):
    from authority.models import Role

    client = user_client(member(acme, Role.OPERATOR))
    response = client.post(
        "/api/v1/containers", {"name": "v6"}, format="json", REMOTE_ADDR="2001:DB8:0:0:0:0:0:1"
    )
    assert response.status_code == 201
    assert AuditEvent.objects.get(action="container.create").client_address == "2001:db8::1"
    audit_seal()
    assert audit_chain_verify() == []


def test_detail_numbers_verify_as_the_database_returns_them(acme):
    event = audit_record(actor=SYSTEM, owner=acme, action="test.numbers", detail=STORED_NUMBERS)
    stored = AuditEvent.objects.get(pk=event.pk).detail
    assert stored == {
        "whole": 10**20,
        "negative_zero": 0.0,
        "small": 1.5e-7,
        "big": 1234567890100000000000000000000,
    }
    audit_seal()
    assert audit_chain_verify() == []


def test_rows_written_in_batches_larger_than_one_statement_seal_and_verify():
    from authority.services.audit import AuditAction, audit_row, audit_rows_write
    from authority.services.audit.record import ROWS_PER_INSERT

    rows = [
        audit_row(actor=SYSTEM, owner=None, action=AuditAction.REQUEST_VERIFY, object_id=str(i))
        for i in range(ROWS_PER_INSERT + 1)
    ]
    audit_rows_write(rows)
    written = AuditEvent.objects.filter(action=AuditAction.REQUEST_VERIFY)
    assert sorted(int(i) for i in written.values_list("object_id", flat=True)) == list(
        range(ROWS_PER_INSERT + 1)
    )
    audit_seal()
    assert audit_chain_verify() == []
