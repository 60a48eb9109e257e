"""URL map: admin, OAuth2 (/o/), the v1 API, OpenAPI and health."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from authority import health
from authority.api import clock, tenancy
from tokens.api.trade import JWKSApi

api_v1: list[URLPattern | URLResolver] = [
    path("epoch", clock.EpochApi.as_view(), name="epoch"),
    path("owners", tenancy.OwnerListApi.as_view(), name="owner-list"),
    path("owners/<slug:slug>", tenancy.OwnerDetailApi.as_view(), name="owner-detail"),
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

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path(".well-known/jwks.json", JWKSApi.as_view(), name="jwks"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler400 = "authority.api.errors.json_bad_request"
handler403 = "authority.api.errors.json_forbidden"
handler404 = "authority.api.errors.json_not_found"
handler500 = "authority.api.errors.json_server_error"
