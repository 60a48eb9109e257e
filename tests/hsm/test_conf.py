"""Which key store runs: named by import path (HSM_KEYSTORE, or HSM_BACKEND's names), else chosen
automatically; and a fresh clone's `hsm_init` makes the project's token under its var/."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

import hsm.conf
from hsm.conf import PKCS11_KEYSTORE, SOFTWARE_KEYSTORE, hsm_config
from hsm.keystore import Instrumented, keystore, keystore_class, reset_keystore
from hsm.keystore.software import SoftwareKeyStore

ROOT = Path(__file__).resolve().parents[2]


def test_the_key_store_class_is_named_by_import_path(settings):
    try:
        with override_settings(
            AUTHORITY={
                **settings.AUTHORITY,
                "HSM_KEYSTORE": "hsm.keystore.software.SoftwareKeyStore",
                "HSM_SOFTWARE_KEY": "test master key",
            }
        ):
            reset_keystore()
            store = keystore()
            assert isinstance(store, Instrumented)  # timed and counted (authority.metrics)
            assert isinstance(store.store, SoftwareKeyStore) and not store.hardware_backed
    finally:
        reset_keystore()
        assert keystore().hardware_backed  # the test token's store again, for the other tests


@pytest.mark.parametrize(
    ("option", "path"), [("pkcs11", PKCS11_KEYSTORE), ("software", SOFTWARE_KEYSTORE)]
)
def test_hsm_backend_names_stand_for_the_two_stores(settings, option, path):
    settings.AUTHORITY = {**settings.AUTHORITY, "HSM_KEYSTORE": option}
    assert hsm_config().keystore == path


def test_an_unknown_key_store_is_refused_clearly(settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "HSM_KEYSTORE": "hsm.keystore.NoSuchStore"}
    with pytest.raises(ImproperlyConfigured, match="HSM_BACKEND must be pkcs11, software or"):
        keystore_class(hsm_config())


def test_without_a_choice_pkcs11_when_a_module_exists(settings):
    settings.AUTHORITY = {"HSM_MODULE": "/usr/lib/softhsm/libsofthsm2.so"}
    assert hsm_config().keystore == PKCS11_KEYSTORE


def test_without_a_module_software_in_development_only(settings, monkeypatch):
    monkeypatch.setattr(hsm.conf, "SOFTHSM_MODULE", "/nonexistent/libsofthsm2.so")
    settings.AUTHORITY = {}
    assert hsm_config().keystore == SOFTWARE_KEYSTORE
    settings.AUTHORITY = {"PRODUCTION": True}
    with pytest.raises(ImproperlyConfigured, match="No PKCS#11 module"):
        hsm_config()


def test_a_fresh_clone_initialises_its_token_under_its_var_dir(tmp_path):
    """Neither SOFTHSM2_CONF nor a PIN set: hsm_init writes the configuration, the token and the
    PINs under SA_VAR_DIR, and the key store finds them there in another process."""
    var_dir = tmp_path / "var"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HSM_", "SOFTHSM2_"))},
        "SA_VAR_DIR": str(var_dir),
        "HSM_TOKEN_LABEL": "fresh-clone",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    init = manage("hsm_init")
    assert init.returncode == 0, init.stderr
    assert (var_dir / "softhsm" / "softhsm2.conf").is_file()
    assert any((var_dir / "softhsm" / "tokens").iterdir())
    for pin in ("user.pin", "so.pin"):
        assert stat.S_IMODE((var_dir / "hsm" / pin).stat().st_mode) == 0o600
    status = manage("hsm_status")
    assert status.returncode == 0, status.stderr
    assert '"token_label": "fresh-clone"' in status.stdout
    assert "exists" in manage("hsm_init").stdout  # idempotent
