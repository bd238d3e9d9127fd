"""ORM statements compiled once per process and re-run with new values.

Building and compiling a queryset costs Django milliseconds of Python on every call (the engine's
locking statement with its calendar subqueries took about 3 ms, more than PostgreSQL spent on it).
A :class:`CompiledQuery` compiles its queryset once per database connection, from a builder called
with placeholder values, and keeps the SQL, the positions of the values in its parameters and what
Django needs to turn rows into model instances (``select_related`` objects and annotations
included). Each call then sends the same SQL with the new values and builds the instances as
``QuerySet.__iter__`` does: the same model classes, ``from_db`` (so django-fsm's
ConcurrentTransitionMixin remembers the state the row was read in), the same converters.

On PostgreSQL the statement is also PREPAREd on each server connection the first time it runs
there (``settings.SOPFLOW_PREPARED_STATEMENTS``, on by default) and then sent as ``EXECUTE name(…)``:
the server neither parses nor plans it again (planning the engine's lock took ten times its
execution). The PREPARE is connection set-up, sent on the raw connection like Django's own
``SET`` statements at connect time, so query counts see only the EXECUTE; ``prepared_sql(name)``
gives the statement an EXECUTE names. Prepared statements survive a rolled-back transaction and
go with the connection; they do not suit pgbouncer in transaction mode (turn the setting off).

The SQL is the ORM's: a field added to a model is in the statement at the next process start, and
``select_for_update`` keeps its ``FOR UPDATE OF …`` on PostgreSQL and its absence on SQLite.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.transaction import TransactionManagementError
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Placeholder values the builder is called with; each is found again among the compiled parameters.
# Far outside anything real, so no constant of a statement can be mistaken for one.
# (itertools.count, not a generator: next() on it is safe from several threads.)
_SENTINEL_INTS = itertools.count(-7_370_000_001, -1)
_SENTINEL_DAYS = itertools.count()


def _sentinel(kind: type):
    if kind is dt.date:
        return dt.date(1001, 1, 1) + dt.timedelta(days=next(_SENTINEL_DAYS))
    return next(_SENTINEL_INTS)


_PREPARED_SQL: dict[str, str] = {}


def prepared_sql(name: str) -> str | None:
    """The SQL of the statement PREPAREd as ``name`` in this process (None: no such statement)."""
    return _PREPARED_SQL.get(name)


def _numbered(sql: str) -> str:
    """Django's ``%s`` placeholders as PostgreSQL's ``$1``, ``$2`` … (``%%`` is a literal ``%``)."""
    numbers = itertools.count(1)
    return re.sub(r"%%|%s", lambda match: "%" if match.group(0) == "%%" else f"${next(numbers)}", sql)


class _Prepared:
    """One compiled statement for one connection: its SQL, where its values go, how to read rows."""

    def __init__(self, queryset: QuerySet, sentinels: dict[str, Any], alias: str, name: str):
        connection = connections[alias]
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        self.sql = sql
        self.params = list(params)
        # (position, name, whether the database was given the value as text, as SQLite is given dates)
        self.slots: list[tuple[int, str, bool]] = []
        wanted = {}
        for value_name, value in sentinels.items():
            wanted[value] = (value_name, False)
            if isinstance(value, dt.date):
                wanted[str(value)] = (value_name, True)
        for position, param in enumerate(self.params):
            try:
                found = wanted.get(param)
            except TypeError:  # an unhashable parameter is no placeholder of ours
                found = None
            if found is not None:
                self.slots.append((position, *found))
        missing = set(sentinels) - {value_name for _position, value_name, _text in self.slots}
        if missing:
            raise ValueError(f"the compiled statement does not use {sorted(missing)}")
        self.for_update = bool(queryset.query.select_for_update and connection.features.has_select_for_update)
        self.compiler = compiler
        self.alias = alias
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start:self.end]]
        self.related_populators = get_related_populators(klass_info, select, alias)
        self.annotations = dict(compiler.annotation_col_map or {})
        self.server_name = None
        if connection.vendor == "postgresql" and getattr(settings, "SOPFLOW_PREPARED_STATEMENTS", False):
            self.server_name = "sopflow_" + re.sub(r"\W", "_", name)
            self.server_sql = f"PREPARE {self.server_name} AS {_numbered(sql)}"
            self.execute_sql = f"EXECUTE {self.server_name}({', '.join(['%s'] * len(self.params))})"
            _PREPARED_SQL[self.server_name] = sql
        # The converters of the columns (e.g. SQLite's text to datetime), looked up once too.
        self.converters = compiler.get_converters([column[0] for column in select[:compiler.col_count]])

    def rows(self, values: dict[str, Any]) -> list:
        connection = connections[self.alias]
        if self.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(self.params)
        for position, name, as_text in self.slots:
            value = values[name]
            params[position] = str(value) if as_text and value is not None else value
        with connection.cursor() as cursor:
            if self.server_name is None:
                cursor.execute(self.sql, params)
            else:
                self._prepare_on(connection)
                cursor.execute(self.execute_sql, params)
            fetched = cursor.fetchall()
        instances = []
        rows = self.compiler.apply_converters(fetched, self.converters) if self.converters else fetched
        for row in rows:
            obj = self.model.from_db(self.alias, self.init_list, row[self.start:self.end])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            instances.append(obj)
        return instances


    def _prepare_on(self, connection) -> None:
        """PREPARE the statement on the current server connection unless it is there already."""
        raw = connection.connection
        state = connection.__dict__.get("_sopflow_prepared_on")
        if state is None or state[0] is not raw:  # a new server connection: nothing prepared on it
            state = connection.__dict__["_sopflow_prepared_on"] = (raw, set())
        if self.server_name not in state[1]:
            with raw.cursor() as cursor:
                cursor.execute(self.server_sql)
            state[1].add(self.server_name)


class CompiledQuery:
    """A queryset shape compiled once per connection; ``rows(**values)`` runs it with new values.

    ``name`` must be unique in the process (it names the compiled statement and the prepared one).

    ``build`` takes keyword arguments and returns the queryset; ``kinds`` names each argument's
    kind, ``int`` or ``date`` (the placeholder the builder is called with). The queryset must be
    the same for every value: anything that changes its shape (another filter, another join) is
    another ``CompiledQuery``.
    """

    def __init__(self, name: str, build: Callable[..., QuerySet], **kinds: type):
        self.name = name
        self.build = build
        self.kinds = kinds

    def _prepared(self, alias: str) -> _Prepared:
        connection = connections[alias]
        # One per connection object: each thread has its own, as Django's connections are per thread.
        cache = connection.__dict__.setdefault("_sopflow_compiled", {})
        prepared = cache.get(self.name)
        if prepared is None:
            sentinels = {name: _sentinel(kind) for name, kind in self.kinds.items()}
            prepared = cache[self.name] = _Prepared(self.build(**sentinels), sentinels, alias, self.name)
        return prepared

    def rows(self, *, using: str = DEFAULT_DB_ALIAS, **values) -> list:
        """The model instances of the statement run with ``values`` (every argument of ``build``)."""
        return self._prepared(using).rows(values)

    def sql(self, using: str = DEFAULT_DB_ALIAS) -> str:
        return self._prepared(using).sql


def insert_rows(objs: list, *, using: str = DEFAULT_DB_ALIAS) -> list:
    """``bulk_create`` of new rows of one model in one INSERT whose SQL is written once per row count.

    For the engine's few rows per service (its events, the ticked items): ``QuerySet.bulk_create``
    spent longer preparing and compiling the INSERT than the database spent on it. The values are
    prepared by the model's fields as ``bulk_create`` prepares them (``pre_save`` with ``add``,
    ``get_db_prep_save``; related objects' ids taken over), the new ids read back where the database
    returns them. No signals, as ``bulk_create`` sends none. Rows that already have a primary key,
    or models with fields the database fills (``db_default``, generated), are not for this.
    """
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[using]
    cache = connection.__dict__.setdefault("_sopflow_inserts", {})
    key = (model, len(objs))
    statement = cache.get(key)
    if statement is None:
        meta = model._meta
        fields = [field for field in meta.concrete_fields if field is not meta.pk]
        if any(getattr(field, "generated", False) or field.has_db_default() for field in fields):
            raise ValueError(f"{model.__name__} has fields the database fills: use bulk_create")
        quote = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
               f"VALUES {', '.join([row] * len(objs))}")
        returning = connection.features.can_return_rows_from_bulk_insert
        if returning:
            sql += f" RETURNING {quote(meta.db_table)}.{quote(meta.pk.column)}"
        statement = cache[key] = (sql, fields, returning)
    sql, fields, returning = statement
    params = []
    for obj in objs:
        if obj.pk is not None:
            raise ValueError(f"{obj!r} has a primary key already: use bulk_create")
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
        params.extend(field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchall() if returning else ()
    for obj, (pk,) in zip(objs, ids):
        obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs
