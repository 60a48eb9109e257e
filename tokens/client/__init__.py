"""The Session Authority SDK: a Django-free client of the v1 API and its session file.

Imports `tokens.wire` and nothing else of the project (a test runs it in a fresh interpreter).
"""

from tokens.client.client import Client
from tokens.client.credentials import ClientCredentials, ClientToken, Password, SessionFileToken
from tokens.client.errors import (
    AuthDenied,
    AuthError,
    AuthFormat,
    AuthMissing,
    AuthorityError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServerError,
    Throttled,
    Unavailable,
)
from tokens.client.session_file import SessionFile, default_token_path

__all__ = [
    "AuthDenied",
    "AuthError",
    "AuthFormat",
    "AuthMissing",
    "AuthorityError",
    "Client",
    "ClientCredentials",
    "ClientToken",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Password",
    "ServerError",
    "SessionFile",
    "SessionFileToken",
    "Throttled",
    "Unavailable",
    "default_token_path",
]
