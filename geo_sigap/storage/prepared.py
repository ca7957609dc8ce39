"""Statements of the intake write path, run straight on the session's DBAPI cursor.

A report's write is five small statements (key lookup, duplicate search, incident,
audit entry, outbox event). Through ``Session.execute`` each one pays for SQLAlchemy's
execution machinery — ORM execute hooks, an execution context, bind-parameter
processing through the compiled statement, a result object — which on SQLite costs
several times the statement itself (benchmarks.api: about a quarter of a report's CPU).

:class:`Prepared` compiles its Core statement once per dialect, keeps the SQL text, the
parameter order and the bind processors (the same type conversions SQLAlchemy applies:
``UTCDateTime``, ``JSON``, ``Geom``), and runs it on the cursor of the connection the
session already holds, in the session's transaction, after flushing pending ORM changes
as ``Session.execute`` does (autoflush). DBAPI errors are raised as SQLAlchemy's own
(``IntegrityError`` …), as ``Session.execute`` raises them.

It falls back to ``Session.execute`` — the same statement, the same answer — when that
is the only correct way:

* the engine or connection has ``before_cursor_execute``/``after_cursor_execute``
  listeners (tracing, statement counting in tests): they see every statement;
* the statement cannot be run as plain SQL: post-compile (expanding ``IN``) parameters,
  columns whose results need conversion, Python-side column defaults not given.

Only for statements on tables that no cache watches (:mod:`geo_sigap.storage.watch`
listens to ORM execute events, which are not sent here).
"""

from __future__ import annotations

import struct
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from sqlalchemy.sql import Insert

_UNSUPPORTED = object()


class _Plan:
    __slots__ = ("sql", "order", "names", "procs", "lastrowid")

    def __init__(self, sql: str, order: tuple[str, ...] | None, names: dict[str, str],
                 procs: dict[str, Any], lastrowid: bool) -> None:
        self.sql = sql
        self.order = order  # positional paramstyle: the parameters' order; else None
        self.names = names  # named paramstyle: parameter key → name in the SQL
        self.procs = procs  # parameter key → bind processor (absent: sent as given)
        self.lastrowid = lastrowid  # the new row's id from cursor.lastrowid


class Prepared:
    """``stmt`` (a Core ``select``/``insert``/``text``) compiled once per dialect.

    ``keys``: for an INSERT, the columns every call gives (all others are left out of
    the statement). ``returning_id``: an INSERT answers the new row's primary key
    (SQLite: ``lastrowid``; others: ``RETURNING``).
    """

    __slots__ = ("stmt", "keys", "returning_id", "_plans")

    def __init__(self, stmt, *, keys: tuple[str, ...] | None = None,
                 returning_id: bool = False) -> None:
        self.stmt = stmt
        self.keys = keys
        self.returning_id = returning_id
        self._plans: dict[Any, Any] = {}

    # -- compiling ---------------------------------------------------------------------
    def _plan(self, dialect) -> _Plan | object:
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = self._compile(dialect)
        return plan

    def _compile(self, dialect) -> _Plan | object:
        stmt = self.stmt
        is_insert = isinstance(stmt, Insert)
        lastrowid = False
        if is_insert and self.returning_id:
            if dialect.name == "sqlite":
                lastrowid = True
            else:
                stmt = stmt.returning(*stmt.table.primary_key.columns)
        if is_insert:
            given = set(self.keys or ())
            for col in stmt.table.columns:  # a Python-side default SQLAlchemy would add
                if col.key not in given and col.default is not None:
                    return _UNSUPPORTED
        compiled = stmt.compile(dialect=dialect,
                                column_keys=list(self.keys) if is_insert else None)
        sql = compiled.string
        if "POSTCOMPILE" in sql or compiled.literal_execute_params \
                or compiled.post_compile_params:
            return _UNSUPPORTED
        for entry in getattr(compiled, "_result_columns", ()) or ():
            if entry[3]._cached_result_processor(dialect, None) is not None:
                return _UNSUPPORTED  # rows would need conversion: left to SQLAlchemy
        escaped = compiled.escaped_bind_names or {}
        keys_by_name = {name: bp.key for bp, name in compiled.bind_names.items()}
        procs = {keys_by_name.get(name, name): proc
                 for name, proc in compiled._bind_processors.items()}
        if compiled.positional:
            order = tuple(keys_by_name.get(n, n) for n in compiled.positiontup)
            names: dict[str, str] = {}
        else:
            order = None
            names = {key: escaped.get(name, name) for name, key in keys_by_name.items()}
        return _Plan(sql, order, names, procs, lastrowid)

    # -- running -----------------------------------------------------------------------
    def execute(self, session: Session, params: dict[str, Any]) -> Any:
        """Run in ``session``'s transaction. Returns the rows (``first()``/``all()``, as
        tuples) of a statement that has them, the new id for an INSERT with
        ``returning_id``, else ``None``. SQL errors are SQLAlchemy's, without the
        parameters in their message."""
        conn = session.connection()
        plan = self._plan(conn.dialect)
        dispatch = conn.dispatch
        if plan is _UNSUPPORTED or dispatch.before_cursor_execute \
                or dispatch.after_cursor_execute:
            result = session.execute(self.stmt, params)
            return result.inserted_primary_key[0] if self.returning_id else result
        if session.autoflush:  # as Session.execute: pending ORM changes are written first
            session.flush()
        procs = plan.procs
        if plan.order is not None:
            values: Any = tuple([procs[k](params[k]) if k in procs else params[k]
                                 for k in plan.order])
        else:
            values = {name: (procs[k](params[k]) if k in procs else params[k])
                      for k, name in plan.names.items()}
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(plan.sql, values)
        except dbapi.Error as e:
            cursor.close()
            # parameters never in the message: they hold reporters' names and phones
            raise sa_exc.DBAPIError.instance(plan.sql, values, e, dbapi.Error,
                                             hide_parameters=True,
                                             dialect=conn.dialect) from e
        if not self.returning_id:
            if cursor.description is None:  # no rows to read (INSERT …)
                cursor.close()
                return None
            return _Rows(cursor)
        try:
            return cursor.lastrowid if plan.lastrowid else cursor.fetchone()[0]
        finally:
            cursor.close()


class _Rows:
    """The rows of a prepared SELECT (tuples), read once; the cursor is closed after."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor) -> None:
        self._cursor = cursor

    def first(self) -> tuple | None:
        try:
            return self._cursor.fetchone()
        finally:
            self._cursor.close()

    def all(self) -> list[tuple]:
        try:
            return self._cursor.fetchall()
        finally:
            self._cursor.close()


_POINT = struct.Struct("<BIdd")


def point_wkb(lon: float, lat: float) -> bytes:
    """ISO WKB of a 2-D point, little-endian — what ``shapely.to_wkb(Point(lon, lat))``
    gives on this hardware, without making a shapely geometry (~1 µs against ~15)."""
    return _POINT.pack(1, 1, lon, lat)
