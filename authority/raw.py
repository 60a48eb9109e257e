"""Model instances from hand-written SQL, for the hot paths where setting up an ORM query costs
more than its round trip (the trade's one read).

What `Model.objects.raw()` does, without its per-query set-up: the columns' converters (the
backend's and the fields', e.g. SQLite's text UUIDs and datetimes, JSON) are worked out once per
connection and column list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from authority.caches import registry
from authority.state_changes import remembered_row

M = TypeVar("M", bound=Model)
Converter = Callable[[Any], Any]

_converters: WeakKeyDictionary[BaseDatabaseWrapper, dict[tuple[Any, ...], list[Converter]]] = (
    WeakKeyDictionary()
)
registry.attach("authority.row_converters", clear=_converters.clear)


def fetch_instance(
    model: type[M], sql: str, params: Sequence[Any], *, fields: Sequence[str],
    extra: Sequence[str] = (), remembered: bool = False,
) -> M | None:  # fmt: skip
    """The first row of `sql` as a `model` instance, or None.

    The SELECT lists the columns of `fields` (attnames, in this order; the model's other fields
    stay deferred), then one column per name in `extra`, set as plain attributes.
    `remembered`: the row may come from authority.state_changes' memory of the decision point's
    reads (for those reads only: every table they consult announces its writes)."""
    if remembered:
        key = (sql, *(parameter_value(param) for param in params))
        row = remembered_row(key, lambda: _fetch_row(sql, params))
    else:
        row = _fetch_row(sql, params)
    if row is None:
        return None
    db = connections[DEFAULT_DB_ALIAS]
    converters = _row_converters(db, model, tuple(fields))
    values = [convert(value) for convert, value in zip(converters, row, strict=False)]
    instance = model.from_db(db.alias, list(fields), values)
    for name, value in zip(extra, row[len(fields) :], strict=True):
        setattr(instance, name, value)
    return instance


def _fetch_row(sql: str, params: Sequence[Any]) -> Sequence[Any] | None:
    with statement_cursor(connections[DEFAULT_DB_ALIAS]) as cursor:
        cursor.execute(sql, params)
        row: Sequence[Any] | None = cursor.fetchone()
        return row


def parameter_value(param: Any) -> Any:
    """A statement's parameter as compared (and as a key): psycopg's binary wrapper and
    memoryviews as bytes."""
    inner = getattr(param, "obj", param)
    return bytes(inner) if isinstance(inner, memoryview | bytearray) else inner


def field_value(model: type[Model], attname: str, value: Any) -> Any:
    """A value of `model.attname` as read by hand-written SQL, as the field gives it (SQLite's
    text datetimes as datetimes, say): for columns read under another name."""
    db = connections[DEFAULT_DB_ALIAS]
    convert = _row_converters(db, model, (attname,))[0]
    return convert(value)


def statement_cursor(db: BaseDatabaseWrapper) -> Any:
    """A cursor for a hot path's fixed statement: prepared on the server where the backend can
    (authority.db.postgresql), else the usual one."""
    prepared = getattr(db, "prepared_cursor", None)
    return prepared() if prepared is not None else db.cursor()


def _row_converters(
    db: BaseDatabaseWrapper, model: type[Model], fields: tuple[str, ...]
) -> list[Converter]:
    by_columns = _converters.setdefault(db, {})
    found = by_columns.get((model, fields))
    if found is None:
        found = by_columns[(model, fields)] = [_converter(db, model, name) for name in fields]
    return found


def _converter(db: BaseDatabaseWrapper, model: type[Model], attname: str) -> Converter:
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    column = field.get_col(model._meta.db_table)
    steps = db.ops.get_db_converters(column) + field.get_db_converters(db)

    def convert(value: Any) -> Any:
        for step in steps:
            value = step(value, column, db)
        return value

    return convert
