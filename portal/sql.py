"""SELECTs compiled once from a queryset and run again with new values.

For the few statements where building the SQL costs more than running it (the ones that run
while an event row is locked, and the confirmation email's read; bench/RESULTS.md has the
measurements). The ORM still writes the SQL, so its columns, joins, tenant scoping and locking
clause are the queryset's; only the compiling is done once per database vendor. Rows come back
through `Model.objects.raw`, which makes the instances (with the backend's conversions) as the
ORM does. Everything else uses querysets as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import RawQuerySet


class Prepared:
    """`build(**placeholders)` compiled once per database vendor; `raw(**values)` runs it.

    The placeholders are made-up values of each parameter's type (ints or strings, which the
    database takes as they are), distinct from one another and from anything else the queryset
    says, so that their places among the compiled parameters can be found and filled with the
    values of each call."""

    def __init__(self, build: Callable[..., QuerySet], **placeholders: int | str):
        if len(set(placeholders.values())) != len(placeholders):
            raise ValueError("placeholders must differ from one another")
        self._build = build
        self._placeholders = placeholders
        self._compiled: dict[str, tuple[QuerySet, str, list[tuple[str | None, object]]]] = {}

    def _compile(self):
        if connection.vendor not in self._compiled:
            queryset = self._build(**self._placeholders)
            sql, params = queryset.query.sql_with_params()
            by_value = {value: name for name, value in self._placeholders.items()}
            slots = [
                (by_value[value], None) if type(value) in (int, str) and value in by_value else (None, value)
                for value in params
            ]
            named = [name for name, _ in slots if name]
            if sorted(named) != sorted(self._placeholders):
                raise ValueError(f"each placeholder must appear once in {sql!r} {params!r}")
            self._compiled[connection.vendor] = (queryset, sql, slots)
        return self._compiled[connection.vendor]

    def raw(self, **values: int | str) -> RawQuerySet:
        queryset, sql, slots = self._compile()
        params = [values[name] if name else value for name, value in slots]
        return queryset.model._default_manager.raw(sql, params)
