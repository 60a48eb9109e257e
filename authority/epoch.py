"""The authority's NeoFS epoch clock: `epoch = floor((now - EPOCH_ORIGIN) / EPOCH_DURATION)`."""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone

from authority.conf import authority_settings


def epoch_at(moment: dt.datetime) -> int:
    elapsed = (moment - authority_settings.epoch_origin).total_seconds()
    return max(0, math.floor(elapsed / authority_settings.EPOCH_DURATION))


def current_epoch() -> int:
    return epoch_at(timezone.now())


def epoch_start(epoch: int) -> dt.datetime:
    return authority_settings.epoch_origin + dt.timedelta(
        seconds=epoch * authority_settings.EPOCH_DURATION
    )


def epochs_for(seconds: float) -> int:
    """How many epochs cover a duration: `ceil(seconds / EPOCH_DURATION)`."""
    return math.ceil(seconds / authority_settings.EPOCH_DURATION)
