"""`Client`: one method per `/api/v1` operation, over one keep-alive `requests.Session`.

Every authenticated call goes through `_call`, the interceptor of seed 003: it asks the credentials
for the Authorization header (the session file is read afresh each time), sends, writes the
`X-Authority-Token` of the answer back to the session file, and retries 429/503 after their
`Retry-After` a bounded number of times.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests

from tokens.client.credentials import Credentials, SessionFileToken
from tokens.client.errors import AuthorityError, Unavailable, error_from_response
from tokens.client.results import (
    AccessToken,
    BearerGrant,
    CompletedSession,
    Container,
    Decision,
    DynamicSession,
    EACLTable,
    Epoch,
    Introspection,
    IssuedSession,
    Login,
    Owner,
    Page,
    Session,
    SessionSignature,
    build,
)
from tokens.client.session_file import SessionFile
from tokens.wire.bearer import BearerToken
from tokens.wire.proof import proof_message
from tokens.wire.session import SessionToken
from tokens.wire.signature import Scheme, Signer

DEFAULT_URL = "http://127.0.0.1:8000"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN
DELEGATION_TOKEN_TYPE = "urn:session-authority:token-type:delegation"  # noqa: S105 - a URN
NEOFS_SESSION_TOKEN_TYPE = "urn:session-authority:token-type:neofs-session"  # noqa: S105 - a URN
AUTHORITY_TOKEN_HEADER = "X-Authority-Token"  # noqa: S105 - a header name

T = TypeVar("T")
Token = SessionToken | BearerToken | str | dict[str, Any]


def _token_field(token: Token) -> str | dict[str, Any]:
    """A NeoFS token for a request body: base64 of its binary form (or JSON / base64 as given)."""
    if isinstance(token, SessionToken | BearerToken):
        return base64.b64encode(token.encode()).decode()
    return token


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None  # an HTTP-date: the authority never sends one


class Client:
    """A client of one authority. `credentials` default to the session file's token."""

    def __init__(
        self,
        url: str | None = None,
        *,
        credentials: Credentials | None = None,
        session_file: SessionFile | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = (url or os.environ.get("SA_URL") or DEFAULT_URL).rstrip("/")
        self.session_file = session_file or SessionFile()
        self.credentials: Credentials = credentials or SessionFileToken(self.session_file)
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self.http = requests.Session()  # one pool: keep-alive connections across calls

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, headers: dict[str, str], **kwargs: Any
    ) -> requests.Response:
        for attempt in range(self.max_retries + 1):
            try:
                response = self.http.request(
                    method, self.url + path, headers=headers, timeout=self.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt < self.max_retries:
                    self._sleep(min(0.2 * 2**attempt, self.max_retry_wait))
                    continue
                raise Unavailable(f"{self.url} cannot be reached: {type(exc).__name__}") from None
            if response.status_code not in (429, 503) or attempt == self.max_retries:
                return response
            wait = _retry_after(response.headers.get("Retry-After"))
            wait = 1.0 if wait is None else wait
            if wait > self.max_retry_wait:
                return response  # the server asks for longer than the caller will wait
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """The JSON answer of an API call, or the AuthorityError its error body describes."""
        for _ in range(2):
            headers = {"Accept": "application/json"}
            authorization = self.credentials.authorization(self) if auth else None
            if authorization:
                headers["Authorization"] = authorization
            response = self._send(
                method, path, headers=headers, json=json, data=data, params=params
            )
            fresh = response.headers.get(AUTHORITY_TOKEN_HEADER)
            if fresh and isinstance(self.credentials, SessionFileToken):
                self.session_file.refresh(fresh)  # the file's own token just worked: paced
            elif fresh:
                self.session_file.write(fresh)
            if response.status_code == 401 and authorization and self.credentials.refused():
                continue
            break
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code,
                _json_or_none(response),
                _retry_after(response.headers.get("Retry-After")),
                # Calls without an Authorization header (trade, login) carry their credential
                # in the body: a 401 there refuses what was sent.
                sent_credentials=bool(authorization) or not auth,
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _page(self, cls: type[T], path: str, params: dict[str, Any]) -> Page[T]:
        body = self._call("GET", path, params={k: v for k, v in params.items() if v is not None})
        return Page(
            count=body["count"],
            next=body.get("next"),
            previous=body.get("previous"),
            results=[build(cls, item) for item in body["results"]],
        )

    # -- client sessions (flow 8) ----------------------------------------------------------------

    def oauth2_token(
        self, *, client_id: str, client_secret: str, scope: str | None = None
    ) -> tuple[str, float]:
        """An OAuth2 access token by client credentials, and its lifetime in seconds."""
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        response = self._send(
            "POST",
            "/o/token/",
            headers={"Accept": "application/json"},
            data=form,
            auth=(client_id, client_secret),
        )
        if response.status_code != 200:
            raise error_from_response(
                401 if response.status_code == 400 else response.status_code,
                _json_or_none(response),
                None,
                sent_credentials=True,
            )
        body = response.json()
        return body["access_token"], float(body.get("expires_in") or 3600)

    def login(self, *, username: str, password: str) -> Login:
        """Logs in and stores the client token in the session file."""
        credentials = {"username": username, "password": password}
        body = self._call("POST", "/api/v1/auth/login", auth=False, json=credentials)
        login = build(Login, body)
        self.session_file.write(login.token)
        return login

    def logout(self) -> None:
        """Ends every client token of this user (server side) and forgets the stored one."""
        try:
            self._call("POST", "/api/v1/auth/logout")
        finally:
            self.session_file.clear()

    def reset_key(self) -> None:
        """Rotates the server's client-session key: every client token of every user stops."""
        self._call("POST", "/api/v1/auth/reset-key")

    # -- sessions (flows 1, 2, 4, 5) -------------------------------------------------------------

    def session_issue(
        self,
        *,
        verbs: list[str],
        container: str | None = None,
        kind: str = "delegation",
        context: str = "object",
        owner: str | None = None,
        objects: list[str] | None = None,
        renewer: str | None = None,
        lifetime: int | None = None,
        session_key: str | None = None,
    ) -> IssuedSession:
        body: dict[str, Any] = {"kind": kind, "context": context, "verbs": verbs}
        optional = {
            "container": container,
            "owner": owner,
            "objects": objects,
            "renewer": renewer,
            "lifetime": lifetime,
            "session_key": session_key,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return build(IssuedSession, self._call("POST", "/api/v1/sessions", json=body))

    def session_list(
        self,
        *,
        state: str | None = None,
        renewer: str | None = None,
        container: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Session]:
        return self._page(
            Session,
            "/api/v1/sessions",
            {
                "state": state,
                "renewer": renewer,
                "container": container,
                "limit": limit,
                "offset": offset,
            },
        )

    def session_get(self, session_id: str) -> Session:
        return build(Session, self._call("GET", f"/api/v1/sessions/{session_id}"))

    def session_renew(self, session_id: str) -> Session:
        return build(Session, self._call("POST", f"/api/v1/sessions/{session_id}/renew"))

    def session_cancel(self, session_id: str) -> Session:
        return build(Session, self._call("POST", f"/api/v1/sessions/{session_id}/cancel"))

    def session_create_dynamic(
        self, *, owner: str | None = None, renewer: str | None = None, lifetime: int | None = None
    ) -> DynamicSession:
        optional = {"owner": owner, "renewer": renewer, "lifetime": lifetime}
        body = {k: v for k, v in optional.items() if v is not None}
        return build(DynamicSession, self._call("POST", "/api/v1/sessions/dynamic", json=body))

    def session_complete(self, session_id: str, *, token: Token) -> CompletedSession:
        """Sends the filled blank token: signed by the owner's wallet, or unsigned for the
        authority to sign with the owner's HSM key."""
        body = {"token": _token_field(token)}
        return build(
            CompletedSession,
            self._call("POST", f"/api/v1/sessions/{session_id}/complete", json=body),
        )

    def session_sign(
        self,
        session_id: str,
        *,
        data: bytes,
        verb: str,
        container: str | None = None,
        scheme: str = "ECDSA_RFC6979_SHA256",
    ) -> SessionSignature:
        body: dict[str, Any] = {
            "data": base64.b64encode(data).decode(),
            "verb": verb,
            "scheme": scheme,
        }
        if container:
            body["container"] = container
        return build(
            SessionSignature, self._call("POST", f"/api/v1/sessions/{session_id}/sign", json=body)
        )

    def session_import(self, *, token: Token) -> Session:
        """Registers a static token the owner signed with its own wallet."""
        body = {"token": _token_field(token)}
        return build(Session, self._call("POST", "/api/v1/sessions/import", json=body))

    # -- trade (flow 3) ---------------------------------------------------------------------------

    @staticmethod
    def proof(session_id: str, signer: Signer, *, now: int | None = None) -> dict[str, Any]:
        """A proof of possession of the session key, signed here by `signer`."""
        moment = int(time.time()) if now is None else now
        nonce = secrets.token_urlsafe(16)
        message = proof_message(uuid.UUID(session_id), moment, nonce)
        signature = signer.sign(message, Scheme.ECDSA_RFC6979_SHA256)
        return {"time": moment, "nonce": nonce, "signature": base64.b64encode(signature).decode()}

    def proof_by_authority(self, session_id: str, *, verb: str, container: str | None) -> dict:
        """A proof signed by a dynamic session's key, which the authority holds for the owner."""
        moment, nonce = int(time.time()), secrets.token_urlsafe(16)
        signed = self.session_sign(
            session_id,
            data=proof_message(uuid.UUID(session_id), moment, nonce),
            verb=verb,
            container=container,
        )
        return {"time": moment, "nonce": nonce, "signature": signed.signature}

    def trade(
        self,
        *,
        subject_token: str,
        scope: str | None = None,
        audience: str | None = None,
        proof: dict[str, Any] | None = None,
    ) -> AccessToken:
        """Trades a delegation token (`sa1.…`) or a NeoFS token (base64) plus proof."""
        optional = {"scope": scope, "audience": audience, "proof": proof}
        body: dict[str, Any] = {"subject_token": subject_token}
        body.update({k: v for k, v in optional.items() if v is not None})
        return build(AccessToken, self._call("POST", "/api/v1/trade", auth=False, json=body))

    def token_exchange(
        self,
        *,
        subject_token: str,
        subject_token_type: str = DELEGATION_TOKEN_TYPE,
        scope: str | None = None,
        audience: str | None = None,
        resource: str | None = None,
        proof: dict[str, Any] | None = None,
    ) -> AccessToken:
        """RFC 8693 §2.1 token exchange, form-encoded at `POST /api/v1/token`."""
        form: dict[str, Any] = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject_token,
            "subject_token_type": subject_token_type,
        }
        optional = {"scope": scope, "audience": audience, "resource": resource}
        form.update({k: v for k, v in optional.items() if v is not None})
        if proof:
            form.update(
                proof_time=proof["time"],
                proof_nonce=proof["nonce"],
                proof_signature=proof["signature"],
            )
        return build(AccessToken, self._call("POST", "/api/v1/token", auth=False, data=form))

    def introspect(self, token: str, *, token_type_hint: str | None = None) -> Introspection:
        body = {"token": token}
        if token_type_hint:
            body["token_type_hint"] = token_type_hint
        return build(Introspection, self._call("POST", "/api/v1/introspect", json=body))

    def revoke(self, token: str, *, token_type_hint: str | None = None) -> None:
        body = {"token": token}
        if token_type_hint:
            body["token_type_hint"] = token_type_hint
        self._call("POST", "/api/v1/revoke", json=body)

    # -- bearer grants (flow 6) -------------------------------------------------------------------

    def bearer_grant_issue(
        self,
        *,
        container: str,
        rules: list[str] | None = None,
        table: dict[str, Any] | None = None,
        eacl_table: str | None = None,
        receiver: str | None = None,
        lifetime: int | None = None,
    ) -> BearerGrant:
        optional = {
            "rules": rules,
            "table": table,
            "eacl_table": eacl_table,
            "receiver": receiver,
            "lifetime": lifetime,
        }
        body = {"container": container, **{k: v for k, v in optional.items() if v is not None}}
        return build(BearerGrant, self._call("POST", "/api/v1/bearer-grants", json=body))

    def bearer_grant_list(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> Page[BearerGrant]:
        return self._page(BearerGrant, "/api/v1/bearer-grants", {"limit": limit, "offset": offset})

    def bearer_grant_get(self, grant_id: str) -> BearerGrant:
        return build(BearerGrant, self._call("GET", f"/api/v1/bearer-grants/{grant_id}"))

    def bearer_grant_revoke(self, grant_id: str) -> BearerGrant:
        return build(BearerGrant, self._call("POST", f"/api/v1/bearer-grants/{grant_id}/revoke"))

    # -- verify (flow 7) --------------------------------------------------------------------------

    def verify(
        self,
        *,
        verb: str,
        container: str,
        kind: str = "object",
        object: str | None = None,  # noqa: A002 - the API's field name
        session_token: Token | None = None,
        bearer_token: Token | None = None,
        requester_key: str | None = None,
        requester_account: str | None = None,
        request_headers: dict[str, str] | None = None,
        object_headers: dict[str, str] | None = None,
        epoch: int | None = None,
        access_token: str | None = None,
        object_owner: str | None = None,
    ) -> Decision:
        body: dict[str, Any] = {"kind": kind, "verb": verb, "container": container}
        optional = {
            "object": object,
            "session_token": _token_field(session_token) if session_token else None,
            "bearer_token": _token_field(bearer_token) if bearer_token else None,
            "requester_key": requester_key,
            "requester_account": requester_account,
            "request_headers": request_headers,
            "object_headers": object_headers,
            "epoch": epoch,
            "access_token": access_token,
            "object_owner": object_owner,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return build(Decision, self._call("POST", "/api/v1/verify", json=body))

    # -- tenancy ----------------------------------------------------------------------------------

    def owner_list(self) -> Page[Owner]:
        return self._page(Owner, "/api/v1/owners", {})

    def container_list(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> Page[Container]:
        return self._page(Container, "/api/v1/containers", {"limit": limit, "offset": offset})

    def container_get(self, container_id: str) -> Container:
        return build(Container, self._call("GET", f"/api/v1/containers/{container_id}"))

    def container_create(
        self,
        *,
        name: str,
        owner: str | None = None,
        container_id: str | None = None,
        basic_acl: Any = None,
    ) -> Container:
        optional = {"owner": owner, "container_id": container_id, "basic_acl": basic_acl}
        body = {"name": name, **{k: v for k, v in optional.items() if v is not None}}
        return build(Container, self._call("POST", "/api/v1/containers", json=body))

    def eacl_table_list(self) -> Page[EACLTable]:
        return self._page(EACLTable, "/api/v1/eacl-tables", {})

    def eacl_table_get(self, table_id: str) -> EACLTable:
        return build(EACLTable, self._call("GET", f"/api/v1/eacl-tables/{table_id}"))

    def eacl_table_create(
        self,
        *,
        name: str,
        rules: list[str] | None = None,
        table: dict[str, Any] | None = None,
        container: str | None = None,
        owner: str | None = None,
    ) -> EACLTable:
        optional = {"rules": rules, "table": table, "container": container, "owner": owner}
        body = {"name": name, **{k: v for k, v in optional.items() if v is not None}}
        return build(EACLTable, self._call("POST", "/api/v1/eacl-tables", json=body))

    def eacl_table_delete(self, table_id: str) -> None:
        self._call("DELETE", f"/api/v1/eacl-tables/{table_id}")

    # -- clock and keys ---------------------------------------------------------------------------

    def epoch(self) -> Epoch:
        return build(Epoch, self._call("GET", "/api/v1/epoch", auth=False))

    def jwks(self) -> dict[str, Any]:
        body: dict[str, Any] = self._call("GET", "/.well-known/jwks.json", auth=False)
        return body


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


__all__ = ["AuthorityError", "Client"]
