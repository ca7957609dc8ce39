"""``geo-sigap``: the command line. Each command parses input, calls one use case, prints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.table import Table

from geo_sigap.cli._common import console, friendly_errors, progress_bar, settings

app = typer.Typer(
    name="geo-sigap", no_args_is_help=True, add_completion=False,
    help="GeoSIGAP: peta dan penugasan kejadian trantibum (SOP SIGAP KETIMUN).",
)
import_app = typer.Typer(no_args_is_help=True, help="Impor batas wilayah, tim dan riwayat kejadian.")
db_app = typer.Typer(no_args_is_help=True, help="Basis data: migrasi skema.")
demo_app = typer.Typer(no_args_is_help=True, help="Wilayah demo sintetis (Kec. Paal Merah).")
user_app = typer.Typer(no_args_is_help=True, help="Akun pengguna dan peran.")
routing_app = typer.Typer(no_args_is_help=True, help="Jaringan jalan: cache graf, cakupan waktu tempuh.")
config_app = typer.Typer(no_args_is_help=True, help="Berkas konfigurasi yang dapat disunting.")
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(config_app, name="config")
app.add_typer(routing_app, name="routing")
app.add_typer(user_app, name="user")
export_app = typer.Typer(no_args_is_help=True, help="Ekspor kejadian dan hotspot ke "
                         "GeoPackage/CSV (untuk QGIS dan lembar kerja).")
app.add_typer(export_app, name="export")


def _services(**overrides):
    from geo_sigap.services import Services

    return Services.from_settings(settings(**overrides))


def _print_summary(title: str, summary: dict) -> None:
    table = Table(title=title, show_header=False)
    for k, v in summary.items():
        table.add_row(str(k), json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list))
                      else str(v))
    console.print(table)


# -- serve ------------------------------------------------------------------------------

@app.command()
def serve(
    demo: bool = typer.Option(False, "--demo", help="Jalankan pada wilayah demo (SQLite, "
                              "dibuat saat pertama kali)."),
    host: str = typer.Option("127.0.0.1", help="Alamat yang didengarkan."),
    port: int = typer.Option(8000, help="Port."),
    workers: int = typer.Option(1, help="Jumlah proses uvicorn (PostGIS untuk > 1)."),
) -> None:
    """Menjalankan layanan web (API + halaman) dengan uvicorn."""
    from geo_sigap._gc import pause_collections, resume_collections

    pause_collections()  # until the service is ready (see there)
    import uvicorn

    with friendly_errors():
        if demo:
            from geo_sigap.demo_mode import prepare_demo

            with progress_bar() as cb:
                env = prepare_demo(progress=cb)
            os.environ.update(env)
        s = settings()
        s.check_secret()
        if workers > 1 and not s.is_postgres:
            console.print("[yellow]Beberapa worker memerlukan PostGIS; memakai 1 worker.[/]")
            workers = 1
        app_or_factory, factory = "geo_sigap.web.app:create_app", True
        if workers == 1:
            # One process: build the services now and start their warm-up (routing engine
            # first) so that it runs while the web app is imported and built, then hand
            # the app itself to uvicorn. Several workers each build their own.
            from geo_sigap.services import Services

            services = Services.from_settings(s)
            if s.warm_up_on_start:
                services.start_warm_up()
            from geo_sigap.web.app import create_app

            app_or_factory, factory = create_app(s, services), False
            if s.warm_up_on_start:
                services.wait_for_routing(s.start_wait_routing_s)
    resume_collections()
    console.print(f"GeoSIGAP berjalan di http://{host}:{port}  (dokumentasi API: /docs)")
    proxies = ",".join(p.strip() for p in s.forwarded_allow_ips.split(",") if p.strip())
    uvicorn.run(app_or_factory, factory=factory, host=host, port=port,
                workers=workers, log_level="info",
                # trust X-Forwarded-* only from the proxies listed in the settings
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or "")


# -- db ---------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade() -> None:
    """Membawa skema basis data ke versi terbaru (alembic)."""
    from geo_sigap.storage import open_database
    from geo_sigap.storage.migrate import current_revision

    with friendly_errors():
        db = open_database(settings().database_url)
        console.print(f"Skema pada revisi {current_revision(db.engine)} ({db.spatial}).")


# -- import -----------------------------------------------------------------------------

@import_app.command("boundaries")
def import_boundaries_cmd(
    file: Path = typer.Argument(..., help="GeoJSON / Shapefile / GeoPackage / OSM XML (.osm)."),
    level: str = typer.Option(None, help="Tingkat semua fitur: provinsi, kabupaten_kota, "
                              "kecamatan, kelurahan, rw, rt (default: dari kode, kolom level "
                              "atau admin_level OSM)."),
    map_: list[str] = typer.Option([], "--map", help="Pemetaan kolom, mis. name=NAMA_KEL "
                                   "parent.kecamatan=NAMA_KEC parent.kabupaten_kota=KOTA rw=RW "
                                   "code=KDEPUM."),
    mapping: Path = typer.Option(None, help="Berkas TOML pemetaan kolom."),
    layer: str = typer.Option(None, help="Lapisan (GeoPackage)."),
    crs: str = typer.Option(None, help="CRS sumber bila berkas tidak menyebutkannya."),
    derive_parents: bool = typer.Option(True, help="Bentuk unit induk (mis. kecamatan) "
                                        "dengan melebur."),
    names: Path = typer.Option(None, help="CSV kode,nama Kemendagri untuk mencocokkan nama "
                               "(default: daftar nasional bawaan, 91.599 wilayah)."),
    admin_level: list[str] = typer.Option([], "--admin-level", help="Arti admin_level OSM, "
                                          "mis. 9=rw 8=kelurahan (default 4 provinsi, 5 kab/"
                                          "kota, 6 kecamatan, 7 kelurahan, 8/9 RW, 10 RT)."),
    match_threshold: float = typer.Option(86.0, help="Kemiripan nama minimum (0-100) untuk "
                                          "pencocokan tidak persis."),
    report: Path = typer.Option(None, help="Tulis laporan kualitas data (JSON) ke sini."),
) -> None:
    """Impor batas administrasi; kode Kemendagri dari berkas atau dari nama, dengan laporan
    kualitas data (pencocokan nama, tumpang tindih, celah, unit di luar induknya)."""
    from geo_sigap.importers.boundaries import (
        FieldMapping,
        existing_units,
        import_boundaries,
        read_boundaries,
    )
    from geo_sigap.importers.osm_boundaries import parse_admin_levels

    with friendly_errors():
        m = FieldMapping.from_file(mapping) if mapping else FieldMapping()
        if map_:
            m = m.merged(FieldMapping.from_options(map_))
        svc = _services()
        with progress_bar() as cb:
            data = read_boundaries(file, level=level, mapping=m, layer=layer, source_crs=crs,
                                   derive_parents=derive_parents, codes=names,
                                   context=existing_units(svc.db),
                                   admin_levels=parse_admin_levels(admin_level),
                                   threshold=match_threshold, progress=cb)
        summary = import_boundaries(svc.db, data)
        _print_summary(f"Impor batas wilayah: {file.name}", summary)
        _print_issues(data.report)
        if report:
            out = {"file": str(file), "import": summary, "source_columns": data.source_columns,
                   "code_list": data.codes_source, **data.report.to_dict()}
            report.write_text(json.dumps(out, ensure_ascii=False, indent=1), "utf-8")
            console.print(f"Laporan kualitas: {report}")


_ISSUE_LABELS = {
    "unmatched_name": "nama tidak ditemukan", "ambiguous_name": "nama ambigu",
    "no_parent": "induk tidak diketahui", "unreadable_label": "label RW/RT tak terbaca",
    "outside_parent": "di luar induknya", "unmatched_parent": "nama induk tidak ditemukan",
    "inferred_parent": "induk disimpulkan", "inferred_level": "tingkat disimpulkan",
    "fuzzy_match": "dicocokkan tidak persis", "local_id_ignored": "id lokal diabaikan",
    "incomplete_relation": "relasi OSM tidak lengkap", "duplicate_code": "kode ganda",
    "label_suffix": "akhiran label", "overlap": "tumpang tindih", "gap": "celah",
    "partly_outside_parent": "sebagian di luar induknya",
    "repaired_geometry": "geometri diperbaiki", "unknown_level": "tingkat tidak diketahui",
}


def _print_issues(rep) -> None:
    """A readable summary: name matching, then each kind of issue with a few examples."""
    ms = rep.match_summary()
    if ms:
        words = {"exact": "persis", "fuzzy": "mirip", "ambiguous": "ambigu",
                 "missing": "tidak ditemukan"}
        console.print("Pencocokan nama → kode: " + ", ".join(
            f"{n} {words.get(k, k)}" for k, n in ms.items()))
    by_kind: dict[str, list] = {}
    for issue in rep.issues:
        by_kind.setdefault(issue.kind, []).append(issue)
    order = list(_ISSUE_LABELS)
    for kind in sorted(by_kind, key=lambda k: order.index(k) if k in order else len(order)):
        items = by_kind[kind]
        console.print(f"[bold]{_ISSUE_LABELS.get(kind, kind)}[/] ({kind}): {len(items)}")
        for issue in items[:3]:
            console.print(f"  • {issue.message}")
        if len(items) > 3:
            console.print(f"  … dan {len(items) - 3} lagi (semua di --report)")


@import_app.command("teams")
def import_teams_cmd(file: Path = typer.Argument(..., help="CSV tim.")) -> None:
    """Impor tim dan pos (CSV: code,name,role,phone,vehicle,post_lon,post_lat,area_codes)."""
    from geo_sigap.importers.teams import import_teams, read_teams

    with friendly_errors():
        with progress_bar() as cb:
            teams = read_teams(file, progress=cb)
        svc = _services()
        _print_summary(f"Impor tim: {file.name}", import_teams(svc.db, teams))
        if svc.has_road_network():  # posts moved: the coverage layers for every worker
            with progress_bar() as cb:
                cb("cakupan waktu tempuh", 0, 1)
                svc.coverage.refresh(background=False)
                cb("cakupan waktu tempuh", 1, 1)


@import_app.command("incidents")
def import_incidents_cmd(file: Path = typer.Argument(..., help="CSV riwayat kejadian.")) -> None:
    """Impor riwayat kejadian; setiap kejadian ditempatkan di RT/RW/kelurahannya."""
    from geo_sigap.importers.incidents import import_incidents_csv
    from geo_sigap.importers.placement import placer_from_db

    with friendly_errors():
        svc = _services()
        with progress_bar() as cb:  # streamed: any file size, memory bounded
            summary = import_incidents_csv(svc.db, file, svc.categories,
                                           placer_from_db(svc.db), progress=cb)
        _print_summary(f"Impor kejadian: {file.name}", summary)


# -- geocode --------------------------------------------------------------------------

@app.command()
def geocode(
    input_csv: Path = typer.Argument(..., help="CSV berisi koordinat (lon/lat) dan/atau alamat."),
    output: Path = typer.Option(..., "-o", "--output", help="CSV hasil."),
    lon_col: str = typer.Option(None, help="Kolom bujur (default: dikenali otomatis)."),
    lat_col: str = typer.Option(None, help="Kolom lintang."),
    address_col: str = typer.Option(None, help="Kolom alamat/teks lokasi."),
) -> None:
    """Menambahkan kode & nama RT/RW/kelurahan dan penanda kualitas ke setiap baris CSV."""
    from geo_sigap.geocoding.batch import geocode_csv

    with friendly_errors():
        svc = _services()
        with progress_bar() as cb:
            summary = geocode_csv(
                input_csv, output, svc.reverse_geocoder, lambda: svc.forward_geocoder,
                lon_col=lon_col, lat_col=lat_col, address_col=address_col,
                progress=lambda done, total: cb("geocoding", done, total))
        _print_summary(f"Geocoding: {input_csv.name} → {output.name}", summary)


# -- users ------------------------------------------------------------------------------

@user_app.command("create-admin")
def user_create_admin(
    username: str = typer.Argument(..., help="Nama pengguna admin."),
    password: str = typer.Option(..., prompt="Kata sandi", hide_input=True,
                                 confirmation_prompt="Ulangi kata sandi",
                                 help="Minimal 8 karakter (ditanyakan bila tidak diberikan)."),
) -> None:
    """Membuat akun admin (yang pertama). Tidak ada kata sandi bawaan di luar --demo."""
    from geo_sigap.dispatch.users import create_admin

    with friendly_errors():
        info = create_admin(_services().db, username, password)
        console.print(f"Admin dibuat: {info.username}")


@user_app.command("create")
def user_create(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., help="operator, dispatcher, team_member, coordinator, "
                             "planner, admin"),
    team: str = typer.Option(None, help="Kode tim (wajib untuk team_member)."),
    full_name: str = typer.Option(None, help="Nama lengkap."),
    password: str = typer.Option(..., prompt="Kata sandi", hide_input=True,
                                 confirmation_prompt="Ulangi kata sandi"),
) -> None:
    """Membuat akun dengan satu peran."""
    from geo_sigap.dispatch.users import create_user

    with friendly_errors():
        info = create_user(_services().db, username, password, role, team_code=team,
                           full_name=full_name)
        console.print(f"Akun dibuat: {info.username} ({info.role})")


@user_app.command("list")
def user_list() -> None:
    """Daftar akun (tanpa kata sandi)."""
    from geo_sigap.dispatch.users import list_users

    with friendly_errors():
        table = Table("username", "peran", "tim", "nama")
        for u in list_users(_services().db):
            table.add_row(u.username, u.role.label, u.team_code or "", u.full_name or "")
        console.print(table)


# -- report -----------------------------------------------------------------------------

@app.command()
def report(
    quarter: str = typer.Option(..., help="Triwulan, mis. 2026Q3."),
    kecamatan: str = typer.Option(None, help="Batasi pada satu kecamatan (kode, mis. 15.71.11)."),
    out_dir: Path = typer.Option(Path("."), "-o", "--out", help="Folder hasil."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Hanya HTML."),
) -> None:
    """Paket rakor triwulanan: HTML mandiri (luring) dan PDF, dalam Bahasa Indonesia."""
    from geo_sigap.analytics.report.data import write_rakor_pack

    with friendly_errors():
        svc = _services()
        with progress_bar() as cb:  # reads the quarters the report compares only
            paths = write_rakor_pack(svc, quarter, kecamatan=kecamatan, out_dir=out_dir,
                                     pdf=not no_pdf,
                                     progress=lambda done, total, msg: cb(
                                         "laporan rakor", done, total, msg))
        console.print(f"HTML: {paths.html}")
        if paths.pdf:
            console.print(f"PDF:  {paths.pdf}")
        console.print(f"GeoPackage (data tabel dan peta): {paths.gpkg}")


# -- routing ----------------------------------------------------------------------------

@routing_app.command("build")
def routing_build(
    file: Path = typer.Argument(..., help="OSM XML/PBF, GraphML osmnx, atau garis jalan "
                                "(GeoJSON/Shapefile/GPKG)."),
    map_: list[str] = typer.Option(None, "--map", metavar="FIELD=KOLOM",
                                   help="Kolom garis jalan: highway=TYPE, "
                                   "oneway=ONEWAY, name=NAMA, maxspeed=…, toll=…; nilai: "
                                   "\"highway:Jalan Desa=residential\". Dapat diulang."),
    snap_tolerance: float = typer.Option(None, "--snap-tolerance", help="Sambung ujung "
                                         "garis yang berjarak ≤ sekian meter dari jalan lain "
                                         "(bawaan: GEO_SIGAP_ROAD_SNAP_TOLERANCE_M; 0: tidak)."),
    report: Path = typer.Option(None, "--report", help="Tulis ringkasan jaringan sebagai JSON."),
) -> None:
    """Membangun (atau memakai ulang) cache graf jalan agar layanan mulai dalam ≤ 2 detik.

    Format: OSM XML (.osm) atau PBF (.osm.pbf); GraphML osmnx (.graphml,
    dari ox.save_graphml); garis jalan GeoJSON, Shapefile atau GeoPackage.
    Kolom garis jalan dikenali tanpa memandang huruf besar-kecil: kelas dari
    highway, fclass (Geofabrik), REMARK (RBI BIG: Jalan Arteri, Kolektor,
    Lokal, Lain, Setapak, Tol), TYPE, JENIS, KELAS; arah dari oneway, ONEWAY,
    ARAH (yes/no, 1/-1/0, true/false, FT/TF, F/T/B); nama dari name, NAMA,
    NAMRJL. Berkas yang kelas jalannya tak terbaca ditolak.

    Contoh: routing build city.graphml --report roads.json
    routing build jalan.shp --map highway=KLS --map oneway=ARAH
    --map "highway:Jalan Desa=residential" --snap-tolerance 3
    """
    from geo_sigap.routing.cli import build_network
    from geo_sigap.routing.lines import road_options

    with friendly_errors():
        s = settings()
        options = road_options(s, map_ or None, snap_tolerance)
        path = build_network(file, speeds_file=s.routing_speeds_file,
                             cache_dir=s.cache_dir / "routing", options=options,
                             report=report, echo=console.print)
        console.print(f"Cache graf: {path}")
        if map_ and not s.road_columns:
            console.print("Agar layanan membaca berkas ini dengan cara yang sama, atur "
                          f"GEO_SIGAP_ROAD_COLUMNS=\"{','.join(map_)}\"")


@routing_app.command("coverage")
def routing_coverage(
    output: Path = typer.Option(..., "-o", "--output", help="Berkas .geojson atau .csv."),
    level: str = typer.Option("rt", help="Tingkat unit: rt, rw atau kelurahan."),
    category: str = typer.Option(None, help="Kategori (peran & target waktu dari tabel)."),
) -> None:
    """Waktu tempuh dari pos terdekat per peran untuk setiap RT/RW; area di luar target."""
    from geo_sigap.domain.admin import AdminLevel
    from geo_sigap.routing.coverage import coverage, write_coverage
    from geo_sigap.storage.teams import list_teams
    from geo_sigap.storage.units import units_frame

    with friendly_errors():
        svc = _services()
        if svc.routing is None:
            console.print("[red]GEO_SIGAP_ROAD_NETWORK belum diatur.[/]")
            raise typer.Exit(2)
        with svc.db.session() as s:
            units = units_frame(s, [AdminLevel.parse(level)])
            teams = list_teams(s)
        cat = svc.categories.get(category) if category else None
        table = coverage(svc.routing, units, teams, category=cat)
        write_coverage(table, output)
        beyond = int(table["beyond_target"].sum()) if "beyond_target" in table else 0
        console.print(f"{len(table)} unit ditulis ke {output}; {beyond} di luar target waktu.")


# -- demo -------------------------------------------------------------------------------

@demo_app.command("generate")
def demo_generate(out_root: Path = typer.Option(None, help="Folder induk data/ (default: "
                                                "data/ repositori).")) -> None:
    """Membuat ulang berkas wilayah demo sintetis (deterministik)."""
    from geo_sigap.demo.generate import generate
    from geo_sigap.importers.demo import data_root

    _print_summary("Data demo", generate(out_root or data_root().parent))


@demo_app.command("load")
def demo_load() -> None:
    """Memuat wilayah demo ke basis data yang dikonfigurasi."""
    from geo_sigap.importers.demo import load_demo

    with friendly_errors():
        svc = _services()
        with progress_bar() as cb:
            summary = load_demo(svc.db, svc.categories, progress=cb)
        _print_summary("Wilayah demo dimuat", summary)


# -- export -----------------------------------------------------------------------------

@export_app.command("incidents")
def export_incidents_cmd(
    out: Path = typer.Option(..., "-o", "--out", help="Berkas hasil (.gpkg atau .csv)."),
    fmt: str = typer.Option(None, "--format", help="gpkg atau csv (bawaan: dari akhiran "
                            "berkas)."),
    quarter: str = typer.Option(None, help="Triwulan, mis. 2026Q3 (bawaan: semua)."),
    audience: str = typer.Option("staf", help="staf (titik tepat, tanpa data pribadi) atau "
                                 "publik (titik dibulatkan ±110 m; tanpa titik untuk kategori "
                                 "sensitif)."),
    personal_data: bool = typer.Option(False, "--with-personal-data", help="Sertakan uraian, "
                                       "alamat, nama dan telepon pelapor (wajib --admin; "
                                       "dicatat di log audit)."),
    admin: str = typer.Option(None, help="Nama pengguna admin yang meminta data pribadi."),
) -> None:
    """Kejadian sebagai lapisan titik GeoPackage (EPSG:4326) atau CSV."""
    from geo_sigap.standards.exports import export_incidents

    with friendly_errors():
        res = export_incidents(_services(), out, fmt=fmt or out.suffix, quarter=quarter,
                               audience=audience, personal_data=personal_data, admin=admin)
        console.print(f"{res.rows} kejadian ditulis ke {res.path}"
                      + (" (dengan data pribadi)" if res.personal_data else ""))


@export_app.command("hotspots")
def export_hotspots_cmd(
    out: Path = typer.Option(..., "-o", "--out", help="Berkas hasil (.gpkg atau .csv)."),
    fmt: str = typer.Option(None, "--format", help="gpkg atau csv (bawaan: dari akhiran "
                            "berkas)."),
    quarter: str = typer.Option(None, help="Triwulan, mis. 2026Q3 (bawaan: semua data)."),
    level: str = typer.Option("kelurahan", help="kelurahan, rw, rt atau hex."),
    category: str = typer.Option(None, help="Satu kategori atau beberapa (dipisah koma)."),
) -> None:
    """Hasil hotspot Gi* (FDR) sebagai lapisan poligon GeoPackage atau CSV."""
    from geo_sigap.standards.exports import export_hotspots

    with friendly_errors():
        res = export_hotspots(_services(), out, fmt=fmt or out.suffix, quarter=quarter,
                              level=level, category=category)
        console.print(f"{res.rows} unit ditulis ke {res.path}")


# -- config -----------------------------------------------------------------------------

@config_app.command("categories")
def config_categories(out: Path = typer.Option(Path("categories.toml"), "-o", "--out")) -> None:
    """Menulis tabel kategori bawaan agar dapat disunting (lalu set GEO_SIGAP_CATEGORIES_FILE)."""
    from geo_sigap.domain.categories import default_categories_text

    if out.exists():
        console.print(f"[red]{out} sudah ada; tidak ditimpa.[/]")
        raise typer.Exit(2)
    out.write_text(default_categories_text(), "utf-8")
    console.print(f"Ditulis: {out}. Aktifkan dengan GEO_SIGAP_CATEGORIES_FILE={out}")


if __name__ == "__main__":  # pragma: no cover
    app()
