"""Token endpoints of the v1 API."""

from django.urls import path

from tokens.api import auth, bearer_grants, dynamic, introspection, sessions, trade, verify

urlpatterns = [
    path("auth/login", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/logout", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/reset-key", auth.ResetKeyApi.as_view(), name="auth-reset-key"),
    path("sessions", sessions.SessionListApi.as_view(), name="session-list"),
    path("sessions/dynamic", dynamic.DynamicSessionCreateApi.as_view(), name="session-dynamic"),
    path("sessions/import", dynamic.SessionImportApi.as_view(), name="session-import"),
    path(
        "sessions/<str:session_id>/complete",
        dynamic.SessionCompleteApi.as_view(),
        name="session-complete",
    ),
    path("sessions/<str:session_id>/sign", dynamic.SessionSignApi.as_view(), name="session-sign"),
    path("sessions/<str:session_id>", sessions.SessionDetailApi.as_view(), name="session-detail"),
    path(
        "sessions/<str:session_id>/renew", sessions.SessionRenewApi.as_view(), name="session-renew"
    ),
    path(
        "sessions/<str:session_id>/cancel",
        sessions.SessionCancelApi.as_view(),
        name="session-cancel",
    ),
    path(
        "sessions/<str:session_id>/renewal-schedule",
        sessions.SessionRenewalScheduleApi.as_view(),
        name="session-renewal-schedule",
    ),
    path("bearer-grants", bearer_grants.BearerGrantListApi.as_view(), name="bearer-grant-list"),
    path(
        "bearer-grants/import",
        bearer_grants.BearerGrantImportApi.as_view(),
        name="bearer-grant-import",
    ),
    path(
        "bearer-grants/<str:grant_id>",
        bearer_grants.BearerGrantDetailApi.as_view(),
        name="bearer-grant-detail",
    ),
    path(
        "bearer-grants/<str:grant_id>/revoke",
        bearer_grants.BearerGrantRevokeApi.as_view(),
        name="bearer-grant-revoke",
    ),
    path("verify", verify.VerifyApi.as_view(), name="verify"),
    path("trade", trade.TradeApi.as_view(), name="trade"),
    path("token", trade.TokenExchangeApi.as_view(), name="token-exchange"),
    path("introspect", introspection.IntrospectApi.as_view(), name="introspect"),
    path("revoke", introspection.RevokeApi.as_view(), name="revoke"),
]
