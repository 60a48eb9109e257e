"""Reads of the tenancy app, always scoped to what the principal may see."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Count, Max, Model, Q, QuerySet
from django_celery_beat.models import PeriodicTask

from authority.errors import InvalidInput, NotFound
from authority.models import ADMIN_ROLES, AuditEvent, Container, EACLTable, Membership, Owner
from authority.principals import Principal
from authority.raw import fetch_instance
from authority.roles import DECISION_ROLES
from authority.scoping import scoped_statement
from authority.services.audit import VERIFY_ACTION

M = TypeVar("M", bound=Model)


def owner_list(*, principal: Principal) -> QuerySet[Owner]:
    return Owner.objects.visible_to(principal)


def owner_get(*, principal: Principal, slug: str) -> Owner:
    owner = owner_list(principal=principal).filter(slug=slug).first()
    if owner is None:
        raise NotFound("No such owner.")
    return owner


def container_list(
    *, principal: Principal, roles: Iterable[str] | None = None
) -> QuerySet[Container]:
    return Container.objects.visible_to(principal, roles=roles).select_related(
        "owner", "eacl_table"
    )


def container_get(
    *, principal: Principal, cid: bytes, roles: Iterable[str] | None = None
) -> Container:
    """`roles`: DECISION_ROLES for the decision point, which resource servers may ask."""
    container = container_list(principal=principal, roles=roles).filter(cid=cid).first()
    if container is None:
        raise NotFound("No such container.")
    return container


# What the decision point reads of a container, and of its owner and current eACL table.
_DECISION_FIELDS = ("id", "owner_id", "cid", "name", "basic_acl", "eacl_table_id")
_DECISION_EXTRA = ("owner_neofs_id", "eacl_table_updated_at")


@dataclass(frozen=True)
class AlsoRead:
    """Columns a hot path reads in the same statement as the decision point's container, so
    that its own facts (another app's rows) cost no second round trip: `annotations(*values)`
    gives them as expressions, set on the container as attributes of their `names` (the same,
    in the same order, known without building them); `name` tells one combination of them from
    another (it names the compiled statement); `values` are found in the compiled parameters, so
    each must be distinct from every other parameter (and take `uses` places), and `prepared` are
    the same values as the ORM passes them to the backend."""

    name: str
    names: tuple[str, ...]
    annotations: Callable[..., dict[str, Any]]
    values: tuple[Any, ...]
    prepared: tuple[Any, ...]
    uses: tuple[int, ...]  # how many places each value takes in the statement


def _decision_read(
    principal: Principal, cid: bytes, *values: Any, also: AlsoRead | None = None
) -> QuerySet[Any]:
    found = Container.objects.visible_to(principal, roles=DECISION_ROLES).filter(cid=cid).order_by()
    extra: list[str] = []
    if also is not None:
        annotations = also.annotations(*values)
        if tuple(annotations) != also.names:
            raise ValueError(f"{also.name}: annotations {list(annotations)} are not {also.names}")
        found, extra = found.annotate(**annotations), list(annotations)
    return found.values_list(
        *_DECISION_FIELDS, "owner__neofs_owner_id", "eacl_table__updated_at", *extra
    )


def container_for_decision(
    *, principal: Principal, cid: bytes, also: AlsoRead | None = None
) -> Container:
    """`container_get` for the decision point (DECISION_ROLES: resource servers too), on the hot
    path: `visible_to`'s own queryset compiled once (authority.scoping.scoped_statement), run in
    one query with no ORM set-up, or remembered between announced writes
    (authority.state_changes: `also` must read nothing that depends on the time). The container
    comes with `owner_neofs_id` and `eacl_table_updated_at` (its table's version) as attributes,
    and with what `also` reads."""
    prepared = Container._meta.get_field("cid").get_db_prep_value(cid, connection)
    name, values, extra_prepared, uses = "decision.container", [cid], [prepared], [1]
    extra: tuple[str, ...] = _DECISION_EXTRA
    build: Callable[..., QuerySet[Any]] = _decision_read
    if also is not None:
        name = f"{name}+{also.name}"
        values += also.values
        extra_prepared += also.prepared
        uses += also.uses
        extra = (*extra, *also.names)
        build = functools.partial(_decision_read, also=also)
    statement = scoped_statement(name, principal, build, values, extra_prepared, uses)
    container = (
        fetch_instance(Container, *statement, fields=_DECISION_FIELDS, extra=extra, remembered=True)
        if statement is not None
        else None
    )
    if container is None:
        raise NotFound("No such container.")
    return container


def eacl_table_list(*, principal: Principal) -> QuerySet[EACLTable]:
    return (
        EACLTable.objects.visible_to(principal)
        .select_related("owner", "container")
        .prefetch_related("records__filters", "records__targets")
    )


def get_by_uuid(queryset: QuerySet[M], value: object, *, field: str, what: str) -> M:
    """The row of a scoped queryset whose UUID `field` is `value`; a malformed, unknown or
    foreign id is the same 404."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}.") from None
    found = queryset.filter(**{field: parsed}).first()
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


def eacl_table_get(*, principal: Principal, public_id: str) -> EACLTable:
    return get_by_uuid(
        eacl_table_list(principal=principal), public_id, field="public_id", what="eACL table"
    )


def member_principal_get(*, owner: Owner, label: str) -> Principal:
    """A principal of `owner` named as `user:<username>` or `app:<client_id>`."""
    kind, _, name = label.partition(":")
    membership = None
    if kind == "user" and name:
        membership = (
            Membership.objects.select_related("user")
            .filter(owner=owner, user__username=name)
            .first()
        )
    elif kind == "app" and name:
        membership = (
            Membership.objects.select_related("application")
            .filter(owner=owner, application__client_id=name)
            .first()
        )
    if membership is None:
        raise InvalidInput(
            "Not a principal of this owner (use user:<username> or app:<client_id>).",
            field="renewer",
        )
    return Principal(user=membership.user, application=membership.application)


@dataclass(frozen=True)
class AuditChainStatus:
    """The audit log as the console shows it: sealed up to when, how many rows wait for the
    sealer, and the last recorded verification (`audit_chain_check`)."""

    sealed_up_to: dt.datetime | None
    unsealed: int
    last_verify: AuditEvent | None


def audit_chain_status(*, principal: Principal) -> AuditChainStatus:
    """Over the rows `principal` sees (one aggregate query); the last verification covers every
    chain, so it is the authority's own row, shown to every operator (one more query)."""
    figures = AuditEvent.objects.visible_to(principal).aggregate(
        sealed_up_to=Max("created_at", filter=Q(seq__isnull=False)),
        unsealed=Count("pk", filter=Q(seq__isnull=True)),
    )
    last_verify = (
        AuditEvent.objects.filter(action=VERIFY_ACTION, owner__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    return AuditChainStatus(
        sealed_up_to=figures["sealed_up_to"],
        unsealed=figures["unsealed"] or 0,
        last_verify=last_verify,
    )


def beat_schedule_list() -> list[dict[str, Any]]:
    """The Celery beat schedules (django-celery-beat) and when each last ran (one query)."""
    return list(
        PeriodicTask.objects.order_by("name").values(
            "pk", "name", "task", "enabled", "last_run_at", "total_run_count"
        )
    )


def service_account_list(*, actor: Principal) -> QuerySet[Membership]:
    """The memberships of service accounts in the owners `actor` administers."""
    administered = Owner.objects.visible_to(actor, roles=ADMIN_ROLES)
    return (
        Membership.objects.filter(application__isnull=False, owner__in=administered)
        .select_related("owner", "application")
        .order_by("owner__slug", "application__name", "pk")
    )


def service_account_get(*, actor: Principal, application_id: int) -> Any:
    """A service account of an owner `actor` administers (404 otherwise)."""
    membership = service_account_list(actor=actor).filter(application_id=application_id).first()
    if membership is None:
        raise NotFound("No such service account.")
    return membership.application
