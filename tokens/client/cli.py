"""`sactl`, the authority's command line (SPEC §6), over the SDK.

Credentials, first found wins: `--password-file`, `SA_PASSWORD`, `SA_TOKEN`,
`SA_CLIENT_ID`/`SA_CLIENT_SECRET`, the session file. Unattended use (any of those variables set, or
stdin not a terminal) never prompts. Attended, a call refused for missing or denied authentication
prompts for the password (no echo), logs in and runs again, until it works or the user quits: the
seed's retry loop, entered only for those two errors.

Exit codes (sysexits): auth missing/denied 77, malformed auth or usage 64, password file unreadable
66, server unavailable 69, anything else 1; stderr says which in one line.
"""

from __future__ import annotations

import base64
import dataclasses
import getpass
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tokens.client.client import Client
from tokens.client.credentials import (
    ClientCredentials,
    ClientToken,
    Credentials,
    Password,
    SessionFileToken,
)
from tokens.client.errors import AuthDenied, AuthError, AuthFormat, AuthMissing, Unavailable
from tokens.client.errors import AuthorityError as ApiError
from tokens.client.session_file import SessionFile
from tokens.wire.bearer import BearerToken
from tokens.wire.errors import WireError
from tokens.wire.ids import ContainerID, ObjectID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.offline import (
    bearer_token_sign,
    session_token_sign,
    token_file_bytes,
    token_file_read,
)
from tokens.wire.session import ContainerContext, ContainerVerb, ObjectContext, ObjectVerb
from tokens.wire.session import SessionToken as NeoFSSessionToken
from tokens.wire.signature import SoftwareSigner
from tokens.wire.wallet import Wallet, signer_from_pem, signer_from_wif

EXIT_AUTH = 77  # EX_NOPERM
EXIT_USAGE = 64  # EX_USAGE
EXIT_NO_INPUT = 66  # EX_NOINPUT
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE
EXIT_OTHER = 1

T = TypeVar("T")

_UNATTENDED_VARIABLES = ("SA_PASSWORD", "SA_TOKEN", "SA_CLIENT_ID", "SA_CLIENT_SECRET")


class PasswordFileError(Exception):
    """The password file cannot be read (exit 66)."""


@dataclasses.dataclass
class Context:
    url: str | None
    password_file: str | None
    username: str
    session_file: SessionFile
    client: Client | None = None

    def credentials(self) -> Credentials:
        password = self.password()
        if password is not None:
            return Password(self.username, password)
        if os.environ.get("SA_TOKEN"):
            return ClientToken(os.environ["SA_TOKEN"])
        if os.environ.get("SA_CLIENT_ID") and os.environ.get("SA_CLIENT_SECRET"):
            return ClientCredentials(os.environ["SA_CLIENT_ID"], os.environ["SA_CLIENT_SECRET"])
        return SessionFileToken(self.session_file)

    def password(self) -> str | None:
        if self.password_file:
            try:
                return Path(self.password_file).read_text().rstrip("\r\n")
            except OSError as exc:
                raise PasswordFileError(
                    f"cannot read password file {self.password_file}: {exc.strerror}"
                ) from None
        return os.environ.get("SA_PASSWORD") or None

    def sdk(self) -> Client:
        if self.client is None:
            self.client = Client(
                self.url, credentials=self.credentials(), session_file=self.session_file
            )
        return self.client

    def unattended(self) -> bool:
        return any(os.environ.get(name) for name in _UNATTENDED_VARIABLES) or not _attended()

    def run(self, call: Callable[[Client], T]) -> T:
        """`call` with the SDK client; on a missing or denied authentication of an attended
        command, the password retry loop (seed 003, "CARL")."""
        client = self.sdk()
        try:
            return call(client)
        except (AuthMissing, AuthDenied):
            if self.unattended():
                raise
        while True:
            password = _prompt_password(f"Password for {self.username}: ")
            try:
                client.login(username=self.username, password=password)
            except AuthDenied:
                click.echo("Wrong password; try again (Ctrl-C to give up).", err=True)
                continue
            client.credentials = SessionFileToken(self.session_file)
            return call(client)


def _attended() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _prompt_password(prompt: str) -> str:
    try:
        return getpass.getpass(prompt)
    except (EOFError, KeyboardInterrupt):
        raise AuthMissing("no password given (the prompt was left)") from None


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"sactl: {message}", err=True)
    sys.exit(code)


class SactlGroup(click.Group):
    """The root group: maps every failure to its exit code and a one-line message."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            _fail("aborted", EXIT_OTHER)
        except click.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            _fail(f"usage: {exc.format_message()}{hint}", EXIT_USAGE)
        except click.ClickException as exc:
            _fail(exc.format_message(), EXIT_OTHER)
        except PasswordFileError as exc:
            _fail(str(exc), EXIT_NO_INPUT)
        except AuthFormat as exc:
            _fail(f"malformed authentication: {exc.detail}", EXIT_USAGE)
        except AuthMissing as exc:
            _fail(f"authentication missing: {exc.detail} (run `sactl login`)", EXIT_AUTH)
        except AuthError as exc:
            _fail(f"authentication denied: {exc.detail}", EXIT_AUTH)
        except Unavailable as exc:
            _fail(f"server unavailable: {exc.detail}", EXIT_UNAVAILABLE)
        except ApiError as exc:
            _fail(f"{exc.code}: {exc.detail}", EXIT_OTHER)
        except WireError as exc:
            _fail(f"invalid token or key: {exc}", EXIT_OTHER)
        except OSError as exc:
            _fail(f"{exc.filename or 'file'}: {exc.strerror}", EXIT_OTHER)
        sys.exit(result if isinstance(result, int) else 0)


pass_context = click.make_pass_decorator(Context)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Machine output; token files in NeoFS JSON."
)


def _print(ctx_json: bool, value: Any, human: Callable[[], None]) -> None:
    if ctx_json:
        click.echo(json.dumps(value, indent=2, default=str))
    else:
        human()


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _fields(mapping: dict[str, Any], names: Iterable[str]) -> None:
    for name in names:
        click.echo(f"{name + ':':<16}{_cell(mapping.get(name))}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def _verbs(values: Sequence[str]) -> list[str]:
    return [v.strip().upper() for value in values for v in value.split(",") if v.strip()]


def _write(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)


@click.group(cls=SactlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url", envvar="SA_URL", help="The authority (SA_URL; default http://127.0.0.1:8000)."
)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False),
    help="Read the password from this file (first in the credential order).",
)
@click.option(
    "--username", envvar="SA_USERNAME", help="Your username (SA_USERNAME; default: the OS user)."
)
@click.option(
    "--token-path", envvar="SA_TOKEN_PATH", help="The session file (SA_TOKEN_PATH; XDG default)."
)
@click.version_option("0.1.0", prog_name="sactl")
@click.pass_context
def cli(
    ctx: click.Context,
    url: str | None,
    password_file: str | None,
    username: str | None,
    token_path: str | None,
) -> None:
    """Session Authority client: log in, issue and trade session tokens, sign offline.

    \b
    Examples:
      sactl login
      sactl session create --verbs GET,HEAD --container <CID> --out token.txt
      sactl trade --from token.txt
    """
    ctx.obj = Context(
        url=url,
        password_file=password_file,
        username=username or getpass.getuser(),
        session_file=SessionFile(token_path),
    )


# -- login / logout -------------------------------------------------------------------------------


@cli.command()
@json_option
@pass_context
def login(obj: Context, as_json: bool) -> None:
    """Log in with your password; stores a client token in the session file.

    The password comes from --password-file, SA_PASSWORD, or a prompt (no echo); a wrong one
    prompts again when you are at a terminal.

    \b
    Examples:
      sactl login
      sactl --username alice --password-file ~/.sa-password login
    """
    client = obj.sdk()
    password = obj.password()
    if password is None and obj.unattended():
        raise AuthMissing("no password: give --password-file or SA_PASSWORD")
    while True:
        if password is None:
            password = _prompt_password(f"Password for {obj.username}: ")
        try:
            result = client.login(username=obj.username, password=password)
            break
        except AuthDenied:
            if obj.unattended() or obj.password() is not None:
                raise
            click.echo("Wrong password; try again (Ctrl-C to give up).", err=True)
            password = None
    _print(
        as_json,
        {k: v for k, v in result.raw.items() if k != "token"},
        lambda: click.echo(f"Logged in as {result.user} until {result.expires_at.isoformat()}."),
    )


@cli.command()
@pass_context
def logout(obj: Context) -> None:
    """End every client token of yours, everywhere, and forget the stored one.

    \b
    Examples:
      sactl logout
    """
    obj.sdk().logout()
    click.echo("Logged out.")


# -- sessions -------------------------------------------------------------------------------------

_SESSION_COLUMNS = ("id", "kind", "state", "verbs", "container", "renewer", "expires_at")


@cli.group()
def session() -> None:
    """Sessions: create, list, show, renew, cancel, complete, sign, import."""


@session.command("create")
@click.option("--dynamic", is_flag=True, help="A dynamic session: the authority makes its key.")
@click.option("--static", is_flag=True, help="A static session for a trusted party's key.")
@click.option("--session-key", help="Hex of the trusted party's compressed key (--static).")
@click.option("--verbs", multiple=True, help="Verbs, comma-separated or repeated: GET,HEAD,PUT…")
@click.option("--container", help="The container id (base58).")
@click.option("--objects", multiple=True, help="Object ids the session is limited to.")
@click.option(
    "--context",
    "context_kind",
    type=click.Choice(["object", "container"]),
    default="object",
    show_default=True,
)
@click.option("--lifetime", type=int, help="Seconds.")
@click.option("--renewer", help="user:<name> or app:<client id>; default: you.")
@click.option("--owner", help="The owner's slug, when you belong to several.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the token to this file.")
@json_option
@pass_context
def session_create(
    obj: Context,
    dynamic: bool,
    static: bool,
    session_key: str | None,
    verbs: tuple[str, ...],
    container: str | None,
    objects: tuple[str, ...],
    context_kind: str,
    lifetime: int | None,
    renewer: str | None,
    owner: str | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Create a session: a delegation token (default), a static NeoFS token, or a dynamic
    session's blank token.

    \b
    Examples:
      sactl session create --verbs GET,HEAD --container 7Hg… --out delegation.txt
      sactl session create --static --session-key 02ab… --verbs PUT --container 7Hg… --out t.bin
      sactl session create --dynamic --out blank.bin
      sactl session create --dynamic --out blank.json --json
    """
    if dynamic and static:
        raise click.UsageError("give --dynamic or --static, not both")
    if static and not session_key:
        raise click.UsageError("--static needs --session-key")
    if dynamic:
        dyn = obj.run(
            lambda c: c.session_create_dynamic(owner=owner, renewer=renewer, lifetime=lifetime)
        )
        if out and dyn.blank_token is not None:
            blank = dyn.blank_token.session_token()
            _write(out, token_file_bytes(blank, json_form=as_json))
        _print(as_json, dyn.raw, lambda: _fields(dyn.raw, ("id", "session_key", "expires_at")))
        return
    if not verbs:
        raise click.UsageError("--verbs is required (unless --dynamic)")
    issued = obj.run(
        lambda c: c.session_issue(
            kind="static" if static else "delegation",
            context=context_kind,
            verbs=_verbs(verbs),
            container=container,
            objects=list(objects) or None,
            renewer=renewer,
            lifetime=lifetime,
            owner=owner,
            session_key=session_key,
        )
    )
    if out:
        if issued.neofs_token is not None:
            _write(out, token_file_bytes(issued.neofs_token.session_token(), json_form=as_json))
        elif issued.token:
            _write(out, issued.token.encode() + b"\n")
            os.chmod(out, 0o600)  # a delegation token is a bearer credential
    _print(
        as_json,
        issued.raw,
        lambda: _fields(issued.raw, ("id", "kind", "verbs", "container", "expires_at", "token")),
    )


@session.command("list")
@click.option("--state", type=click.Choice(["active", "expired", "cancelled"]))
@click.option("--container")
@json_option
@pass_context
def session_list(obj: Context, state: str | None, container: str | None, as_json: bool) -> None:
    """List the sessions you may see.

    \b
    Examples:
      sactl session list
      sactl session list --state active --json
    """
    page = obj.run(lambda c: c.session_list(state=state, container=container))
    rows = [s.raw for s in page.results]
    _print(as_json, rows, lambda: _table(rows, _SESSION_COLUMNS))


def _session_action(name: str, call: Callable[[Client, str], Any], doc: str) -> None:
    @session.command(name, help=doc)
    @click.argument("session_id")
    @json_option
    @pass_context
    def command(obj: Context, session_id: str, as_json: bool) -> None:
        result = obj.run(lambda c: call(c, session_id))
        _print(as_json, result.raw, lambda: _fields(result.raw, _SESSION_COLUMNS + ("subject",)))


_session_action(
    "show",
    lambda c, i: c.session_get(i),
    "Show a session.\n\n\b\nExamples:\n  sactl session show 5f0c…\n"
    "  sactl session show 5f0c… --json",
)
_session_action(
    "renew",
    lambda c, i: c.session_renew(i),
    "Renew a session (you must be its renewer).\n\n\b\nExamples:\n  sactl session renew 5f0c…",
)
_session_action(
    "cancel",
    lambda c, i: c.session_cancel(i),
    "Cancel a session: it and its access tokens stop at once.\n\n\b\nExamples:\n"
    "  sactl session cancel 5f0c…",
)


def _context_of(
    verbs: Sequence[str], container: str | None, objects: Sequence[str], kind: str
) -> ObjectContext | ContainerContext | None:
    names = _verbs(verbs)
    if not names:
        return None
    if len(names) != 1:
        raise click.UsageError("a NeoFS session token carries one verb: give one --verbs value")
    try:
        if kind == "container":
            return ContainerContext(
                verb=ContainerVerb[names[0]],
                wildcard=container is None,
                container_id=ContainerID.from_string(container, "container") if container else None,
            )
        return ObjectContext(
            verb=ObjectVerb[names[0]],
            container=ContainerID.from_string(container, "container") if container else None,
            objects=tuple(ObjectID.from_string(o, "objects") for o in objects),
        )
    except KeyError:
        raise click.UsageError(f"not a {kind} verb: {names[0]}") from None


_context_options = [
    click.option("--verbs", multiple=True, help="The token's verb (one)."),
    click.option("--container", help="The container id (base58)."),
    click.option("--objects", multiple=True, help="Object ids."),
    click.option(
        "--context",
        "context_kind",
        type=click.Choice(["object", "container"]),
        default="object",
        show_default=True,
    ),
]


def context_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_context_options):
        command = option(command)
    return command


@session.command("complete")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False))
@context_options
@click.option("--out", type=click.Path(dir_okay=False), help="Write the signed token here.")
@json_option
@pass_context
def session_complete(
    obj: Context,
    source: str,
    verbs: tuple[str, ...],
    container: str | None,
    objects: tuple[str, ...],
    context_kind: str,
    out: str | None,
    as_json: bool,
) -> None:
    """Complete a dynamic session: send its token, signed by your wallet (`sactl util sign
    session-token`) or unsigned with a context for the authority to sign.

    \b
    Examples:
      sactl session complete --from signed.bin
      sactl session complete --from blank.bin --verbs PUT --container 7Hg… --out token.bin
    """
    token = token_file_read(Path(source).read_bytes(), NeoFSSessionToken)
    context = _context_of(verbs, container, objects, context_kind)
    if context is not None:
        if token.signature is not None:
            raise click.UsageError("the token is signed already; its context cannot change")
        token = NeoFSSessionToken(dataclasses.replace(token.body, context=context))
    session_id = str(uuid.UUID(bytes=token.body.id))
    if token.body.owner_id is None:
        owners = obj.run(lambda c: c.owner_list()).results
        ids = {o.neofs_owner_id for o in owners if o.neofs_owner_id}
        if len(ids) != 1:
            raise click.UsageError("the token names no owner and you belong to several")
        token = NeoFSSessionToken(
            dataclasses.replace(token.body, owner_id=OwnerID.from_string(ids.pop()))
        )
    done = obj.run(lambda c: c.session_complete(session_id, token=token))
    if out:
        _write(out, token_file_bytes(done.neofs_token.session_token(), json_form=as_json))
    _print(as_json, done.raw, lambda: click.echo(f"Completed session {done.id}."))


@session.command("sign")
@click.argument("session_id")
@click.option("--verb", required=True, help="A verb of the session.")
@click.option("--container", help="The container the data is for.")
@click.option("--data-file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--scheme",
    type=click.Choice(["ECDSA_RFC6979_SHA256", "ECDSA_SHA512"]),
    default="ECDSA_RFC6979_SHA256",
    show_default=True,
)
@json_option
@pass_context
def session_sign(
    obj: Context,
    session_id: str,
    verb: str,
    container: str | None,
    data_file: str,
    scheme: str,
    as_json: bool,
) -> None:
    """Sign data with a dynamic session's key (held by the authority), within its context.

    \b
    Examples:
      sactl session sign 5f0c… --verb PUT --container 7Hg… --data-file header.bin
    """
    data = Path(data_file).read_bytes()
    signed = obj.run(
        lambda c: c.session_sign(
            session_id, data=data, verb=verb.upper(), container=container, scheme=scheme
        )
    )
    _print(as_json, signed.raw, lambda: _fields(signed.raw, ("key", "scheme", "signature")))


@session.command("import")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_context
def session_import(obj: Context, source: str, as_json: bool) -> None:
    """Register a static session token you signed with your own wallet.

    \b
    Examples:
      sactl util sign session-token --from blank.bin --to token.bin --wallet wallet.json
      sactl session import --from token.bin
    """
    token = token_file_read(Path(source).read_bytes(), NeoFSSessionToken)
    imported = obj.run(lambda c: c.session_import(token=token))
    _print(as_json, imported.raw, lambda: _fields(imported.raw, _SESSION_COLUMNS))


# -- offline signing ------------------------------------------------------------------------------


@cli.group()
def util() -> None:
    """Offline helpers: sign tokens with your own key (no server involved)."""


@util.group()
def sign() -> None:
    """Sign a session or bearer token with your wallet, WIF or PEM key."""


_key_options = [
    click.option("--wallet", type=click.Path(exists=True, dir_okay=False), help="A NEP-6 wallet."),
    click.option("--address", help="The wallet account (default: its default account)."),
    click.option(
        "--wallet-password-file",
        type=click.Path(dir_okay=False),
        help="The wallet password (else SA_WALLET_PASSWORD, else a prompt).",
    ),
    click.option("--wif", envvar="SA_WIF", help="The key as WIF (SA_WIF)."),
    click.option("--key", "pem", type=click.Path(exists=True, dir_okay=False), help="A PEM key."),
]


def key_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_key_options):
        command = option(command)
    return command


def _signer(
    obj: Context,
    wallet: str | None,
    address: str | None,
    wallet_password_file: str | None,
    wif: str | None,
    pem: str | None,
) -> SoftwareSigner:
    if sum(x is not None for x in (wallet, wif, pem)) != 1:
        raise click.UsageError("give exactly one of --wallet, --wif, --key")
    if wif:
        return signer_from_wif(wif)
    if pem:
        return signer_from_pem(Path(pem).read_bytes())
    assert wallet is not None  # noqa: S101 - checked above
    document = Wallet.from_json(Path(wallet).read_bytes())
    if wallet_password_file:
        try:
            password = Path(wallet_password_file).read_text().rstrip("\r\n")
        except OSError as exc:
            raise PasswordFileError(
                f"cannot read password file {wallet_password_file}: {exc.strerror}"
            ) from None
        return document.signer(password, address)
    if os.environ.get("SA_WALLET_PASSWORD") is not None:
        return document.signer(os.environ["SA_WALLET_PASSWORD"], address)
    if obj.unattended():
        raise AuthMissing(
            "the wallet needs a password: --wallet-password-file or SA_WALLET_PASSWORD"
        )
    while True:
        try:
            return document.signer(_prompt_password("Wallet password: "), address)
        except WireError as exc:
            if exc.field != "password":
                raise
            click.echo("Wrong wallet password; try again (Ctrl-C to give up).", err=True)


@sign.command("session-token")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "target", required=True, type=click.Path(dir_okay=False))
@key_options
@context_options
@click.option("--exp", type=int, help="Last valid epoch (else the token's own lifetime).")
@json_option
@pass_context
def sign_session_token(
    obj: Context,
    source: str,
    target: str,
    wallet: str | None,
    address: str | None,
    wallet_password_file: str | None,
    wif: str | None,
    pem: str | None,
    verbs: tuple[str, ...],
    container: str | None,
    objects: tuple[str, ...],
    context_kind: str,
    exp: int | None,
    as_json: bool,
) -> None:
    """Fill a (blank) session token's context and issuer and sign it with your key.

    \b
    Examples:
      sactl util sign session-token --from blank.bin --to token.bin --wallet wallet.json \\
          --verbs PUT --container 7Hg…
      sactl util sign session-token --from filled.json --to token.json --wif KxP9… --json
    """
    token = token_file_read(Path(source).read_bytes(), NeoFSSessionToken)
    signer = _signer(obj, wallet, address, wallet_password_file, wif, pem)
    lifetime = None
    if exp is not None:
        old = token.body.lifetime or Lifetime()
        lifetime = Lifetime(exp=exp, nbf=old.nbf, iat=old.iat)
    signed = session_token_sign(
        token,
        signer=signer,
        context=_context_of(verbs, container, objects, context_kind),
        lifetime=lifetime,
    )
    _write(target, token_file_bytes(signed, json_form=as_json))
    click.echo(f"Signed session token written to {target}.", err=True)


@sign.command("bearer-token")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "target", required=True, type=click.Path(dir_okay=False))
@key_options
@json_option
@pass_context
def sign_bearer_token(
    obj: Context,
    source: str,
    target: str,
    wallet: str | None,
    address: str | None,
    wallet_password_file: str | None,
    wif: str | None,
    pem: str | None,
    as_json: bool,
) -> None:
    """Sign a bearer token (binary or NeoFS JSON) with the container owner's key.

    \b
    Examples:
      sactl util sign bearer-token --from bearer.json --to bearer.bin --wallet wallet.json
    """
    token = token_file_read(Path(source).read_bytes(), BearerToken)
    signer = _signer(obj, wallet, address, wallet_password_file, wif, pem)
    _write(target, token_file_bytes(bearer_token_sign(token, signer=signer), json_form=as_json))
    click.echo(f"Signed bearer token written to {target}.", err=True)


# -- bearer grants --------------------------------------------------------------------------------

_GRANT_COLUMNS = ("id", "container", "receiver", "flavour", "exp", "revoked_at")


@cli.group()
def bearer() -> None:
    """Bearer grants: create, list, show, revoke."""


@bearer.command("create")
@click.option("--container", required=True)
@click.option("--rule", "rules", multiple=True, help="An eACL rule: 'allow get others'…")
@click.option("--table-file", type=click.Path(exists=True, dir_okay=False), help="NeoFS JSON.")
@click.option("--eacl-table", help="A stored eACL table's id.")
@click.option("--receiver", help="The receiver's owner id (base58); default: anyone.")
@click.option("--lifetime", type=int, help="Seconds.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the bearer token here.")
@json_option
@pass_context
def bearer_create(
    obj: Context,
    container: str,
    rules: tuple[str, ...],
    table_file: str | None,
    eacl_table: str | None,
    receiver: str | None,
    lifetime: int | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Issue a bearer token for a container: rules, a NeoFS JSON table, or a stored table.

    \b
    Examples:
      sactl bearer create --container 7Hg… --rule 'allow get others' --out bearer.bin
      sactl bearer create --container 7Hg… --eacl-table 3f1e… --out bearer.json --json
    """
    table = json.loads(Path(table_file).read_text()) if table_file else None
    grant = obj.run(
        lambda c: c.bearer_grant_issue(
            container=container,
            rules=list(rules) or None,
            table=table,
            eacl_table=eacl_table,
            receiver=receiver,
            lifetime=lifetime,
        )
    )
    if out:
        _write(out, token_file_bytes(grant.token.bearer_token(), json_form=as_json))
    _print(as_json, grant.raw, lambda: _fields(grant.raw, _GRANT_COLUMNS))


@bearer.command("list")
@json_option
@pass_context
def bearer_list(obj: Context, as_json: bool) -> None:
    """List bearer grants.

    \b
    Examples:
      sactl bearer list
    """
    rows = [g.raw for g in obj.run(lambda c: c.bearer_grant_list()).results]
    _print(as_json, rows, lambda: _table(rows, _GRANT_COLUMNS))


@bearer.command("show")
@click.argument("grant_id")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the bearer token here.")
@json_option
@pass_context
def bearer_show(obj: Context, grant_id: str, out: str | None, as_json: bool) -> None:
    """Show a bearer grant (and write its token).

    \b
    Examples:
      sactl bearer show 3f1e… --out bearer.bin
    """
    grant = obj.run(lambda c: c.bearer_grant_get(grant_id))
    if out:
        _write(out, token_file_bytes(grant.token.bearer_token(), json_form=as_json))
    _print(as_json, grant.raw, lambda: _fields(grant.raw, _GRANT_COLUMNS))


@bearer.command("revoke")
@click.argument("grant_id")
@json_option
@pass_context
def bearer_revoke(obj: Context, grant_id: str, as_json: bool) -> None:
    """Revoke a bearer grant.

    \b
    Examples:
      sactl bearer revoke 3f1e…
    """
    grant = obj.run(lambda c: c.bearer_grant_revoke(grant_id))
    _print(as_json, grant.raw, lambda: _fields(grant.raw, _GRANT_COLUMNS))


# -- trade, introspect, revoke, verify -----------------------------------------------------------


@cli.command()
@click.option("--from", "source", type=click.Path(exists=True, dir_okay=False), help="Token file.")
@click.option("--token", "text", help="A delegation token (sa1.…) given inline.")
@click.option("--scope", help="Narrower verbs, space-separated.")
@click.option("--audience")
@key_options
@click.option("--out", type=click.Path(dir_okay=False), help="Write the access token here.")
@json_option
@pass_context
def trade(
    obj: Context,
    source: str | None,
    text: str | None,
    scope: str | None,
    audience: str | None,
    wallet: str | None,
    address: str | None,
    wallet_password_file: str | None,
    wif: str | None,
    pem: str | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Trade a session token for an access token.

    A delegation token trades as it is. A NeoFS token needs a proof of possession of its session
    key: signed by your key (--wallet/--wif/--key), or, for a dynamic session, by the authority
    with the session's key.

    \b
    Examples:
      sactl trade --from delegation.txt
      sactl trade --from token.bin --wallet session-wallet.json
      sactl trade --from dynamic-token.bin --scope GET --out access.jwt
    """
    if (source is None) == (text is None):
        raise click.UsageError("give --from FILE or --token TEXT")
    raw = Path(source).read_bytes() if source else (text or "").encode()
    proof_signer = (
        _signer(obj, wallet, address, wallet_password_file, wif, pem)
        if any(x is not None for x in (wallet, wif, pem))
        else None
    )

    def call(client: Client) -> Any:
        if raw.strip().startswith(b"sa1."):
            subject = raw.strip().decode()
            return client.trade(subject_token=subject, scope=scope, audience=audience)
        token = token_file_read(raw, NeoFSSessionToken)
        session_id = str(uuid.UUID(bytes=token.body.id))
        if proof_signer is not None:
            proof = Client.proof(session_id, proof_signer)
        else:
            verb, container = _verb_and_container(token)
            proof = client.proof_by_authority(session_id, verb=verb, container=container)
        subject = base64.b64encode(token.encode()).decode()
        return client.trade(subject_token=subject, scope=scope, audience=audience, proof=proof)

    result = obj.run(call)
    if out:
        _write(out, result.access_token.encode() + b"\n")
        os.chmod(out, 0o600)
    _print(
        as_json,
        result.raw,
        lambda: _fields(result.raw, ("access_token", "token_type", "expires_in", "scope")),
    )


def _verb_and_container(token: NeoFSSessionToken) -> tuple[str, str | None]:
    context = token.body.context
    if isinstance(context, ObjectContext):
        cid = str(context.container) if context.container else None
        return ObjectVerb(context.verb).name, cid
    if isinstance(context, ContainerContext):
        cid = str(context.container_id) if context.container_id else None
        return ContainerVerb(context.verb).name, cid
    raise click.UsageError("the token has no context")


@cli.command()
@click.argument("token")
@json_option
@pass_context
def introspect(obj: Context, token: str, as_json: bool) -> None:
    """Introspect a token (RFC 7662): is it active, and what does it carry?

    \b
    Examples:
      sactl introspect eyJhbGciOi…
      sactl introspect sa1.… --json
    """
    result = obj.run(lambda c: c.introspect(token))
    _print(as_json, result.raw, lambda: _fields(result.raw, sorted(result.raw)))


@cli.command()
@click.argument("token")
@pass_context
def revoke(obj: Context, token: str) -> None:
    """Revoke a token (RFC 7009).

    \b
    Examples:
      sactl revoke eyJhbGciOi…
    """
    obj.run(lambda c: c.revoke(token))
    click.echo("Revoked.")


@cli.command()
@click.option("--verb", required=True)
@click.option("--container", required=True)
@click.option("--kind", type=click.Choice(["object", "container"]), default="object")
@click.option("--object", "object_id")
@click.option("--session-token", type=click.Path(exists=True, dir_okay=False))
@click.option("--bearer-token", type=click.Path(exists=True, dir_okay=False))
@click.option("--requester-key", help="Hex of the requester's compressed key.")
@click.option("--requester-account", help="The requester's owner id (base58).")
@click.option("--header", "headers", multiple=True, help="A request header KEY=VALUE.")
@json_option
@pass_context
def verify(
    obj: Context,
    verb: str,
    container: str,
    kind: str,
    object_id: str | None,
    session_token: str | None,
    bearer_token: str | None,
    requester_key: str | None,
    requester_account: str | None,
    headers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Ask the policy decision point: may this request proceed with these tokens?

    \b
    Examples:
      sactl verify --verb GET --container 7Hg… --session-token token.bin --requester-key 02ab…
      sactl verify --verb GET --container 7Hg… --bearer-token bearer.bin --json
    """
    request_headers = {}
    for header in headers:
        key, sep, value = header.partition("=")
        if not sep:
            raise click.UsageError(f"--header needs KEY=VALUE, got {header!r}")
        request_headers[key] = value
    session = (
        token_file_read(Path(session_token).read_bytes(), NeoFSSessionToken)
        if session_token
        else None
    )
    bearer = token_file_read(Path(bearer_token).read_bytes(), BearerToken) if bearer_token else None
    decision = obj.run(
        lambda c: c.verify(
            verb=verb,
            container=container,
            kind=kind,
            object=object_id,
            session_token=session,
            bearer_token=bearer,
            requester_key=requester_key,
            requester_account=requester_account,
            request_headers=request_headers or None,
        )
    )
    _print(
        as_json,
        decision.raw,
        lambda: click.echo(f"{decision.decision}: {decision.reason}"),
    )


# -- eACL tables, containers, epoch ---------------------------------------------------------------


@cli.group()
def eacl() -> None:
    """eACL tables: rule syntax in, NeoFS JSON out."""


@eacl.command("create")
@click.option("--name", required=True)
@click.option("--rule", "rules", multiple=True, required=True, help="'deny get others'…")
@click.option("--container")
@click.option("--owner")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the NeoFS JSON table here.")
@pass_context
def eacl_create(
    obj: Context,
    name: str,
    rules: tuple[str, ...],
    container: str | None,
    owner: str | None,
    out: str | None,
) -> None:
    """Store an eACL table written as rules; prints its id (stderr) and NeoFS JSON (stdout).

    \b
    Examples:
      sactl eacl create --name public-read --container 7Hg… \\
          --rule 'allow get others' --rule 'deny put others'
    """
    table = obj.run(
        lambda c: c.eacl_table_create(
            name=name, rules=list(rules), container=container, owner=owner
        )
    )
    document = json.dumps(table.table, indent=2)
    if out:
        Path(out).write_text(document + "\n")
    click.echo(f"eACL table {table.id}", err=True)
    click.echo(document)


@eacl.command("show")
@click.argument("table_id")
@click.option("--rules", "as_rules", is_flag=True, help="Print the rules instead of NeoFS JSON.")
@pass_context
def eacl_show(obj: Context, table_id: str, as_rules: bool) -> None:
    """Print a stored eACL table as NeoFS JSON (or as rules).

    \b
    Examples:
      sactl eacl show 3f1e… > table.json
      sactl eacl show 3f1e… --rules
    """
    table = obj.run(lambda c: c.eacl_table_get(table_id))
    click.echo("\n".join(table.rules) if as_rules else json.dumps(table.table, indent=2))


@cli.group()
def container() -> None:
    """Containers."""


@container.command("list")
@json_option
@pass_context
def container_list(obj: Context, as_json: bool) -> None:
    """List the containers you may see.

    \b
    Examples:
      sactl container list
    """
    rows = [c.raw for c in obj.run(lambda c: c.container_list()).results]
    _print(as_json, rows, lambda: _table(rows, ("container_id", "owner", "name", "basic_acl")))


@cli.command()
@json_option
@pass_context
def epoch(obj: Context, as_json: bool) -> None:
    """Print the authority's current epoch.

    \b
    Examples:
      sactl epoch
      sactl epoch --json
    """
    result = obj.sdk().epoch()
    _print(as_json, result.raw, lambda: click.echo(str(result.epoch)))


def main() -> None:
    cli(prog_name="sactl")
