"""The settings: one object over `AUTHORITY` (defaults written once), and nothing written to disk
or to the environment when they are imported; var/ is made where it is first needed."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from authority.conf import DEFAULTS, AuthoritySettings, authority_settings

ROOT = Path(__file__).resolve().parents[2]
# The README's configuration table, plus SoftHSM2's own variable.
CONFIGURATION_VARIABLES = {
    "DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
    "EPOCH_DURATION", "EPOCH_ORIGIN", "ACCESS_TOKEN_TTL", "SESSION_RENEW_PERIOD",
    "SESSION_MAX_LIFETIME", "AUDIT_KEY", "HSM_BACKEND", "HSM_MODULE", "HSM_TOKEN_LABEL", "HSM_PIN",
    "HSM_PIN_FILE", "HSM_SO_PIN_FILE", "HSM_SOFTWARE_KEY", "ACCESS_TOKEN_ISSUER",
    "ACCESS_TOKEN_AUDIENCE", "THROTTLE_TRADE", "THROTTLE_TOKEN", "THROTTLE_INTROSPECT",
    "SA_VAR_DIR", "PROOF_WINDOW", "AUDIT_RETENTION_DAYS", "SOFTHSM2_CONF",
    "THROTTLE_TRADE_ADDRESS", "THROTTLE_TOKEN_ADDRESS", "THROTTLE_LOGIN", "THROTTLE_LOGIN_ADDRESS",
    "NUM_PROXIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "CONTENT_SECURITY_POLICY",
    "DATA_UPLOAD_MAX_MEMORY_SIZE", "DEBUG",
}  # fmt: skip


def _python(code: str, cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter on the project's settings, with none of the
    configuration variables set but `environment`."""
    clean = {k: v for k, v in os.environ.items() if k not in CONFIGURATION_VARIABLES}
    env = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "authority.settings",
        **environment,
    }
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_importing_the_settings_and_setting_django_up_writes_nothing(tmp_path):
    var_dir = tmp_path / "var"  # does not exist
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = _python(
        "import os, authority.settings, django\n"
        "django.setup()\n"
        "print(os.environ.get('SOFTHSM2_CONF', ''))",
        cwd,
        SA_VAR_DIR=str(var_dir),
    )
    assert result.returncode == 0, result.stderr
    assert not var_dir.exists()
    assert list(cwd.iterdir()) == []
    assert result.stdout.strip() == ""  # the environment is left alone too


def test_authority_holds_only_what_the_environment_sets(tmp_path):
    code = (
        "import json, authority.settings as s\n"
        "print(json.dumps({k: str(v) for k, v in s.AUTHORITY.items()}))"
    )
    assert json.loads(_python(code, tmp_path).stdout) == {}
    result = _python(
        code,
        tmp_path,
        SA_VAR_DIR=str(tmp_path / "state"),
        DJANGO_ENV="development",
        EPOCH_DURATION="300",
        ACCESS_TOKEN_ISSUER="authority.example",
        HSM_BACKEND="software",
        HSM_PIN_FILE="/run/secrets/pin",
    )
    assert json.loads(result.stdout) == {
        "VAR_DIR": str(tmp_path / "state"),
        "PRODUCTION": "False",
        "EPOCH_DURATION": "300",
        "ISSUER": "authority.example",
        "HSM_KEYSTORE": "software",
        "HSM_PIN_FILE": "/run/secrets/pin",
    }


def test_the_object_reads_the_environment_over_the_defaults(tmp_path):
    result = _python(
        "import django\n"
        "django.setup()\n"
        "from authority.conf import authority_settings as a\n"
        "print(a.EPOCH_DURATION, a.ACCESS_TOKEN_TTL, a.ISSUER, a.HSM_PIN_FILE, a.PRODUCTION)",
        tmp_path,
        SA_VAR_DIR=str(tmp_path / "state"),
        EPOCH_DURATION="300",
        ACCESS_TOKEN_ISSUER="authority.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "300", "900", "authority.example", str(tmp_path / "state" / "hsm" / "user.pin"), "False",
    ]  # fmt: skip


def test_every_option_has_one_default_and_a_type():
    assert set(AuthoritySettings.__annotations__) - {"epoch_origin"} == set(DEFAULTS)


def test_pin_files_follow_the_var_dir_unless_set(settings):
    settings.AUTHORITY = {"VAR_DIR": "/srv/authority"}
    assert authority_settings.VAR_DIR == Path("/srv/authority")
    assert authority_settings.HSM_PIN_FILE == "/srv/authority/hsm/user.pin"
    assert authority_settings.HSM_SO_PIN_FILE == "/srv/authority/hsm/so.pin"
    settings.AUTHORITY = {"VAR_DIR": "/srv/authority", "HSM_PIN_FILE": ""}
    assert authority_settings.HSM_PIN_FILE == ""  # set empty: no PIN file, as before


def test_the_development_secret_key_is_written_on_first_use_and_kept(tmp_path):
    var_dir = tmp_path / "var"
    code = (
        "import django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "print(str(settings.SECRET_KEY))"
    )
    first = _python(code, tmp_path, SA_VAR_DIR=str(var_dir))
    assert first.returncode == 0, first.stderr
    # The next start reads the file at import: a plain string, as Django expects.
    second = _python(
        code + "\nprint(type(settings.SECRET_KEY).__name__)", tmp_path, SA_VAR_DIR=str(var_dir)
    )
    key_file = var_dir / "secret_key"
    assert second.stdout.split() == [first.stdout.strip(), "str"]
    assert first.stdout.strip() == key_file.read_text() and len(key_file.read_text()) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in var_dir.iterdir()) == ["secret_key"]  # no draft left behind


def test_the_sqlite_database_folder_is_made_on_connecting(tmp_path):
    var_dir = tmp_path / "var"
    result = _python(
        "import django\n"
        "django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT 1')",
        tmp_path,
        SA_VAR_DIR=str(var_dir),
    )
    assert result.returncode == 0, result.stderr
    assert (var_dir / "authority.sqlite3").is_file()
    _assert_private(var_dir, ["authority.sqlite3"])


def test_the_sqlite_files_are_private_while_in_use(tmp_path):
    var_dir = tmp_path / "var"
    result = _python(
        "import django, os, stat\n"
        "django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE t (x int)')\n"
        f"    for name in sorted(os.listdir({str(var_dir)!r})):\n"
        f"        mode = os.stat(os.path.join({str(var_dir)!r}, name)).st_mode\n"
        "        print(name, oct(stat.S_IMODE(mode)))",
        tmp_path,
        SA_VAR_DIR=str(var_dir),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:-1] == [
        "authority.sqlite3 0o600", "authority.sqlite3-shm 0o600", "authority.sqlite3-wal 0o600",
    ]  # fmt: skip


def _assert_private(var_dir, files):
    """Only this user reads var/: its folders 0700, its files 0600."""
    assert stat.S_IMODE(var_dir.stat().st_mode) == 0o700
    for name in files:
        path = var_dir / name
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, (name, oct(path.stat().st_mode))


def test_an_existing_world_readable_database_is_tightened_on_connecting(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o755)
    (var_dir / "authority.sqlite3").touch(mode=0o644)
    os.chmod(var_dir, 0o755)  # noqa: S103 - the world-readable state an older version left
    os.chmod(var_dir / "authority.sqlite3", 0o644)  # noqa: S103 - likewise
    result = _python(
        "import django\n"
        "django.setup()\n"
        "from django.db import connection\n"
        "connection.ensure_connection()",
        tmp_path,
        SA_VAR_DIR=str(var_dir),
    )
    assert result.returncode == 0, result.stderr
    _assert_private(var_dir, ["authority.sqlite3"])


def test_the_file_system_broker_folders_are_made_when_celery_is_configured(tmp_path):
    var_dir = tmp_path / "var"
    result = _python(
        "import django\n"
        "django.setup()\n"
        "from authority.celery import app\n"
        "print(app.conf.broker_url)",
        tmp_path,
        SA_VAR_DIR=str(var_dir),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "filesystem://"
    for folder in ("broker", "broker-processed", "broker-control"):
        assert (var_dir / folder).is_dir()
    _assert_private(var_dir, ["broker", "broker-processed", "broker-control"])
