"""SELECTs compiled once from a queryset and run again with new values.

For the few statements where building the SQL costs more than running it: the ones that run
while an event row is locked, the booking page's reads and the confirmation email's read
(bench/RESULTS.md has the measurements). The ORM still writes the SQL, so its columns, joins,
tenant scoping and locking clause are the queryset's; only the compiling is done once per
database vendor. The rows come back as the model instances the queryset would give (through
`Model.from_db`, each value through its field's `to_python`). Everything else uses querysets.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, F, Field, JSONField, Model, QuerySet
from django.utils import timezone

# A part: (model, the relation's path from the queryset's model, the fields to read).
Part = tuple[type[Model], str, Sequence[str]]


class Prepared:
    """`build(**placeholders)` compiled once per database vendor; `fetch(**values)` runs it.

    The placeholders are made-up values of each parameter's type (ints, strings or UUIDs),
    distinct from one another and from anything else the queryset says, so that their places
    among the compiled parameters can be found and filled with the values of each call.

    Each row comes back as a tuple: the queryset's model instance (only `fields`, if given; the
    others are deferred, as with `only`), then one instance per part (None where an outer join
    found nothing). `parts` reads related rows in the same statement, as `select_related` would,
    also along reverse relations (a row per related row)."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        fields: Sequence[str] = (),
        parts: dict[str, Part] | None = None,
        **placeholders,
    ):
        if len(set(placeholders.values())) != len(placeholders):
            raise ValueError("placeholders must differ from one another")
        self._build = build
        self._fields = fields
        self._parts = parts or {}
        self._placeholders = placeholders
        self._compiled: dict[str, tuple] = {}

    def _compile(self):
        if connection.vendor not in self._compiled:
            queryset = self._build(**self._placeholders)
            model = queryset.model
            loaders = [
                _Loader(
                    model,
                    [
                        f.name
                        for f in model._meta.concrete_fields
                        if not self._fields or f.name in self._fields
                    ],
                )
            ]
            columns = {}
            for name, (part_model, path, names) in self._parts.items():
                loader = _Loader(part_model, names)
                loaders.append(loader)
                columns.update(
                    {f"{name}__{field.name}": F(f"{path}__{field.name}") for field in loader.fields}
                )
            own = [field.attname for field in loaders[0].fields]
            sql, params = queryset.values(*own, **columns).query.sql_with_params()
            slots = [self._slot(value) for value in params]
            if sorted(name for name, _ in slots if name) != sorted(self._placeholders):
                raise ValueError(f"each placeholder must appear once in {sql!r} {params!r}")
            start = 0
            for loader in loaders:
                loader.start, start = start, start + len(loader.fields)
            self._compiled[connection.vendor] = (sql, slots, loaders, [*own, *columns])
        return self._compiled[connection.vendor]

    def _slot(self, value) -> tuple[str | None, object]:
        """(placeholder name, how to give a value the form the database took it in), or (None,
        the constant the queryset put there)."""
        for name, placeholder in self._placeholders.items():
            if type(value) is type(placeholder) and value == placeholder:
                return name, _as_is
            if isinstance(placeholder, uuid.UUID) and value == placeholder.hex:  # a UUID stored as text
                return name, _uuid_hex
        return None, value

    def fetch(self, **values) -> list[tuple]:
        sql, slots, loaders, names = self._compile()
        params = [convert(values[name]) if name else convert for name, convert in slots]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if names is not None:  # the first run: the columns come in the order the loaders read
                described = [connection.introspection.identifier_converter(c[0]) for c in cursor.description]
                if described != names:
                    raise ValueError(f"columns {described} are not {names}")
                self._compiled[connection.vendor] = (sql, slots, loaders, None)
            rows = cursor.fetchall()
        return [tuple(loader.load(row) for loader in loaders) for row in rows]


class _Loader:
    """Some fields of a model, in the model's own order (which `from_db` takes), and how each
    value becomes what the ORM would give: `to_python` (a SQLite boolean, UUID or date in text),
    and datetimes aware in the database's time zone, as Django stores them."""

    def __init__(self, model: type[Model], names: Sequence[str]):
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields if field.name in names]
        if len(self.fields) != len(names) or model._meta.pk not in self.fields:
            raise ValueError(f"{model.__name__}: name concrete fields, its primary key among them")
        if any(isinstance(field, JSONField) for field in self.fields):
            raise ValueError(f"{model.__name__}: JSON fields are not read here")
        self.attnames = [field.attname for field in self.fields]
        self.converters = [_converter(field) for field in self.fields]
        self.start = 0  # where its columns begin in a row
        self.pk_at = self.fields.index(model._meta.pk)

    def load(self, row) -> Model | None:
        values = row[self.start : self.start + len(self.fields)]
        if values[self.pk_at] is None:
            return None
        return self.model.from_db(
            connection.alias,
            self.attnames,
            [convert(value) for convert, value in zip(self.converters, values, strict=True)],
        )


def _converter(field: Field) -> Callable:
    if isinstance(field, DateTimeField) and settings.USE_TZ:

        def aware(value):
            value = field.to_python(value)
            if isinstance(value, datetime.datetime) and timezone.is_naive(value):
                return timezone.make_aware(value, connection.timezone)
            return value

        return aware
    return field.to_python


def _as_is(value):
    return value


def _uuid_hex(value) -> str:
    return uuid.UUID(str(value)).hex
