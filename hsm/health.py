"""Readiness of the key store, for /readyz (registered when the app is ready)."""

from __future__ import annotations

from authority.health import readiness_check
from hsm.keystore import keystore


@readiness_check("hsm")
def hsm_ready() -> dict[str, object]:
    status = keystore().status()
    report: dict[str, object] = {
        "backend": status["backend"],
        "hardware_backed": status["hardware_backed"],
    }
    if not status["hardware_backed"]:
        report["warning"] = "not hardware-backed"
    return report
