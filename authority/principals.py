"""Who is acting: a Django user (member) or an OAuth2 application (service account)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class Principal:
    """The acting party of a request, a command or a scheduled job."""

    user: Any = None
    application: Any = None
    system: str = ""  # a named actor that is neither, e.g. "scheduler" or a session holder
    internal: bool = False  # the authority itself (commands, schedules): sees every owner
    console: bool = False  # acting through the operator console (the admin site)

    @property
    def label(self) -> str:
        if self.application is not None:
            return f"app:{self.application.client_id}"
        if self.user is not None:
            return f"user:{self.user.get_username()}"
        return f"system:{self.system or 'authority'}"

    @property
    def is_member_kind(self) -> bool:
        """A user or an application: a principal that holds memberships."""
        return self.application is not None or self.user is not None

    @property
    def sees_everything(self) -> bool:
        """The authority's own actors, and active superusers in the operator console, see every
        owner's rows (as owner admins); everyone else — superusers through the API included —
        sees through memberships (authority.scoping). A superuser's API credential (a password,
        a client token, an OAuth2 token of any application) thus reaches no more than its
        memberships, as before the console had its own rule."""
        if self.application is not None:
            return False
        if self.user is not None:
            return self.console and bool(self.user.is_active and self.user.is_superuser)
        return self.internal

    def same_as(self, *, user_id: int | None, application_id: int | None) -> bool:
        """Whether this principal is the one these foreign keys name (e.g. a session's renewer)."""
        if self.application is not None:
            return application_id is not None and application_id == self.application.pk
        if self.user is not None:
            return application_id is None and user_id is not None and user_id == self.user.pk
        return False

    def membership_q(self, prefix: str = "") -> Q:
        """Matches this principal's memberships; `prefix` is the path to Membership."""
        if self.application is not None:
            return Q(**{f"{prefix}application": self.application})
        if self.user is not None:
            return Q(**{f"{prefix}user": self.user})
        return Q(pk__in=[])


SYSTEM = Principal(system="authority", internal=True)


def principal_from_request(request: Any) -> Principal | None:
    """A DRF request's principal: an OAuth2 client-credentials application, or a user."""
    auth = getattr(request, "auth", None)
    application = getattr(auth, "application", None)
    if application is not None and getattr(auth, "user", None) is None:
        return Principal(application=application)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Principal(user=user)
    return None


def console_principal(request: Any) -> Principal:
    """The operator of an admin (console) request: a superuser sees every owner there."""
    return Principal(user=request.user, console=True)
