"""Insert-or-update rows keyed by their ``code`` column (units, teams)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


def upsert_by_code(session: Session, row_type: type, items: Iterable[Any],
                   fill: Callable[[Any, Any], None]) -> tuple[int, int]:
    """For each item (with ``.code``), load or create its row and ``fill(row, item)``.

    Returns ``(inserted, updated)``. Does not commit.
    """
    items = list(items)
    if not items:
        return 0, 0
    codes = [i.code for i in items]
    existing = {r.code: r for r in session.scalars(
        select(row_type).where(row_type.code.in_(codes)))}
    inserted = 0
    for item in items:
        row = existing.get(item.code)
        if row is None:
            row = row_type(code=item.code)
            session.add(row)
            existing[item.code] = row
            inserted += 1
        fill(row, item)
    return inserted, len(items) - inserted
