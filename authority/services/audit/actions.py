"""What an audit row records: a typed action and outcome, and the reason code of a refusal.

Every action the authority audits is one member of `AuditAction` (the value is what the row's
`action` column stores, so rows written before the enum read the same). An outcome is one of four
words (`Outcome`); a refusal's reason is the API's error code (`not_found`, `forbidden`,
`invalid_token`, …) or, for a verify decision, the decision's reason (`eacl_deny`, `expired`, …).
"""

from __future__ import annotations

import enum


class AuditAction(enum.StrEnum):
    # Sessions and trades (the decisions of issue 18's list).
    SESSION_ISSUE = "session.issue"
    SESSION_RENEW = "session.renew"
    SESSION_CANCEL = "session.cancel"
    SESSION_CREATE_DYNAMIC = "session.create_dynamic"
    SESSION_COMPLETE = "session.complete"
    SESSION_SIGN = "session.sign"
    SESSION_IMPORT = "session.import"
    SESSION_TRADE = "session.trade"
    SESSION_EXCHANGE = "session.exchange"  # RFC 8693 at /api/v1/token
    RENEWAL_SCHEDULE_SET = "renewal_schedule.set"
    RENEWAL_SCHEDULE_RUN_NOW = "renewal_schedule.run_now"
    BEARER_GRANT_ISSUE = "bearer_grant.issue"
    BEARER_GRANT_REVOKE = "bearer_grant.revoke"
    BEARER_GRANT_IMPORT = "bearer_grant.import"  # a wallet owner's own signed bearer token
    ACCESS_TOKEN_REVOKE = "access_token.revoke"  # noqa: S105 - an action name
    ACCESS_TOKEN_INTROSPECT = "access_token.introspect"  # noqa: S105 - an action name
    REQUEST_VERIFY = "request.verify"  # the policy decision point
    # Tenancy.
    OWNER_CREATE = "owner.create"
    OWNER_UPDATE = "owner.update"
    OWNER_KEY_SET = "owner.key_set"
    MEMBERSHIP_SET = "membership.set"
    MEMBERSHIP_DELETE = "membership.delete"
    CONTAINER_CREATE = "container.create"
    CONTAINER_UPDATE = "container.update"
    CONTAINER_DELETE = "container.delete"
    EACL_TABLE_CREATE = "eacl_table.create"
    EACL_TABLE_UPDATE = "eacl_table.update"
    EACL_TABLE_DELETE = "eacl_table.delete"
    SERVICE_ACCOUNT_CREATE = "service_account.create"
    SERVICE_ACCOUNT_ROTATE_SECRET = "service_account.rotate_secret"  # noqa: S105 - an action name
    SERVICE_ACCOUNT_DELETE = "service_account.delete"
    # The audit log itself: a recorded verification of every chain (console, audit_verify).
    AUDIT_VERIFY = "audit.verify"
    # Keys.
    KEY_GENERATE = "key.generate"
    KEY_ROTATE = "key.rotate"
    KEY_DESTROY = "key.destroy"
    # Client sessions (flow 8).
    CLIENT_SESSION_LOGIN = "client_session.login"
    CLIENT_SESSION_LOGOUT = "client_session.logout"
    CLIENT_SESSION_PASSWORD_CHANGED = "client_session.password_changed"  # noqa: S105 - an action name
    CLIENT_SESSION_RESET_KEY = "client_session.reset_key"


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    DENIED = "denied"  # refused: not found, forbidden, conflict, unauthenticated, throttled, deny
    INVALID = "invalid"  # the request itself was malformed or out of bounds
    ERROR = "error"  # the authority could not decide (a backing service is down, a bug)


def outcome_for_status(status: int) -> Outcome:
    """The outcome of an answer with this HTTP status."""
    if status < 400:
        return Outcome.SUCCESS
    if status == 400 or status == 413 or status == 415:
        return Outcome.INVALID
    if status < 500:
        return Outcome.DENIED
    return Outcome.ERROR
