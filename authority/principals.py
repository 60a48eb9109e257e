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
    system: str = ""  # a named internal actor, e.g. "scheduler"

    @property
    def label(self) -> str:
        if self.application is not None:
            return f"app:{self.application.client_id}"
        if self.user is not None:
            return f"user:{self.user.get_username()}"
        return f"system:{self.system or 'authority'}"

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


SYSTEM = Principal(system="authority")


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
