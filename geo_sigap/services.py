"""The composition root: settings → database, category table, geocoders, routing engine.

Built by :func:`geo_sigap.web.app.create_app` and by CLI commands; heavy parts are built
on first use and rebuilt by :meth:`Services.reload` after new data is imported.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from geo_sigap.domain.categories import CategoryTable, load_categories
from geo_sigap.settings import Settings
from geo_sigap.storage import Database, open_database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    categories: CategoryTable
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = open_database(settings.database_url)
        return cls(settings, db, load_categories(settings.categories_file))

    # -- data-derived engines (built lazily, thread-safe) ---------------------------------

    @cached_property
    def units(self):
        from geo_sigap.storage.units import load_units

        with self.db.session() as s:
            return load_units(s)

    @cached_property
    def coverage_bbox(self) -> tuple[float, float, float, float] | None:
        from geo_sigap.storage.units import coverage_bbox

        with self.db.session() as s:
            return coverage_bbox(s)

    def reload(self) -> None:
        """Forget derived engines (after an import)."""
        with self._lock:
            for name in ("units", "coverage_bbox", "reverse_geocoder", "forward_geocoder",
                         "routing"):
                self.__dict__.pop(name, None)

    def close(self) -> None:
        self.db.dispose()

    @property
    def road_network(self) -> Path | None:
        return self.settings.road_network
