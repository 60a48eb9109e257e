"""URL map: admin, OAuth2 (/o/), the v1 API, OpenAPI and health."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider import urls as dot_urls

from authority import health
from authority.api import clock, oauth2_token, tenancy
from authority.api.metrics import metrics_view
from tokens.api.trade import JWKSApi

api_v1: list[URLPattern | URLResolver] = [
    path("epoch", clock.EpochApi.as_view(), name="epoch"),
    path("owners", tenancy.OwnerListApi.as_view(), name="owner-list"),
    path("owners/<slug:slug>", tenancy.OwnerDetailApi.as_view(), name="owner-detail"),
    path(
        "owners/<slug:slug>/resource-servers",
        tenancy.ResourceServerApi.as_view(),
        name="owner-resource-servers",
    ),
    path("containers", tenancy.ContainerListApi.as_view(), name="container-list"),
    path(
        "containers/<str:container_id>",
        tenancy.ContainerDetailApi.as_view(),
        name="container-detail",
    ),
    path("eacl-tables", tenancy.EACLTableListApi.as_view(), name="eacl-table-list"),
    path(
        "eacl-tables/<str:table_id>", tenancy.EACLTableDetailApi.as_view(), name="eacl-table-detail"
    ),
    path("", include("tokens.urls")),
]


def _superusers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """DOT's self-service application views, for the service's operators only: an owner's
    service accounts are made in the console, where its admins see and manage them."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_superuser):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


_dot_self_service = {*dot_urls.management_urlpatterns, *dot_urls.dcr_urlpatterns}
oauth2_urls: list[URLPattern | URLResolver] = [
    URLPattern(pattern.pattern, _superusers_only(pattern.callback), name=pattern.name)
    if pattern in _dot_self_service
    else pattern
    for pattern in dot_urls.urlpatterns
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before DOT's own, at the same path (reverse("oauth2_provider:token") names it): throttled.
    path("o/token/", oauth2_token.TokenView.as_view(), name="oauth2-token"),
    path("o/", include((oauth2_urls, dot_urls.app_name), namespace="oauth2_provider")),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path(".well-known/jwks.json", JWKSApi.as_view(), name="jwks"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus (authority/api/metrics.py)
]

# HTML in the admin's look under /admin/, the API's JSON everywhere else.
handler400 = "authority.console.errors.bad_request"
handler403 = "authority.console.errors.forbidden"
handler404 = "authority.console.errors.not_found"
handler500 = "authority.console.errors.server_error"
