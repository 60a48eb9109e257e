"""Celery tasks of the hsm app: thin wrappers over services (the same as the commands)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import ParamSpec, Protocol, TypeVar

from celery import shared_task

from hsm.rotation import keys_rotate_due

P = ParamSpec("P")
R_co = TypeVar("R_co", covariant=True)


class CeleryTask(Protocol[P, R_co]):
    """The part of a Celery task its callers use (celery ships no type information)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> object: ...


def task(name: str) -> Callable[[Callable[P, R_co]], CeleryTask[P, R_co]]:
    """`shared_task(name=…, ignore_result=True)`, typed: the task keeps its function's signature."""
    decorator: Callable[[Callable[P, R_co]], CeleryTask[P, R_co]] = shared_task(
        name=name, ignore_result=True
    )
    return decorator


@task("hsm.rotate_keys")
def rotate_keys() -> dict[str, list[str]]:
    return asdict(keys_rotate_due())
