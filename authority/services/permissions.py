"""Role checks shared by every service that writes on an owner's behalf; who holds which role
is authority.scoping's answer."""

from __future__ import annotations

from authority.errors import NotAllowed, NotFound
from authority.models import WRITER_ROLES, Owner, Role
from authority.principals import Principal
from authority.scoping import principal_role


def require_role(principal: Principal, owner: Owner, roles: frozenset[Role] = WRITER_ROLES) -> Role:
    """The principal's role in `owner` if one of `roles`; 404 for a non-member, else 403."""
    role = principal_role(principal, owner)
    if role is None:
        raise NotFound("No such owner.")
    if role not in roles:
        raise NotAllowed(
            f"Your role ({role}) may not do this; it needs {' or '.join(sorted(roles))}."
        )
    return role
