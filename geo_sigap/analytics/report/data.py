"""What the rakor pack reads, and the use case that writes it (the CLI's ``geo-sigap
report`` and the /analisis page's cached packs call :func:`write_rakor_pack`).

The pack reads only the eight quarters it shows (:func:`load_report_data`), one indexed
query per quarter: every column of the two it compares, the pattern columns
(:data:`~geo_sigap.analytics.from_storage.PATTERN_COLUMNS`) of the six before. A closed
quarter that the service has stored under ``cache_dir/history``
(:mod:`geo_sigap.analytics.snapshot`) is taken from there while its check equals the
table's, as the service's own restart does. Units: kelurahan and RW (the maps and the
place names); RT only when a road network asks for the post moves. Teams: one plain
query for the names and posts (no ORM objects).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from geo_sigap.analytics.frames import Quarter, normalise_incidents
from geo_sigap.analytics.loaders import AnalyticsData
from geo_sigap.domain.admin import AdminLevel

log = logging.getLogger(__name__)


def load_report_data(db, categories, quarter, *, snapshot_dir: Path | None = None,
                     rt: bool = True) -> AnalyticsData:
    """The frames the rakor pack of ``quarter`` reads (see the module docstring);
    ``rt=False`` leaves the RT units out (nothing but the post moves needs them)."""
    from geo_sigap.analytics.from_storage import (PATTERN_COLUMNS, _utc, data_version,
                                                  report_range)
    from geo_sigap.storage.incidents import incidents_frame
    from geo_sigap.storage.units import units_frame

    q = Quarter.parse(quarter)
    start, end = report_range(q)
    recent = q.previous()
    version = data_version(db)
    snap = _snapshot(db, snapshot_dir)
    parts = []
    with db.session() as s:
        older = Quarter.of(start)
        while older < recent:  # the six quarters before the two compared, lean
            frame = _stored_quarter(s, snap, older) if snap is not None else None
            if frame is None:
                frame = incidents_frame(s, start=_utc(older.start), end=_utc(older.end),
                                        columns=PATTERN_COLUMNS)
            parts.append(frame)
            older = older.next()
        for whole in (recent, q):  # every column of the two compared
            parts.append(incidents_frame(s, start=_utc(whole.start), end=_utc(whole.end)))
        levels = [AdminLevel.KELURAHAN, AdminLevel.RW] + ([AdminLevel.RT] if rt else [])
        units = units_frame(s, levels)
        teams = team_posts(s)
    parts = [p for p in parts if len(p)] or parts[-1:]
    incidents = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    del parts
    units = units[["code", "name", "level", "parent_code", "population", "geometry"]]
    units["population"] = pd.to_numeric(units["population"], errors="coerce")
    return AnalyticsData(incidents=normalise_incidents(incidents, copy=False), units=units,
                         teams=teams[["code", "name", "role"]], categories=categories,
                         version=version,
                         meta={"source": "database", "start": start, "end": end,
                               "posts": teams})


def team_posts(session) -> pd.DataFrame:
    """``code, name, role, lon, lat`` (the post) of every team, by code: one plain query."""
    from sqlalchemy import select

    from geo_sigap.storage.tables import TeamRow

    rows = session.execute(select(TeamRow.code, TeamRow.name, TeamRow.role, TeamRow.post_lon,
                                  TeamRow.post_lat).order_by(TeamRow.code)).all()
    return pd.DataFrame([tuple(r) for r in rows],
                        columns=["code", "name", "role", "lon", "lat"]).astype(
        {"lon": float, "lat": float})


def _snapshot(db, folder):
    if folder is None or not Path(folder).is_dir():
        return None
    from geo_sigap.analytics.incremental import _empty
    from geo_sigap.analytics.snapshot import Snapshot

    url = db.engine.url.render_as_string(hide_password=True)
    snap = Snapshot(folder, url, _empty())
    return snap if snap.keys() else None


def _stored_quarter(session, snap, q: Quarter) -> pd.DataFrame | None:
    """The pattern columns of a quarter the service stored, when its check still equals
    the table's (else None: read from the table). The stored partition has no
    ``kecamatan_code``: it is the kelurahan code's first three parts (nothing in the
    pack reads it; kept for the frame's shape)."""
    from geo_sigap.analytics.from_storage import PATTERN_COLUMNS, _utc
    from geo_sigap.analytics.incremental import quarter_key
    from geo_sigap.storage.incidents import quarter_check

    k = quarter_key(q)
    want = snap.check(k)
    if want is None or quarter_check(session, _utc(q.start), _utc(q.end)) != want:
        return None
    frame = snap.load(k)
    if frame is None or len(frame) != want[0]:
        return None
    kel = frame["kelurahan_code"]
    out = pd.DataFrame({
        "category": frame["category"].to_numpy(object), "lon": frame["lon"].to_numpy(),
        "lat": frame["lat"].to_numpy(), "status": frame["status"].to_numpy(object),
        "kecamatan_code": [c[:8] if isinstance(c, str) else None for c in kel],
        "kelurahan_code": kel.to_numpy(object),
        "reported_at": frame["reported_at"].dt.tz_convert("UTC").to_numpy()})
    out["reported_at"] = pd.to_datetime(out["reported_at"], utc=True)
    return out[list(PATTERN_COLUMNS)]


def base_layers(settings, posts: pd.DataFrame):
    """Streets (the road network's named lines), landmarks (the gazetteer) and the teams'
    posts for the printed maps (:class:`geo_sigap.maps.printed.BaseLayers`; the parts not
    configured empty) — what ``Services.print_base_layers`` gives, from posts read with
    the report's data."""
    from geo_sigap.maps.printed import BaseLayers

    roads, gaz = settings.road_network, settings.gazetteer_file
    road_json = None
    if roads and Path(roads).exists():
        from geo_sigap.maps.roads import roads_geojson

        road_json = roads_geojson(roads, settings.cache_dir)
    gazetteer = None
    if gaz and Path(gaz).exists():
        from geo_sigap.geocoding.sources import load_gazetteer

        gazetteer = load_gazetteer(gaz)
    return BaseLayers.from_files(road_json, gazetteer, posts[["name", "role", "lon", "lat"]])


def write_rakor_pack(services, quarter, *, kecamatan: str | None = None,
                     out_dir: str | Path = ".", pdf: bool = True, progress=None,
                     hotspots=None):
    """Read what the pack of ``quarter`` needs and write it into ``out_dir``
    (:func:`geo_sigap.analytics.report.build_report`); returns its
    :class:`~geo_sigap.analytics.report.ReportPaths`. ``hotspots``: the service's shared
    hotspot test of a quarter (the live map's), when there is one."""
    from concurrent.futures import ThreadPoolExecutor

    from geo_sigap.analytics.report.render import Printer

    settings = services.settings
    road = bool(settings.road_network) and not settings.osrm_url  # post moves need RTs
    # the browser starts now, while the data is read and the pack computed
    printer = Printer.start() if pdf else None
    try:
        # the database's own work (the queries, in C without the GIL) runs beside the
        # imports of the statistics, maps and figures; what the reading imports is
        # imported first, here (no module imported by two threads at once)
        import geopandas  # noqa: F401 - units_frame

        from geo_sigap.analytics import from_storage, incremental, snapshot  # noqa: F401
        from geo_sigap.storage import incidents, tables, units  # noqa: F401

        with ThreadPoolExecutor(1, thread_name_prefix="rakor-read") as pool:
            reading = pool.submit(load_report_data, services.db, services.categories,
                                  quarter, snapshot_dir=settings.cache_dir / "history",
                                  rt=road)
            from geo_sigap.analytics.report import figures  # noqa: F401 - matplotlib
            from geo_sigap.analytics.report.builder import build_report
            from geo_sigap.maps import printed  # noqa: F401

            data = reading.result()
        placement = None
        if road:
            units = data.units if not kecamatan else data.units.loc[
                data.units["code"].astype(str).str.startswith(kecamatan)]
            placement = services.post_proposals(units)  # None without a local network
        return build_report(data.incidents, data.units, data.teams, data.categories,
                            quarter=quarter, kecamatan=kecamatan, out_dir=out_dir,
                            progress=progress, pdf=pdf, placement=placement,
                            base=base_layers(settings, data.meta["posts"]),
                            hotspots=hotspots, printer=printer)
    finally:
        if printer is not None:
            printer.close()
