"""Client sessions through the SDK and sactl (flow 8, seed 003): login writes the session file,
every call rolls the token in it, logout and reset-key end it; the password retry loop on a
pseudo-terminal; 8 processes × 50 calls through one session file."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from authority.models import Role
from tokens.client import (
    AuthDenied,
    AuthFormat,
    AuthMissing,
    Client,
    ClientToken,
    Forbidden,
    NotFound,
    Password,
    SessionFile,
)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


@pytest.fixture
def alice(authority, member):
    return member(authority.owner, Role.OPERATOR)


@pytest.fixture
def user_sdk(authority):
    # No write-back pacing, so that each call's fresh token shows in the file.
    client = Client(
        authority.url, session_file=SessionFile(authority.token_path, refresh_interval=0)
    )
    yield client
    client.close()


def _env(authority, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SA_")}
    return {**env, "SA_URL": authority.url, "SA_TOKEN_PATH": str(authority.token_path), **extra}


def test_login_writes_the_file_and_every_call_rolls_the_token(user_sdk, authority, alice):
    login = user_sdk.login(username=alice.username, password=PASSWORD)
    assert login.token.startswith("sac1.") and login.user == alice.username
    assert user_sdk.session_file.read() == login.token
    assert stat.S_IMODE(authority.token_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(authority.token_path.parent.stat().st_mode) == 0o700
    user_sdk.session_list()
    rolled = user_sdk.session_file.read()
    assert rolled != login.token and rolled.startswith("sac1.")
    # An error answer to an authenticated call rolls the token too.
    with pytest.raises(NotFound):
        user_sdk.session_get("00000000-0000-0000-0000-000000000000")
    assert user_sdk.session_file.read() not in (rolled, None)


def test_a_password_on_a_call_overrides_the_file_and_leaves_a_fresh_token(authority, alice):
    session_file = SessionFile(authority.token_path)
    session_file.write("sac1.stale")
    with Client(
        authority.url, credentials=Password(alice.username, PASSWORD), session_file=session_file
    ) as c:
        assert c.session_list().count == 0
    assert session_file.read().startswith("sac1.") and session_file.read() != "sac1.stale"


def test_logout_ends_the_token_and_clears_the_file(user_sdk, alice):
    login = user_sdk.login(username=alice.username, password=PASSWORD)
    user_sdk.logout()
    assert user_sdk.session_file.read() is None
    with Client(
        user_sdk.url,
        credentials=ClientToken(login.token),
        session_file=SessionFile(user_sdk.session_file.path),
    ) as old:
        with pytest.raises(AuthDenied):
            old.session_list()


def test_reset_key_ends_every_users_tokens(authority, alice, member, django_user_model, tmp_path):
    bob = member(authority.owner, Role.OPERATOR)
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    tokens = {}
    for user in (alice, bob, root):
        with Client(authority.url, session_file=SessionFile(tmp_path / user.username / "t")) as c:
            tokens[user.username] = c.login(username=user.username, password=PASSWORD).token
    with Client(
        authority.url,
        session_file=SessionFile(tmp_path / "alice-2" / "t"),
        credentials=ClientToken(tokens[alice.username]),
    ) as c:
        with pytest.raises(Forbidden) as refused:  # a member is no superuser
            c.reset_key()
        assert refused.value.status == 403
    with Client(authority.url, session_file=SessionFile(tmp_path / "root" / "t")) as c:
        c.reset_key()
    for name, token in tokens.items():
        with Client(
            authority.url,
            credentials=ClientToken(token),
            session_file=SessionFile(tmp_path / name / "t"),
        ) as c:
            with pytest.raises(AuthDenied):
                c.session_list()


def test_wrong_password_is_denied_and_a_malformed_header_is_auth_format(user_sdk, authority, alice):
    with pytest.raises(AuthDenied) as caught:
        user_sdk.login(username=alice.username, password="wrong")
    assert caught.value.status == 401 and caught.value.code == "auth_denied"
    with Client(
        authority.url, credentials=ClientToken("two words"), session_file=user_sdk.session_file
    ) as c:
        with pytest.raises(AuthFormat) as malformed:
            c.session_list()
    assert malformed.value.status == 400
    with pytest.raises(AuthMissing):
        user_sdk.session_list()  # nothing in the file


def test_cli_login_logout_and_exit_codes(sactl, authority, alice, tmp_path):
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    base = {"SA_CLIENT_ID": "", "SA_CLIENT_SECRET": "", "SA_USERNAME": alice.username}
    result = sactl("--password-file", str(password_file), "login", env=base)
    assert result.exit_code == 0 and result.stdout.startswith(
        f"Logged in as {alice.username} until"
    )
    assert authority.token_path.read_text().startswith("sac1.")
    assert sactl("session", "list", env=base).exit_code == 0  # from the session file
    assert sactl("logout", env=base).stdout.strip() == "Logged out."
    assert not authority.token_path.exists()
    denied = sactl("login", env={**base, "SA_PASSWORD": "wrong"})
    assert denied.exit_code == 77 and denied.stderr.startswith("sactl: authentication denied")
    assert sactl("login", env=base).exit_code == 77  # no password and no terminal: no prompt
    malformed = sactl("session", "list", env={**base, "SA_TOKEN": "sac1.a b"})
    assert malformed.exit_code == 64 and "malformed" in malformed.stderr


def test_retry_loop_on_a_terminal(authority, alice):
    env = _env(authority, SA_USERNAME=alice.username)
    child = pexpect.spawn(
        sys.executable, ["-m", "tokens.client", "session", "list"], env=env, cwd=str(ROOT),
        timeout=60, encoding="utf-8",
    )  # fmt: skip
    transcript = io.StringIO()
    child.logfile_read = transcript  # everything the terminal shows
    child.expect(f"Password for {alice.username}: ")
    child.sendline("wrong password")
    child.expect("Wrong password; try again")
    child.expect(f"Password for {alice.username}: ")
    child.sendline(PASSWORD)
    child.expect("ID +KIND +STATE")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "wrong password" not in transcript.getvalue()  # no echo
    assert PASSWORD not in transcript.getvalue()
    assert authority.token_path.read_text().startswith("sac1.")


def test_no_retry_loop_when_unattended(authority, alice):
    # SA_PASSWORD set: exit 77 at once, even on a terminal.
    env = _env(authority, SA_USERNAME=alice.username, SA_PASSWORD="wrong password")
    child = pexpect.spawn(
        sys.executable, ["-m", "tokens.client", "session", "list"], env=env, cwd=str(ROOT),
        timeout=60, encoding="utf-8",
    )  # fmt: skip
    index = child.expect(["Password for", pexpect.EOF])
    child.close()
    assert index == 1 and child.exitstatus == 77
    # No terminal: exit 77 at once.
    plain = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tokens.client", "session", "list"],
        env=_env(authority, SA_USERNAME=alice.username), cwd=ROOT, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert plain.returncode == 77 and "Password" not in plain.stdout + plain.stderr


_WORKER = """
import sys
from tokens.client import Client, SessionFile
client = Client(sys.argv[1], session_file=SessionFile(sys.argv[2]), max_retries=0)
print("ready", flush=True)
sys.stdin.readline()  # all start together, once the test has logged in
failures = 0
for _ in range(int(sys.argv[3])):
    try:
        client.session_list()
    except Exception as exc:
        failures += 1
        print(type(exc).__name__, exc, file=sys.stderr)
print(failures)
"""


def test_eight_processes_fifty_calls_each_through_one_session_file(
    user_sdk, authority, alice, settings
):
    # A short idle timeout: a token left unrefreshed in the file (a dropped or lost write) would
    # be refused within the run.
    settings.AUTHORITY = {**settings.AUTHORITY, "CLIENT_TOKEN_IDLE_TIMEOUT": 5}
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", _WORKER, authority.url, str(authority.token_path), "50"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(authority),
        )  # fmt: skip
        for _ in range(8)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    user_sdk.login(username=alice.username, password=PASSWORD)
    for worker in workers:  # all at once
        worker.stdin.write("go\n")
        worker.stdin.close()
    results = [(worker.stdout.read().strip(), worker.stderr.read()) for worker in workers]
    for worker in workers:
        worker.wait(60)
    assert results == [("0", "")] * 8
    token = authority.token_path.read_text()
    assert token.startswith("sac1.") and token.endswith("\n") and token.count("\n") == 1
    assert stat.S_IMODE(authority.token_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(authority.token_path.parent.stat().st_mode) == 0o700
    user_sdk.session_list()  # the token left in the file still works
