"""How the console's lists show values an operator reads: moments as dates with "in 3 hours",
principals as names, states as badges, short ids."""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from oauth2_provider.models import get_application_model

APP_PREFIX = "app:"  # authority.principals.Principal.label of a service account
HOLDER_PREFIX = "system:session-holder:"  # the actor of a trade, named by its session


def moment(value: dt.datetime | None, now: dt.datetime | None = None) -> SafeString | str:
    """`2026-12-04 20:31 (in 23 hours)`: UTC to the minute, how far away (on a line of its
    own in the lists, console.css), and the full time on hover."""
    if value is None:
        return "—"
    now = now or timezone.now()
    value = value.astimezone(dt.UTC)
    if abs((value - now).total_seconds()) < 60:
        distance = "now"
    elif value > now:
        distance = f"in {timeuntil(value, now, depth=1)}"
    else:
        distance = f"{timesince(value, now, depth=1)} ago"
    return format_html(
        '<span class="moment" title="{}">{} <small>({})</small></span>',
        value.isoformat(timespec="seconds"),
        value.strftime("%Y-%m-%d %H:%M"),
        distance,
    )


def badge(state: str, label: str | None = None) -> SafeString:
    """A state as a coloured word (console.css `.badge-<state>`)."""
    return format_html('<span class="badge badge-{}">{}</span>', state, label or state)


def short_id(value: object) -> str:
    """The first eight characters of a UUID: enough to tell rows apart on a page."""
    return str(value)[:8]


def principal_name(label_field: str) -> Subquery:
    """An annotation: the name of the service account a `Principal.label` column names
    (`app:<client_id>`), else NULL — one subquery in the list's query, not one per row."""
    applications = get_application_model().objects.filter(
        client_id=Substr(OuterRef(label_field), len(APP_PREFIX) + 1)
    )
    return Subquery(applications.values("name")[:1])


def principal_shown(label: str, application_name: str | None) -> str:
    """A principal label as an operator reads it: a service account by its name, a user by
    user name; other actors (`system:…`) as they are."""
    if label.startswith(APP_PREFIX) and application_name:
        return f"{application_name} (service account)"
    if label.startswith("user:"):
        return label.removeprefix("user:")
    if label.startswith(HOLDER_PREFIX):  # tokens.services.trade: whoever holds the session
        return f"session holder {short_id(label.removeprefix(HOLDER_PREFIX))}"
    return label
