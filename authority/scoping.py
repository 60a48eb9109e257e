"""Owner scoping, the one place that says which rows of a tenant model a principal may see.

Every tenant model's manager is an `OwnerScopedQuerySet` (as NetBox's restricted querysets), and
its `visible_to(principal, roles=…)` is what selectors, services, API views and the admin (lists,
forms, foreign-key pickers, autocompletes, actions) all call:

- a principal sees the rows of the owners it is a member of — with one of `roles`, when given,
  else with one of MEMBER_ROLES (a resource server sees rows only where the decision point asks
  for DECISION_ROLES);
- the authority's own internal actors (`SYSTEM`, schedules), and a superuser in the operator
  console (the admin), see every row and act as an owner admin;
- anything else sees nothing.

The path from a model to its owner is the model's `owner_path` (`""` on Owner itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model, Q, QuerySet
from oauth2_provider.models import get_application_model

from authority.caches import registry
from authority.principals import Principal
from authority.raw import parameter_value
from authority.roles import ADMIN_ROLES, MEMBER_ROLES, Role

if TYPE_CHECKING:
    from typing import Self

M = TypeVar("M", bound=Model)


def _memberships_prefix(model: type[Model]) -> str:
    """The lookup path from `model` to Membership (through its owner)."""
    path: str = getattr(model, "owner_path", "owner")
    return f"{path}__memberships__" if path else "memberships__"


def membership_condition(
    principal: Principal, model: type[Model], roles: Iterable[str] | None = None
) -> Q:
    """The condition on `model`'s rows that `visible_to` applies (for principals that do not see
    everything). One filter() call, so the role and the member are the same membership row."""
    prefix = _memberships_prefix(model)
    condition = principal.membership_q(prefix)
    named = MEMBER_ROLES if roles is None else roles
    return condition & Q(**{f"{prefix}role__in": sorted(str(role) for role in named)})


class OwnerScopedQuerySet(QuerySet[M]):
    """A queryset of a model that belongs to an owner (through `Model.owner_path`)."""

    def visible_to(self, principal: Principal, *, roles: Iterable[str] | None = None) -> Self:
        """The rows `principal` may see; with `roles`, only those of owners where it holds one
        of them. A principal is a member of an owner once at most, so the join adds no
        duplicates."""
        if principal.sees_everything:
            return self.all()
        return self.filter(membership_condition(principal, self.model, roles))


_STAND_IN_PK = -7_340_033
_scoped_statements: dict[
    tuple[str, str, str], tuple[str, list[Any], int, list[tuple[int, ...]]]
] = {}


def scoped_statement(
    name: str,
    principal: Principal,
    build: Callable[..., QuerySet[Any]],
    values: Sequence[Any],
    prepared: Sequence[Any],
    uses: Sequence[int] | None = None,
) -> tuple[str, list[Any]] | None:
    """A hot path's read as SQL and parameters: `build(principal, *values)` — a queryset that
    starts from `visible_to` — compiled once per `name`, database vendor and principal kind (user,
    application, sees everything), so the scoping stays this module's; each later call only puts
    this principal's id and `prepared` (the values as the ORM passes them to the backend) in the
    places the first compilation found them. `uses`: how many places each value takes (1 each by
    default); a value found in more places than that (a constant equal to it) fails the
    compilation rather than be put where it does not belong. None: `visible_to` shows this
    principal nothing."""
    member = principal.application or principal.user
    if principal.sees_everything:
        kind, member_pk = "everything", None
    elif member is not None:
        kind, member_pk = member._meta.label, member.pk  # through a lazy user too
    else:
        return None
    key = (name, connection.vendor, kind)
    compiled = _scoped_statements.get(key)
    if compiled is None:
        # Compiled for a stand-in member whose id no other parameter can equal (a LIMIT 1, say).
        stand_in = principal
        if member is not None and not principal.sees_everything:
            role = "application" if principal.application is not None else "user"
            stand_in = Principal(**{role: member._meta.model(pk=_STAND_IN_PK)})
        sql, found = build(stand_in, *values).query.sql_with_params()
        template = list(found)
        member_at = -1 if member_pk is None else _position(template, _STAND_IN_PK)
        counts = uses if uses is not None else [1] * len(prepared)
        positions = [
            _positions(template, value, count)
            for value, count in zip(prepared, counts, strict=True)
        ]
        taken = [member_at, *(at for places in positions for at in places)]
        if len(set(taken)) != len(taken):
            raise ValueError(f"{name}: a value was found at another's place in {template!r}")
        compiled = _scoped_statements[key] = (sql, template, member_at, positions)
    statement, template, member_at, positions = compiled
    params: list[Any] = list(template)
    if member_at >= 0:
        params[member_at] = member_pk
    for value_places, value in zip(positions, prepared, strict=True):
        for at in value_places:
            params[at] = value
    return statement, params


def _positions(params: list[Any], value: Any, count: int) -> tuple[int, ...]:
    wanted = parameter_value(value)
    found = tuple(i for i, param in enumerate(params) if parameter_value(param) == wanted)
    if len(found) != count:
        raise ValueError(f"{value!r} is not {count} times among the compiled parameters {params!r}")
    return found


def _position(params: list[Any], value: Any) -> int:
    return _positions(params, value, 1)[0]


registry.attach("authority.scoped_statements", clear=_scoped_statements.clear)


class OwnerScoped:
    """Mixin for tenant models: `owner_path` names the path to the owning Owner."""

    owner_path: ClassVar[str] = "owner"


def principal_role(principal: Principal, owner: Model) -> Role | None:
    """The principal's role in `owner` (one query); superusers and internal actors are admins."""
    if principal.sees_everything:
        return Role.ADMIN
    role = (
        type(owner)
        ._default_manager.filter(principal.membership_q("memberships__"), pk=owner.pk)
        .values_list("memberships__role", flat=True)
        .first()
    )
    return Role(role) if role else None


def _member_candidates(principal: Principal, model: type[Model]) -> QuerySet[Any]:
    """Users or applications `principal` may name as a member: those already in an owner it
    administers, and those in no owner yet. Another owner's members stay invisible — their
    names included — so no owner admin can pull another owner's service account into its own."""
    everyone = model._default_manager.all()
    if principal.sees_everything:
        return everyone
    if not principal.is_member_kind:
        return everyone.none()
    # One Q in one filter(): the administering membership is one row of the join.
    prefix = "memberships__owner__memberships__"
    administered = principal.membership_q(prefix) & Q(**{f"{prefix}role__in": sorted(ADMIN_ROLES)})
    unaffiliated = Q(memberships__isnull=True)
    if model is get_user_model():  # the service's operators are no tenant's to name
        unaffiliated &= Q(is_superuser=False)
    return everyone.filter(administered | unaffiliated).distinct()


def users_visible_to(principal: Principal) -> QuerySet[Any]:
    return _member_candidates(principal, get_user_model())


def applications_visible_to(principal: Principal) -> QuerySet[Any]:
    return _member_candidates(principal, get_application_model())
