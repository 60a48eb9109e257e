"""The append-only audit log: rows MACed when written, sealed into one hash chain per owner.

Why this shape: the trade path writes an audit row per request at ~1,000 requests/s, so writing
must not wait on a lock or read a chain head. A write is one INSERT carrying `row_mac`, an
HMAC-SHA256 under the audit key over the row's contents as the database stores them: an edited
row shows at once. A sealer (`audit_seal`: Celery beat every few seconds, and the `audit_seal`
command) then appends unsealed rows to their owner's chain — seq, previous hash, and `hash` =
HMAC(prev ‖ seq ‖ row_mac) — under a lock on that owner's chain head only, so owners never wait
on each other and writers never wait at all. A row deleted, inserted or moved after sealing
breaks the chain; the window before sealing is the sealing interval, and `audit_chain_verify`
reports how many rows are still unsealed. Each row names the keys of its MAC and chain hash, so
the audit key can rotate (`keys`).

- `actions`: the typed actions and outcomes a row records.
- `stream`: the JSON-lines sink, and which sinks can record.
- `keys`: the key ring, key ids and token fingerprints.
- `record`: the row, its MAC, and the two ways of writing it.
- `chain`: sealing and verifying.
- `retention`: pruning to an archive.
- `search`: a known token's fingerprints, to find its rows (`audit_hash`).
"""

from authority.services.audit.actions import AuditAction, Outcome, outcome_for_status
from authority.services.audit.chain import (
    VERIFY_ACTION,
    ChainProblem,
    audit_chain_check,
    audit_chain_verify,
    audit_seal,
    audit_unsealed_count,
)
from authority.services.audit.keys import (
    AuditKey,
    audit_key,
    audit_key_current,
    audit_key_ring,
    token_fingerprint,
)
from authority.services.audit.record import (
    audit_record,
    audit_record_if,
    audit_row,
    audit_rows_write,
)
from authority.services.audit.retention import audit_prune
from authority.services.audit.search import Fingerprint, audit_hash

__all__ = [
    "AuditAction",
    "AuditKey",
    "Fingerprint",
    "audit_hash",
    "Outcome",
    "outcome_for_status",
    "ChainProblem",
    "VERIFY_ACTION",
    "audit_chain_check",
    "audit_chain_verify",
    "audit_key",
    "audit_key_current",
    "audit_key_ring",
    "audit_prune",
    "audit_record",
    "audit_record_if",
    "audit_row",
    "audit_rows_write",
    "audit_seal",
    "audit_unsealed_count",
    "token_fingerprint",
]
