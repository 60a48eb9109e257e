"""eACL table writes, and conversion between stored rows and the `tokens.wire` table.

`eacl_wire_tables` caches, per process, the wire form of stored tables for verify, keyed by the
table's (pk, updated_at): a table is converted once per version, not on every decision. What
invalidates an entry is a new `updated_at`, which every write of a table's rows makes in the
same transaction — `eacl_table_update` here, and the admin's table and record pages — so an edit
is seen by the next decision in every process, with no message between them (each decision reads
the table's current `updated_at` with its container). The version is read before the rows it
converts, so an edit committed in between can only file newer rows under the older version,
never older rows under the newer one. Entries of old versions and of deleted tables are never
looked up again and age out of the LRU. Rows changed behind the application's back (SQL, a
shell `update()`) are not seen until `eacl_wire_tables.clear()` or a restart.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from authority.caches import registry
from authority.errors import InvalidInput
from authority.lru import LRU
from authority.models import Container, EACLFilter, EACLRecord, EACLTable, EACLTarget, Owner
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from authority.services.permissions import require_role
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import format_target_key, parse_target_keys
from tokens.wire.errors import WireError
from tokens.wire.ids import ContainerID

MAX_RECORDS = 1000


eacl_wire_tables: LRU[tuple[int, dt.datetime], wire.Table] = registry.lru(
    "authority.eacl_wire_tables"
)


def eacl_records_in_order() -> QuerySet[EACLRecord]:
    """Records in position order with their filters and targets: three queries for a table,
    whatever its size (ordered here by position, not through the models' `ordering`, which
    joins the parent rows only to sort by them)."""
    records: QuerySet[EACLRecord] = EACLRecord.objects.order_by("position", "id")
    filters: QuerySet[EACLFilter] = EACLFilter.objects.order_by("position", "id")
    targets: QuerySet[EACLTarget] = EACLTarget.objects.order_by("position", "id")
    return records.prefetch_related(
        Prefetch("filters", queryset=filters),
        Prefetch("targets", queryset=targets),
    )


class Unchanged(enum.Enum):
    """A keyword argument's default where None means "none" rather than "leave as it is"."""

    UNCHANGED = enum.auto()


UNCHANGED = Unchanged.UNCHANGED


def eacl_record_to_wire(record: EACLRecord) -> wire.Record:
    return wire.Record(
        operation=wire.Operation(record.operation),
        action=wire.Action(record.action),
        filters=tuple(
            wire.Filter(
                wire.HeaderType(f.header_type), wire.MatchType(f.match_type), f.key, f.value
            )
            for f in record.filters.all()
        ),
        targets=tuple(
            wire.Target(wire.Role(t.role), parse_target_keys(t.keys)) for t in record.targets.all()
        ),
    )


def eacl_table_to_wire(table: EACLTable) -> wire.Table:
    """The stored table as neo.fs.v2 acl.EACLTable (records in position order). Records that the
    caller prefetched are used as they are; otherwise they are fetched in three queries."""
    prefetch_related_objects([table], Prefetch("records", queryset=eacl_records_in_order()))
    container = ContainerID(bytes(table.container.cid)) if table.container else None
    records = tuple(eacl_record_to_wire(record) for record in table.records.all())
    return wire.Table(container_id=container, records=records)


def eacl_table_to_wire_cached(*, table: EACLTable) -> wire.Table:
    """`eacl_table_to_wire` of this version of the table, converted once per process."""
    version = (table.pk, table.updated_at)
    found = eacl_wire_tables.get(version)
    if found is None:
        found = eacl_table_to_wire(table)
        eacl_wire_tables.put(version, found)
    return found


def eacl_table_version_to_wire(*, table_id: int, updated_at: Any) -> wire.Table:
    """The wire form of table `table_id` as of `updated_at` (its version, as the decision point's
    container read found it: the column as the database returned it), converted once per process
    and version; on a miss the table is read, with its container, and converted."""
    version = (table_id, updated_at)
    found = eacl_wire_tables.get(version)
    if found is None:
        table = EACLTable.objects.select_related("container").get(pk=table_id)
        found = eacl_table_to_wire(table)
        eacl_wire_tables.put(version, found)
    return found


def eacl_records_check(records: tuple[wire.Record, ...]) -> None:
    """The one bound on an eACL table's records, wherever a table comes in (stored tables,
    bearer grants issued or imported): at most MAX_RECORDS, every enum named."""
    if len(records) > MAX_RECORDS:
        raise InvalidInput(f"At most {MAX_RECORDS} records.", field="records")
    try:
        wire.require_named(records, "records")
    except WireError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None


def _write_records(table: EACLTable, records: tuple[wire.Record, ...]) -> None:
    table.records.all().delete()
    for position, record in enumerate(records):
        row = EACLRecord.objects.create(
            table=table, position=position, operation=record.operation, action=record.action
        )
        EACLFilter.objects.bulk_create(
            EACLFilter(
                record=row,
                position=i,
                header_type=f.header_type,
                match_type=f.match_type,
                key=f.key,
                value=f.value,
            )
            for i, f in enumerate(record.filters)
        )
        EACLTarget.objects.bulk_create(
            EACLTarget(
                record=row,
                position=i,
                role=t.role,
                keys="\n".join(format_target_key(k) for k in t.keys),
            )
            for i, t in enumerate(record.targets)
        )


def _check_container(owner: Owner, container: Container | None, table: wire.Table) -> None:
    if container is not None and container.owner_id != owner.pk:
        raise InvalidInput("No such container.", field="container")
    if table.container_id is not None and (
        container is None or table.container_id.value != bytes(container.cid)
    ):
        raise InvalidInput(
            "The table's containerID does not match the container.", field="table.containerID"
        )


@transaction.atomic
def eacl_table_create(
    *, actor: Principal, owner: Owner, name: str, container: Container | None, table: wire.Table
) -> EACLTable:
    require_role(actor, owner)
    _check_container(owner, container, table)
    eacl_records_check(table.records)
    row = EACLTable.objects.create(owner=owner, container=container, name=name)
    _write_records(row, table.records)
    audit_record(
        actor=actor,
        owner=owner,
        action=AuditAction.EACL_TABLE_CREATE,
        object_type="eacl_table",
        object_id=str(row.public_id),
        detail={"name": name, "records": len(table.records)},
    )
    return row


@transaction.atomic
def eacl_table_update(
    *,
    actor: Principal,
    eacl_table: EACLTable,
    name: str | None = None,
    container: Container | None | Unchanged = UNCHANGED,
    table: wire.Table | None = None,
) -> EACLTable:
    """Renames, rebinds to another container of the same owner (or none), or replaces the
    records; what is not given stays."""
    require_role(actor, eacl_table.owner)
    detail: dict[str, object] = {}
    if name is not None:
        eacl_table.name = detail["name"] = name
        eacl_table.save(update_fields=["name", "updated_at"])
    if not isinstance(container, Unchanged):
        _check_container(eacl_table.owner, container, table or wire.Table(None, ()))
        eacl_table.container = container
        eacl_table.save(update_fields=["container", "updated_at"])
        detail["container"] = container.container_id if container else None
    if table is not None:
        _check_container(eacl_table.owner, eacl_table.container, table)
        eacl_records_check(table.records)
        _write_records(eacl_table, table.records)
        eacl_table.save(update_fields=["updated_at"])
        detail["records"] = len(table.records)
    audit_record(
        actor=actor,
        owner=eacl_table.owner,
        action=AuditAction.EACL_TABLE_UPDATE,
        object_type="eacl_table",
        object_id=str(eacl_table.public_id),
        detail=detail,
    )
    return eacl_table


@transaction.atomic
def eacl_table_delete(*, actor: Principal, eacl_table: EACLTable) -> None:
    require_role(actor, eacl_table.owner)
    audit_record(
        actor=actor,
        owner=eacl_table.owner,
        action=AuditAction.EACL_TABLE_DELETE,
        object_type="eacl_table",
        object_id=str(eacl_table.public_id),
    )
    eacl_table.delete()
