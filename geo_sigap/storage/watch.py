"""Noticing this process's own writes to some tables, for in-memory caches.

:func:`watch_tables` calls a callback whenever a session writes to one of the tables
(ORM unit of work or a bulk ``update()``/``delete()``): at once — a lookup made between
the write and the commit would still see, and might cache, the old row — and again when
that session commits. Writes by other processes are not seen here; caches that need them
must also expire on their own.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session


def watch_tables(tables: tuple[type, ...], on_change: Callable[[], None], *,
                 inserts: bool = False) -> None:
    """Call ``on_change()`` on every update/delete (and insert, if asked) of ``tables``."""
    names = frozenset(t.__tablename__ for t in tables)
    flag = ("geo_sigap_watch", names)

    def changed(session: Session | None) -> None:
        on_change()
        if session is not None:
            session.info[flag] = True

    @event.listens_for(Session, "do_orm_execute")
    def _on_execute(state) -> None:
        writes = state.is_update or state.is_delete or (inserts and state.is_insert)
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if writes and table in names:
            changed(state.session)

    def _on_row(_mapper, _connection, target) -> None:
        changed(object_session(target))

    kinds = ("after_update", "after_delete") + (("after_insert",) if inserts else ())
    for table in tables:
        for kind in kinds:
            event.listen(table, kind, _on_row)

    @event.listens_for(Session, "after_commit")
    def _on_commit(session: Session) -> None:
        if session.info.pop(flag, False):
            on_change()

    @event.listens_for(Session, "after_rollback")
    def _on_rollback(session: Session) -> None:
        session.info.pop(flag, None)
