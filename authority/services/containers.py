"""Container writes: create, update, delete — operators and admins of the owner only."""

from __future__ import annotations

import secrets
from typing import TypedDict

from django.db import transaction

from authority.errors import Conflict, InvalidInput, NotFound
from authority.models import Container, EACLTable, Owner
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from authority.services.permissions import require_role

UINT32_MAX = 0xFFFFFFFF


def _check_basic_acl(basic_acl: int | None) -> None:
    if basic_acl is not None and not 0 <= basic_acl <= UINT32_MAX:
        raise InvalidInput("Basic ACL is a uint32.", field="basic_acl")


def _check_table(container: Container, table: EACLTable | None) -> None:
    if table is None:
        return
    if table.owner_id != container.owner_id:
        raise InvalidInput("No such eACL table.", field="eacl_table")
    if table.container_id not in (None, container.pk):
        raise InvalidInput("This eACL table belongs to another container.", field="eacl_table")


@transaction.atomic
def container_create(
    *,
    actor: Principal,
    owner: Owner,
    name: str,
    cid: bytes | None = None,
    basic_acl: int | None = None,
    eacl_table: EACLTable | None = None,
) -> Container:
    require_role(actor, owner)
    _check_basic_acl(basic_acl)
    cid = cid or secrets.token_bytes(32)
    existing = Container.objects.filter(cid=cid)
    if existing.exists():
        # Another owner's id is unknown to the caller (SPEC §5: 404, never revealed as taken).
        if not existing.visible_to(actor).exists():
            raise NotFound("No such container.")
        raise Conflict("A container with this id is already registered.")
    container = Container(owner=owner, cid=cid, name=name, basic_acl=basic_acl)
    _check_table(container, eacl_table)
    container.eacl_table = eacl_table
    container.save()
    audit_record(
        actor=actor,
        owner=owner,
        action=AuditAction.CONTAINER_CREATE,
        object_type="container",
        object_id=container.container_id,
        detail={
            "name": name,
            "basic_acl": basic_acl,
            "eacl_table": str(eacl_table.public_id) if eacl_table else None,
        },
    )
    return container


class ContainerChanges(TypedDict, total=False):
    """The fields an update may change; a key that is absent stays as it is."""

    name: str
    basic_acl: int | None
    eacl_table: EACLTable | None


@transaction.atomic
def container_update(
    *, actor: Principal, container: Container, changes: ContainerChanges
) -> Container:
    require_role(actor, container.owner)
    detail: dict[str, object] = {}
    if "name" in changes:
        container.name = detail["name"] = changes["name"]
    if "basic_acl" in changes:
        _check_basic_acl(changes["basic_acl"])
        container.basic_acl = detail["basic_acl"] = changes["basic_acl"]
    if "eacl_table" in changes:
        table = changes["eacl_table"]
        _check_table(container, table)
        container.eacl_table = table
        detail["eacl_table"] = str(table.public_id) if table else None
    container.save()
    audit_record(
        actor=actor,
        owner=container.owner,
        action=AuditAction.CONTAINER_UPDATE,
        object_type="container",
        object_id=container.container_id,
        detail=detail,
    )
    return container


@transaction.atomic
def container_delete(*, actor: Principal, container: Container) -> None:
    require_role(actor, container.owner)
    audit_record(
        actor=actor,
        owner=container.owner,
        action=AuditAction.CONTAINER_DELETE,
        object_type="container",
        object_id=container.container_id,
    )
    container.delete()
