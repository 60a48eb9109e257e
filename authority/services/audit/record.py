"""Writing an audit row: one INSERT carrying the row's MAC under the current audit key.

The MAC covers the values as the database keeps them, so that a row read back verifies: `_row`
puts every value in the form its column stores (an IPv6 address compressed and lower-cased, the
time in UTC to the microsecond, the detail as JSON that PostgreSQL's jsonb gives back unchanged)
before MACing, and both write paths (`AuditEvent.objects.create` and the one-statement `_insert`)
store that same dictionary. `row_mac` canonicalises again what one database spells differently
from another (PostgreSQL's inet writes `::102:304` as `::1.2.3.4`), so verify reads the same
bytes the writer MACed whichever database holds the row.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone

from authority.caches import registry
from authority.models import AuditEvent, Owner
from authority.principals import Principal
from authority.raw import statement_cursor
from authority.request_context import current_request
from authority.services.audit.actions import AuditAction, Outcome
from authority.services.audit.keys import audit_key_current, fingerprint
from authority.services.audit.stream import Sink, database_failed, sink_health, stream_after_commit


def audit_record(
    *,
    actor: Principal | str,
    owner: Owner | int | None,
    action: AuditAction,
    object_type: str = "",
    object_id: str = "",
    outcome: Outcome = Outcome.SUCCESS,
    reason: str = "",
    token: str | bytes | None = None,
    detail: dict[str, Any] | None = None,
    synchronous: bool = True,
) -> AuditEvent | None:
    """Appends one event (a single INSERT); call it inside the service's transaction. Returns
    the row, except when written asynchronously.
    `owner` may be given by primary key, so that hot paths need not load it.

    `synchronous=False` (trades only: they change no state) lets PostgreSQL commit the row
    without waiting for its WAL flush, in one statement: a database crash may lose the last
    fraction of a second of trade records, never corrupt the chain. The flush wait was half of a
    trade's time under load. Inside a caller's transaction the row simply joins it.

    `reason` (a refusal's code) is kept in the detail, under `reason`, so it is MACed with the
    row. The stream sink receives the row once its transaction commits.
    """
    if reason:
        detail = {**(detail or {}), "reason": reason}
    row = _row(actor, owner, action, object_type, object_id, outcome, token, detail)
    try:
        if synchronous:
            event: AuditEvent | None = AuditEvent.objects.create(**row)
        else:
            _insert(row)
            event = None
    except DatabaseError:
        database_failed(row)
        raise
    sink_health.recorded(Sink.DATABASE)
    stream_after_commit(row)
    return event


def audit_record_if(
    condition: str, params: Sequence[Any], *, actor: Principal, owner: Owner | int | None,
    action: AuditAction, object_type: str = "", object_id: str = "",
    token: str | bytes | None = None, detail: dict[str, Any] | None = None,
) -> bool:  # fmt: skip
    """Appends one event only if `condition` (an SQL boolean expression with `params`) holds
    when the row is written, and says whether it did: state checked and recorded in one
    statement, committed asynchronously like `audit_record(synchronous=False)`. For the trade's
    one-round-trip path."""
    row = _row(actor, owner, action, object_type, object_id, Outcome.SUCCESS, token, detail)
    try:
        inserted = _insert(row, condition, params)
    except DatabaseError:
        database_failed(row)
        raise
    sink_health.recorded(Sink.DATABASE)
    if inserted:
        stream_after_commit(row)
    return inserted


def audit_row(
    *, actor: Principal | str, owner: Owner | int | None, action: AuditAction,
    object_type: str = "", object_id: str = "", outcome: Outcome = Outcome.SUCCESS,
    reason: str = "", token: str | bytes | None = None, detail: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A row as `audit_record` would write it, MACed now (its time and request id are now's),
    for writing later with others in `audit_rows_write`."""
    if reason:
        detail = {**(detail or {}), "reason": reason}
    return _row(actor, owner, action, object_type, object_id, outcome, token, detail)


# Rows per statement of `audit_rows_write`: well inside SQLite's and PostgreSQL's parameter limits.
ROWS_PER_INSERT = 500


def audit_rows_write(rows: Sequence[dict[str, Any]]) -> None:
    """Writes rows made by `audit_row` together: one multi-row INSERT (per ROWS_PER_INSERT), in
    one transaction (one WAL flush for the batch)."""
    try:
        db = connections[DEFAULT_DB_ALIAS]
        values = [value for row in rows for value in _values(row, db)]
        width = len(_inserted())
        with transaction.atomic(), db.cursor() as cursor:
            for start in range(0, len(rows), ROWS_PER_INSERT):
                count = min(ROWS_PER_INSERT, len(rows) - start)
                chunk = values[start * width : (start + count) * width]
                cursor.execute(_insert_rows_sql(count), chunk)
    except DatabaseError:
        for row in rows:
            database_failed(row)
        raise
    sink_health.recorded(Sink.DATABASE)
    for row in rows:
        stream_after_commit(row)


# The MACed columns, in the order the MAC takes them (rows already written depend on it).
MAC_FIELDS = (
    "created_at", "actor", "owner_id", "action", "object_type", "object_id", "outcome",
    "request_id", "client_address", "token_fingerprint", "detail",
)  # fmt: skip


def row_mac(key: bytes, row: AuditEvent | dict[str, Any]) -> str:
    """HMAC-SHA256 of the row's MACed values, a row to write or a row read back."""
    values = row if isinstance(row, dict) else vars(row)
    canonical = json.dumps(
        [
            _CANONICAL[name](values[name]) if name in _CANONICAL else values[name]
            for name in MAC_FIELDS
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _row(
    actor: Principal | str, owner: Owner | int | None, action: AuditAction, object_type: str,
    object_id: str, outcome: Outcome, token: str | bytes | None, detail: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    """The row to insert, each value already as its column will store it, and its MAC."""
    key = audit_key_current()
    context = current_request()
    row: dict[str, Any] = {
        "created_at": timezone.now(),  # UTC, microseconds: what SQLite and PostgreSQL keep
        "actor": actor if isinstance(actor, str) else actor.label,
        "owner_id": owner.pk if isinstance(owner, Owner) else None if owner is None else int(owner),
        "action": str(action),
        "object_type": str(object_type),
        "object_id": str(object_id),
        "outcome": str(outcome),
        "request_id": str(context.request_id),
        "client_address": _address(context.client_address),
        "token_fingerprint": fingerprint(key.secret, token) if token else "",
        "detail": _STORED_JSON.decode(json.dumps(detail or {}, default=str)),
        "row_mac_key_id": key.key_id,
    }
    row["row_mac"] = row_mac(key.secret, row)
    return row


# Pure, so never stale; the addresses a process sees repeat, and parsing one costs more than the
# rest of the row (each row parses its address twice: to store it, and in its MAC).
@functools.lru_cache(maxsize=1024)
def _address(value: str | None) -> str | None:
    """A client address as the column keeps it: empty is NULL; IPv6 compressed, lower-case,
    without a zone, IPv4-mapped ones as `::ffff:a.b.c.d` (as Django's field and PostgreSQL's inet
    write them); IPv4-compatible ones as Django writes them, `::102:304`, which PostgreSQL writes
    `::1.2.3.4`. A value that is no address is left as it is: SQLite stores it so, and
    PostgreSQL refuses it."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return value
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return f"::ffff:{address.ipv4_mapped}"
        return str(ipaddress.IPv6Address(int(address)))  # int() drops a zone (`%eth0`)
    return str(address)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


# How the MAC spells the values one database writes differently from another.
_CANONICAL: dict[str, Callable[[Any], Any]] = {"created_at": _utc, "client_address": _address}


def _stored_number(text: str) -> int | float:
    """A JSON number with a fraction or an exponent as jsonb gives it back: jsonb keeps the
    decimal, so a whole number written in exponent form (`1e+20`) comes back as an integer, and
    `-0.0` as `0.0`; SQLite keeps the text, and stores the canonical form as it is."""
    if "e+" in text or "E+" in text:
        return int(Decimal(text))
    return float(text) + 0.0  # -0.0 + 0.0 is 0.0


_STORED_JSON = json.JSONDecoder(parse_float=_stored_number)


def _insert(row: dict[str, Any], condition: str = "TRUE", params: Sequence[Any] = ()) -> bool:
    """One statement, inserting the row if `condition` holds; whether it did. On PostgreSQL,
    outside a caller's transaction, the statement is its own transaction and `set_config(...,
    true)` turns `synchronous_commit` off for that transaction alone; inside one, the row simply
    joins it."""
    db = connections[DEFAULT_DB_ALIAS]
    values = _values(row, db)
    asynchronous = db.vendor == "postgresql" and not db.in_atomic_block
    with statement_cursor(db) as cursor:
        cursor.execute(f"{_insert_sql(asynchronous)} WHERE {condition}", [*values, *params])
        return bool(cursor.rowcount == 1)


def _values(row: dict[str, Any], db: Any) -> list[Any]:
    """The row's values in `_inserted()`'s order, as the database takes them."""
    return [
        row[name] if prepare is None else prepare(row[name], db) for name, prepare in _inserted()
    ]


# The columns `_row` fills; the others (chain, seq, hashes: set when sealed) take their defaults.
_ROW_COLUMNS = (*MAC_FIELDS, "row_mac_key_id", "row_mac")
_AS_IS = {"CharField", "TextField", "ForeignKey", "IntegerField", "PositiveBigIntegerField"}


@functools.cache
def _inserted() -> list[tuple[str, Any]]:
    """(attname, prepare) of each column `_row` fills; prepare is None where the value goes to
    the database as it is (text and integers)."""
    fields = {field.attname: field for field in AuditEvent._meta.concrete_fields}
    return [
        (
            name,
            None if fields[name].get_internal_type() in _AS_IS else fields[name].get_db_prep_save,
        )
        for name in _ROW_COLUMNS
    ]


@functools.cache
def _insert_parts() -> tuple[str, str]:
    """("INSERT INTO audit (columns)", the values of one row: a parameter per column `_row`
    fills, a constant for the others)."""
    quote = connection.ops.quote_name
    fields = {field.attname: field for field in AuditEvent._meta.concrete_fields}
    names = [quote(str(fields[name].column)) for name in _ROW_COLUMNS]
    values = ["%s"] * len(_ROW_COLUMNS)
    for field in AuditEvent._meta.concrete_fields:
        if field.primary_key or field.attname in _ROW_COLUMNS:
            continue
        default = field.get_default()  # set when sealed: NULL or the empty string until then
        if default not in (None, ""):
            raise ValueError(f"AuditEvent.{field.attname}: no literal for {default!r}")
        names.append(quote(str(field.column)))
        values.append("NULL" if default is None else "''")
    # Names from the model's metadata; every value is a parameter or a constant.
    head = f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({', '.join(names)})"  # noqa: S608
    return head, ", ".join(values)


@functools.cache
def _insert_sql(asynchronous: bool) -> str:
    head, values = _insert_parts()
    sql = f"{head} SELECT {values}"
    if asynchronous:
        sql += " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit"
    return sql


def _insert_rows_sql(count: int) -> str:
    head, values = _insert_parts()
    return f"{head} VALUES {', '.join([f'({values})'] * count)}"


def _insert_cache_clear() -> None:
    _inserted.cache_clear()
    _insert_parts.cache_clear()
    _insert_sql.cache_clear()


registry.attach("authority.audit_insert", clear=_insert_cache_clear)
registry.attach("authority.client_addresses", clear=_address.cache_clear)
