"""Hand-written SELECTs for the few hot paths where compiling an ORM query costs more than running
it. Measured for the booking confirmation (issue 12): Django took 0.9 ms to compile its query and
Postgres 0.16 ms to run it, in a task that sends a whole email in about 6 ms.

`Columns` names some fields of one model under a table alias, writes their part of the SELECT list,
and turns their part of a row back into a model instance as the ORM does (`Model.from_db`, after
the database's converters), so templates and helpers get the models they always get."""

from __future__ import annotations

from functools import cached_property

from django.db import connection
from django.db.models import Model


class Columns:
    """`field_names` of `model` (every column if none are named) as table `alias`."""

    def __init__(self, model: type[Model], alias: str, *field_names: str):
        self.model = model
        self.alias = alias
        wanted = {model._meta.get_field(name) for name in field_names}
        # In the model's own order, which `Model.from_db` expects.
        self.fields = [field for field in model._meta.concrete_fields if not wanted or field in wanted]
        if model._meta.pk not in self.fields:
            raise ValueError(f"{model.__name__} columns must include its primary key")
        self.attnames = [field.attname for field in self.fields]

    @property
    def table(self) -> str:
        """`table alias`, for FROM and JOIN."""
        return f"{connection.ops.quote_name(self.model._meta.db_table)} {self.alias}"

    def __str__(self) -> str:
        """This model's part of the SELECT list."""
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(field.column)}" for field in self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @cached_property
    def _converters(self) -> list[tuple[int, list, object]]:
        """What the database's backend applies to each column's raw value (SQLite's booleans and
        datetimes, say; nothing for most columns on Postgres)."""
        found = []
        for position, field in enumerate(self.fields):
            column = field.get_col(self.alias)
            converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if converters:
                found.append((position, converters, column))
        return found

    def instance(self, values) -> Model | None:
        """The model instance for this model's slice of a row; None where an outer join found none."""
        values = list(values)
        if values[self.attnames.index(self.model._meta.pk.attname)] is None:
            return None
        for position, converters, column in self._converters:
            for convert in converters:
                values[position] = convert(values[position], column, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def split(row, *parts: Columns) -> list[Model | None]:
    """A row of SELECT `parts[0], parts[1], ...` as one instance (or None) per part."""
    instances, start = [], 0
    for part in parts:
        instances.append(part.instance(row[start : start + len(part)]))
        start += len(part)
    return instances


def param(model: type[Model], field_name: str, value):
    """`value` as the database stores `model.field_name` (a UUID is text on SQLite, say)."""
    return model._meta.get_field(field_name).get_db_prep_value(value, connection)


def fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
