"""Every sactl command against a live authority, as a user runs them: output, files, exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tokens.wire.bearer import BearerBody, BearerToken
from tokens.wire.eacl import Table
from tokens.wire.eacl_rules import parse_rules
from tokens.wire.ids import ContainerID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.offline import token_file_bytes
from tokens.wire.session import SessionBody, SessionToken
from tokens.wire.signature import SoftwareSigner
from tokens.wire.token import Check
from tokens.wire.wallet import ScryptParameters, wallet_create, wif_from_signer

ROOT = Path(__file__).resolve().parents[2]


def _ok(result):
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result


def test_epoch_and_container_list(sactl, authority):
    assert int(_ok(sactl("epoch")).stdout) >= 0
    assert json.loads(_ok(sactl("epoch", "--json")).stdout)["duration"] > 0
    table = _ok(sactl("container", "list")).stdout.splitlines()
    assert table[0].split()[:3] == ["CONTAINER_ID", "OWNER", "NAME"]
    assert table[1].split()[0] == authority.container
    rows = json.loads(_ok(sactl("container", "list", "--json")).stdout)
    assert [row["container_id"] for row in rows] == [authority.container]


def test_delegation_session_lifecycle_and_trade(sactl, authority, tmp_path):
    out = tmp_path / "delegation.txt"
    created = json.loads(
        _ok(
            sactl(
                "session", "create", "--verbs", "GET,HEAD", "--container", authority.container,
                "--out", str(out), "--json",
            )
        ).stdout
    )  # fmt: skip
    assert out.read_text().strip() == created["token"] and stat.S_IMODE(out.stat().st_mode) == 0o600
    listing = _ok(sactl("session", "list")).stdout
    assert created["id"] in listing and "GET,HEAD" in listing
    assert f"id:             {created['id']}" in _ok(sactl("session", "show", created["id"])).stdout
    renewed = json.loads(_ok(sactl("session", "renew", created["id"], "--json")).stdout)
    assert renewed["id"] == created["id"]
    traded = json.loads(_ok(sactl("trade", "--from", str(out), "--scope", "GET", "--json")).stdout)
    assert traded["scope"] == "GET"
    introspected = json.loads(_ok(sactl("introspect", traded["access_token"], "--json")).stdout)
    assert introspected["active"] is True
    assert _ok(sactl("revoke", traded["access_token"])).stdout.strip() == "Revoked."
    assert "active:         False" in _ok(sactl("introspect", traded["access_token"])).stdout
    cancelled = json.loads(_ok(sactl("session", "cancel", created["id"], "--json")).stdout)
    assert cancelled["state"] == "cancelled"
    refused = sactl("trade", "--token", created["token"])
    assert refused.exit_code == 1 and "conflict" in refused.stderr, refused.output


def test_static_session_writes_a_binary_token_by_default_and_json_on_request(
    sactl, authority, tmp_path
):
    party = SoftwareSigner()
    for name, as_json in (("static.bin", False), ("static.json", True)):
        out = tmp_path / name
        args = [
            "session", "create", "--static", "--session-key", party.public_key().hex(),
            "--verbs", "PUT", "--container", authority.container, "--out", str(out),
        ] + (["--json"] if as_json else [])  # fmt: skip
        _ok(sactl(*args))
        data = out.read_bytes()
        token = SessionToken.from_json_text(data) if as_json else SessionToken.decode(data)
        assert token.check() is Check.OK
    verdict = _ok(
        sactl(
            "verify", "--verb", "PUT", "--container", authority.container,
            "--session-token", str(tmp_path / "static.bin"), "--requester-key", party.public_key().hex(),
        )
    )  # fmt: skip
    assert verdict.stdout.strip() == "allow: allowed"


def test_dynamic_session_completed_by_sactl_trades_and_signs(sactl, authority, tmp_path):
    blank, token = tmp_path / "blank.json", tmp_path / "token.bin"
    created = json.loads(
        _ok(sactl("session", "create", "--dynamic", "--out", str(blank), "--json")).stdout
    )
    assert SessionToken.from_json_text(blank.read_bytes()).signature is None
    done = _ok(
        sactl(
            "session", "complete", "--from", str(blank), "--verbs", "PUT",
            "--container", authority.container, "--out", str(token),
        )
    )  # fmt: skip
    assert "Completed session" in done.stdout
    signed = SessionToken.decode(token.read_bytes())
    assert signed.check() is Check.OK and signed.body.session_key.hex() == created["session_key"]
    session_id = created["id"]
    assert done.stdout.strip() == f"Completed session {session_id}."
    traded = json.loads(_ok(sactl("trade", "--from", str(token), "--json")).stdout)
    assert traded["scope"] == "PUT"
    payload = tmp_path / "header.bin"
    payload.write_bytes(b"object header")
    signature = json.loads(
        _ok(
            sactl(
                "session", "sign", session_id, "--verb", "PUT", "--container", authority.container,
                "--data-file", str(payload), "--json",
            )
        ).stdout
    )  # fmt: skip
    assert signature["key"] == created["session_key"]


def test_static_token_signed_offline_with_a_nep6_wallet_imports_and_verifies(
    sactl, authority, tmp_path
):
    wallet_key = SoftwareSigner()
    wallet = tmp_path / "wallet.json"
    wallet.write_text(
        wallet_create(wallet_key, "wallet-pw", scrypt=ScryptParameters(n=16, r=8, p=1)).to_json()
    )
    owner = authority.owner
    owner.signs_own_tokens = True
    owner.neofs_owner_id = str(OwnerID.from_public_key(wallet_key.public_key()))
    owner.save()
    epoch = int(_ok(sactl("epoch")).stdout)
    party = SoftwareSigner()
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_bytes(
        token_file_bytes(
            SessionToken(
                SessionBody(
                    id=os.urandom(16),
                    lifetime=Lifetime(exp=epoch + 5, nbf=epoch, iat=epoch),
                    session_key=party.public_key(),
                )
            ),
            json_form=True,
        )
    )
    signed = tmp_path / "signed.bin"
    result = _ok(
        sactl(
            "util", "sign", "session-token", "--from", str(unsigned), "--to", str(signed),
            "--wallet", str(wallet), "--verbs", "GET", "--container", authority.container,
            env={"SA_WALLET_PASSWORD": "wallet-pw"},
        )
    )  # fmt: skip
    assert "Signed session token" in result.stderr
    imported = json.loads(_ok(sactl("session", "import", "--from", str(signed), "--json")).stdout)
    assert imported["kind"] == "static" and imported["verbs"] == ["GET"]
    verdict = _ok(
        sactl(
            "verify", "--verb", "GET", "--container", authority.container,
            "--session-token", str(signed), "--requester-key", party.public_key().hex(),
        )
    )  # fmt: skip
    assert verdict.stdout.strip() == "allow: allowed"
    wrong = sactl(
        "util", "sign", "session-token", "--from", str(unsigned), "--to", str(signed),
        "--wallet", str(wallet), "--verbs", "GET", "--container", authority.container,
        env={"SA_WALLET_PASSWORD": "not-it"},
    )  # fmt: skip
    assert wrong.exit_code == 1 and "password" in wrong.stderr


def test_util_sign_bearer_token(sactl, authority, tmp_path):
    owner = SoftwareSigner()
    source, target = tmp_path / "bearer.json", tmp_path / "bearer.bin"
    body = BearerBody(
        eacl_table=Table(
            container_id=ContainerID.from_string(authority.container, "c"),
            records=parse_rules("allow get others"),
        ),
        lifetime=Lifetime(exp=10**6),
    )
    source.write_bytes(token_file_bytes(BearerToken(body), json_form=True))
    _ok(
        sactl(
            "util",
            "sign",
            "bearer-token",
            "--from",
            str(source),
            "--to",
            str(target),
            "--wif",
            wif_from_signer(owner),
        )
    )
    token = BearerToken.decode(target.read_bytes())
    assert token.check() is Check.OK
    assert token.body.issuer == OwnerID.from_public_key(owner.public_key())


def test_bearer_create_list_show_revoke(sactl, authority, tmp_path):
    out = tmp_path / "bearer.bin"
    grant = json.loads(
        _ok(
            sactl(
                "bearer", "create", "--container", authority.container,
                "--rule", "allow get others", "--out", str(out), "--json",
            )
        ).stdout
    )  # fmt: skip
    assert BearerToken.from_json_text(out.read_bytes()).check() is Check.OK  # --json: NeoFS JSON
    assert grant["id"] in _ok(sactl("bearer", "list")).stdout
    binary = tmp_path / "again.bin"
    _ok(sactl("bearer", "show", grant["id"], "--out", str(binary)))
    assert BearerToken.decode(binary.read_bytes()).check() is Check.OK
    revoked = json.loads(_ok(sactl("bearer", "revoke", grant["id"], "--json")).stdout)
    assert revoked["revoked_at"]


def test_eacl_create_takes_rules_and_prints_neofs_json(sactl, authority, tmp_path):
    out = tmp_path / "table.json"
    created = _ok(
        sactl(
            "eacl", "create", "--name", "public-read", "--container", authority.container,
            "--rule", "allow get others", "--rule", "deny put others", "--out", str(out),
        )
    )  # fmt: skip
    document = json.loads(created.stdout)
    assert Table.from_json(document, "table").records == parse_rules(
        "allow get others\ndeny put others"
    )
    assert json.loads(out.read_text()) == document
    table_id = created.stderr.split()[-1]
    assert json.loads(_ok(sactl("eacl", "show", table_id)).stdout) == document
    assert _ok(sactl("eacl", "show", table_id, "--rules")).stdout.splitlines() == [
        "allow get others",
        "deny put others",
    ]


def test_exit_codes(sactl, authority, tmp_path):
    usage = sactl("session", "create", "--dynamic", "--static")
    assert usage.exit_code == 64 and usage.stderr.count("\n") == 1
    assert sactl("no-such-command").exit_code == 64
    unreadable = sactl("--password-file", str(tmp_path / "missing"), "session", "list")
    assert unreadable.exit_code == 66 and "password file" in unreadable.stderr
    down = sactl("--url", "http://127.0.0.1:9", "epoch")
    assert down.exit_code == 69 and down.stderr.startswith("sactl: server unavailable")
    nobody = sactl("session", "list", env={"SA_CLIENT_ID": "", "SA_CLIENT_SECRET": ""})
    assert nobody.exit_code == 77 and "authentication missing" in nobody.stderr
    denied = sactl("session", "list", env={"SA_CLIENT_SECRET": "wrong"})
    assert denied.exit_code == 77 and "authentication denied" in denied.stderr
    missing = sactl("session", "show", "00000000-0000-0000-0000-000000000000")
    assert missing.exit_code == 1 and missing.stderr.startswith("sactl: not_found")


def test_every_command_has_help_with_examples(sactl):
    from tokens.client.cli import cli

    def walk(group, path):
        for name, command in group.commands.items():
            yield [*path, name], command
            if hasattr(command, "commands"):
                yield from walk(command, [*path, name])

    for path, command in walk(cli, []):
        if hasattr(command, "commands"):
            continue
        result = sactl(*path, "--help")
        assert result.exit_code == 0 and "Examples:" in result.stdout, path


def _process(args, env, **kwargs):
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tokens.client", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, **kwargs,
    )  # fmt: skip


def test_sactl_runs_as_a_real_process(authority, tmp_path):
    env = {**os.environ, "SA_URL": authority.url, "SA_TOKEN_PATH": str(tmp_path / "t")}
    for name in ("SA_PASSWORD", "SA_TOKEN", "SA_CLIENT_ID", "SA_CLIENT_SECRET"):
        env.pop(name, None)
    epoch = _process(["epoch"], env)
    assert epoch.returncode == 0 and epoch.stdout.strip().isdigit()
    refused = _process(["session", "list"], env, stdin=subprocess.DEVNULL)
    assert refused.returncode == 77 and refused.stderr.startswith("sactl: authentication missing")
    assert _process(["session", "create"], env).returncode == 64
