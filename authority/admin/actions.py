"""Console actions that say what they did, ask before what cannot be undone, and show as buttons
on an object's page.

- An irreversible action (`@irreversible`) first answers with a confirmation page naming the rows
  it would touch; only the page's own form (which posts `confirmed`) carries it out. The same page
  serves the changelist's bulk action and the change page's button.
- `ActionOutcome` gathers, row by row, what was done, what there was nothing to do for (already
  cancelled, already revoked…) and what the service refused, and reports each honestly.
- `ObjectActionsAdmin` puts a model admin's actions on the change page as buttons, running the
  very action the changelist runs, on that one row (found through the admin's scoped queryset:
  another owner's row is 404).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote, unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

CONFIRMED = "confirmed"


def irreversible(question: str, consequence: str, button: str) -> Callable[[Any], Any]:
    """Marks an admin action as one that asks first; `question` may use {rows} (the row's name,
    or how many) and {count}."""

    def mark(action: Any) -> Any:
        action.confirmation = {"question": question, "consequence": consequence, "button": button}
        return action

    return mark


def confirmation_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, action: Any, rows: list[Any]
) -> TemplateResponse:
    """The page that asks before `action` runs on `rows`; it posts back where it was asked."""
    spec = action.confirmation
    opts = model_admin.model._meta
    name = action.__name__
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{spec['button']}?",
        "question": spec["question"].format(count=len(rows), rows=_rows_named(rows, opts)),
        "consequence": spec["consequence"],
        "button": spec["button"],
        "rows": rows,
        "action_name": name,
        "from_changelist": request.resolver_match is not None
        and request.resolver_match.url_name == f"{opts.app_label}_{opts.model_name}_changelist",
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "confirmed": CONFIRMED,
        "opts": opts,
        "back_url": request.META.get("HTTP_REFERER")
        or reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)


def _rows_named(rows: list[Any], opts: Any) -> str:
    if len(rows) == 1:
        return str(rows[0])
    return f"{len(rows)} {opts.verbose_name_plural}"


def is_confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRMED) == "yes"


@dataclass
class ActionOutcome:
    """What an action did, row by row, for an honest report."""

    done: list[str] = field(default_factory=list)
    nothing_to_do: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def each(
        self,
        rows: Iterable[Any],
        *,
        already: Callable[[Any], bool],
        run: Callable[[Any], object],
        refusals: tuple[type[Exception], ...],
        name: Callable[[Any], str] = str,
    ) -> ActionOutcome:
        """Runs `run` on each row not `already` done, a refusal (one of `refusals`, which carry
        a `detail`) recorded with its reason rather than stopping the rest."""
        for row in rows:
            if already(row):
                self.nothing_to_do.append(name(row))
                continue
            try:
                run(row)
            except refusals as exc:
                self.refused.append(f"{name(row)}: {getattr(exc, 'detail', exc)}")
                continue
            self.done.append(name(row))
        return self

    def report(self, model_admin: admin.ModelAdmin, request: HttpRequest, verb: str) -> None:
        """`verb` in the past tense (cancelled, revoked…)."""
        if self.done:
            model_admin.message_user(
                request, f"{verb.capitalize()}: {_listed(self.done)}.", messages.SUCCESS
            )
        if self.nothing_to_do:
            model_admin.message_user(
                request, f"Nothing to do, already {verb}: {_listed(self.nothing_to_do)}.",
                messages.WARNING,
            )  # fmt: skip
        for refusal in self.refused:
            model_admin.message_user(request, f"Refused: {refusal}", messages.ERROR)
        if not (self.done or self.nothing_to_do or self.refused):
            model_admin.message_user(request, "Nothing to do.", messages.WARNING)


def _listed(names: Iterable[str]) -> str:
    shown = list(names)
    return ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")


class ObjectActionsAdmin(admin.ModelAdmin):
    """A model admin whose actions named in `object_actions` are also buttons on a change page."""

    object_actions: tuple[str, ...] = ()
    change_form_template = "admin/change_form_with_actions.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        urls = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(partial(self.object_action_view, name=name)),
                name=f"{opts.app_label}_{opts.model_name}_{name}",
            )
            for name in self.object_actions
        ]
        return [*urls, *super().get_urls()]

    def object_buttons(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        """The actions this operator may run, as buttons (for the change page's template)."""
        offered = self.get_actions(request)
        opts = self.model._meta
        buttons = []
        for name in self.object_actions:
            entry = offered.get(name)
            if entry is None or not self.object_action_applies(request, name, obj):
                continue
            action, _, description = entry
            buttons.append(
                {
                    "name": name,
                    "label": getattr(action, "button_label", None) or str(description),
                    "url": reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_{name}", args=[quote(obj.pk)]
                    ),
                    "asks_first": hasattr(action, "confirmation"),
                }
            )
        return buttons

    def object_action_applies(self, request: HttpRequest, name: str, obj: Any) -> bool:
        """Whether the button makes sense for this row (e.g. no Cancel on a cancelled session)."""
        return True

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:  # fmt: skip
        obj = self.get_object(request, unquote(object_id))
        buttons = self.object_buttons(request, obj) if obj is not None else []
        extra = {**(extra_context or {}), "object_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra)

    def object_action_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404  # not one of the operator's rows
        opts = self.model._meta
        change_url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)]
        )
        entry = self.get_actions(request).get(name)
        if entry is None:
            self.message_user(request, "You may not do this here.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        action = entry[0]
        if request.method != "POST" and not hasattr(action, "confirmation"):
            return HttpResponseRedirect(change_url)  # a button posts; a link is not a request
        response = action(self, request, self.get_queryset(request).filter(pk=obj.pk))
        if isinstance(response, HttpResponse):
            return response
        return HttpResponseRedirect(change_url)
