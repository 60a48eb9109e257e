"""Console pages for service accounts (an owner's OAuth2 client-credentials applications): list,
add, rotate the secret (shown once) and delete — owner admins, through
authority.services.service_accounts. Mounted under the owner admin:
/admin/authority/owner/service-accounts/.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from authority import selectors
from authority.admin.actions import is_confirmed
from authority.admin.scoping import actor
from authority.errors import AuthorityError, NotFound
from authority.models import ADMIN_ROLES, Owner, Role
from authority.services.service_accounts import (
    NAME_MAX,
    IssuedSecret,
    service_account_create,
    service_account_delete,
    service_account_secret_rotate,
)


class ServiceAccountForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=Owner.objects.none(), empty_label=None)
    name = forms.CharField(
        max_length=NAME_MAX, help_text="What it is, e.g. “backup job on host-3”."
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.OPERATOR,
        help_text="Viewer reads; operator issues and renews sessions; admin manages the owner.",
    )

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)  # noqa: S101 - declared above
        owner_field.queryset = owners


class ServiceAccountViews(admin.ModelAdmin):
    """Adds the service-account pages to the owner admin."""

    change_form_template = "admin/change_form_with_actions.html"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "service-accounts/",
                wrap(self.service_accounts_view),
                name="authority_serviceaccount_changelist",
            ),
            path(
                "service-accounts/add/",
                wrap(self.service_account_add_view),
                name="authority_serviceaccount_add",
            ),
            path(
                "service-accounts/<int:application_id>/rotate-secret/",
                wrap(self.service_account_rotate_view),
                name="authority_serviceaccount_rotate",
            ),
            path(
                "service-accounts/<int:application_id>/delete/",
                wrap(self.service_account_delete_view),
                name="authority_serviceaccount_delete",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:  # fmt: skip
        """The owner's page links to the service accounts, for its admins."""
        links = []
        if object_id.isdigit() and self._administered(request).filter(pk=object_id).exists():
            url = reverse("admin:authority_serviceaccount_changelist")
            links.append({"name": "service-accounts", "label": "Service accounts", "url": url})
        extra = {**(extra_context or {}), "object_links": links}
        return super().change_view(request, object_id, form_url, extra)

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "list_url": reverse("admin:authority_serviceaccount_changelist"),
            **extra,
        }

    def _administered(self, request: HttpRequest) -> Any:
        return Owner.objects.visible_to(actor(request), roles=ADMIN_ROLES)

    def service_accounts_view(self, request: HttpRequest) -> HttpResponse:
        memberships = list(selectors.service_account_list(actor=actor(request)))
        context = self._context(
            request,
            "Service accounts",
            memberships=memberships,
            administers=self._administered(request).exists(),
        )
        return TemplateResponse(request, "admin/authority/service_accounts/list.html", context)

    def service_account_add_view(self, request: HttpRequest) -> HttpResponse:
        owners = self._administered(request)
        if request.method == "POST":
            form = ServiceAccountForm(request.POST, owners=owners)
            if form.is_valid():
                try:
                    issued = service_account_create(
                        actor=actor(request),
                        owner=form.cleaned_data["owner"],
                        name=form.cleaned_data["name"],
                        role=Role(form.cleaned_data["role"]),
                    )
                except AuthorityError as refusal:
                    field = refusal.field if refusal.field in form.fields else None
                    form.add_error(field, refusal.detail)
                else:
                    return self._secret_page(request, issued, "Service account created")
        else:
            form = ServiceAccountForm(owners=owners)
        context = self._context(
            request, "Add service account", form=form, administers=owners.exists()
        )
        return TemplateResponse(request, "admin/authority/service_accounts/add.html", context)

    def _secret_page(self, request: HttpRequest, issued: IssuedSecret, title: str) -> Any:
        context = self._context(
            request,
            title,
            application=issued.application,
            client_secret=issued.client_secret,
            token_url=request.build_absolute_uri(reverse("oauth2_provider:token")),
        )
        response = TemplateResponse(
            request, "admin/authority/service_accounts/secret.html", context
        )
        response["Cache-Control"] = "no-store"  # the secret is shown once, and kept nowhere
        return response

    def _application(self, request: HttpRequest, application_id: int) -> Any:
        try:
            return selectors.service_account_get(
                actor=actor(request), application_id=application_id
            )
        except NotFound:
            raise Http404 from None

    def _confirm(self, request: HttpRequest, application: Any, what: str) -> HttpResponse:
        questions = {
            "rotate": (
                "Rotate the secret",
                "The current secret stops working at once, and so do the access tokens "
                "issued with it; the new secret is shown once.",
            ),
            "delete": (
                "Delete the service account",
                "The application, its memberships and its tokens are deleted; sessions it "
                "renewed keep their records. This cannot be undone.",
            ),
        }
        button, consequence = questions[what]
        context = self._context(
            request,
            f"{button}?",
            application=application,
            owners=list(Owner.objects.filter(memberships__application=application)),
            button=button,
            consequence=consequence,
            action=what,
        )
        return TemplateResponse(request, "admin/authority/service_accounts/confirm.html", context)

    def service_account_rotate_view(self, request: HttpRequest, application_id: int) -> Any:
        application = self._application(request, application_id)
        if not is_confirmed(request):
            return self._confirm(request, application, "rotate")
        try:
            issued = service_account_secret_rotate(actor=actor(request), application=application)
        except AuthorityError as refusal:
            self.message_user(request, f"Refused: {refusal.detail}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:authority_serviceaccount_changelist"))
        return self._secret_page(request, issued, "New secret")

    def service_account_delete_view(self, request: HttpRequest, application_id: int) -> Any:
        application = self._application(request, application_id)
        if not is_confirmed(request):
            return self._confirm(request, application, "delete")
        try:
            service_account_delete(actor=actor(request), application=application)
        except AuthorityError as refusal:
            self.message_user(request, f"Refused: {refusal.detail}", messages.ERROR)
        else:
            self.message_user(
                request, f"Deleted: service account {application.name}.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:authority_serviceaccount_changelist"))
