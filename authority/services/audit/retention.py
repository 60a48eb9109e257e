"""Retention: sealed rows past AUDIT_RETENTION_DAYS go to a JSON Lines archive, then away."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from authority.conf import authority_settings
from authority.models import AuditChain, AuditEvent
from authority.services.audit.chain import SEAL_BATCH


def audit_prune(
    *, before: dt.datetime | None = None, archive_dir: Path | None = None,
    batch_size: int = SEAL_BATCH,
) -> int:  # fmt: skip
    """Removes sealed rows older than the retention, oldest first, writing each batch to a JSON
    Lines archive first; the chain keeps an anchor (the last removed row's seq and hash), so the
    rows that stay still verify. Returns how many rows were removed."""
    before = before or timezone.now() - dt.timedelta(days=authority_settings.AUDIT_RETENTION_DAYS)
    archive_dir = archive_dir or authority_settings.VAR_DIR / "audit-archive"
    archive_dir.mkdir(parents=True, exist_ok=True)
    removed = 0
    for chain_id in AuditChain.objects.values_list("pk", flat=True):
        while True:
            with transaction.atomic():
                chain = AuditChain.objects.select_for_update().get(pk=chain_id)
                rows = list(
                    AuditEvent.objects.filter(chain=chain, seq__gt=chain.anchor_seq).order_by(
                        "seq"
                    )[:batch_size]
                )
                prefix: list[AuditEvent] = []
                for event in rows:  # only an unbroken run of old rows from the chain's start
                    if (
                        event.created_at >= before
                        or event.seq != chain.anchor_seq + len(prefix) + 1
                    ):
                        break
                    prefix.append(event)
                if not prefix:
                    break
                with (archive_dir / f"{chain.name.replace(':', '-')}.jsonl").open("a") as archive:
                    for event in prefix:
                        archive.write(json.dumps(_archived(event), default=str) + "\n")
                AuditEvent.objects.filter(pk__in=[e.pk for e in prefix]).delete()
                chain.anchor_seq, chain.anchor_hash = prefix[-1].seq or 0, prefix[-1].hash
                chain.save(update_fields=["anchor_seq", "anchor_hash"])
                removed += len(prefix)
            if len(prefix) < batch_size:
                break
    return removed


def _archived(event: AuditEvent) -> dict[str, Any]:
    fields = [
        "seq", "created_at", "actor", "owner_id", "action", "object_type", "object_id",
        "outcome", "request_id", "client_address", "token_fingerprint", "detail",
        "row_mac_key_id", "row_mac", "prev_hash", "hash_key_id", "hash",
    ]  # fmt: skip
    return {name: getattr(event, name) for name in fields}
