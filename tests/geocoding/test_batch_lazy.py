"""``geo-sigap geocode``: a CSV with coordinates only never builds the forward geocoder;
rows without coordinates are flagged ``missing_coordinates``, not ``invalid_coordinates``."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from geo_sigap.geocoding import geocode_csv
from tests.geocoding.conftest import KEL, xy


def _never() -> None:
    raise AssertionError("the forward geocoder was built for a CSV that needs no address")


def test_coordinates_only_never_builds_the_forward_geocoder(tmp_path, reverse):
    lon, lat = xy(0.25, 0.25)
    (tmp_path / "in.csv").write_text(
        f"id,lon,lat\n1,{lon},{lat}\n2,,\n3,abc,{lat}\n4,{lon},\n")
    s = geocode_csv(tmp_path / "in.csv", tmp_path / "out.csv", reverse, _never)
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out["rt_code"][0] == f"{KEL}.1001.RW001.RT001"
    assert out["quality_flags"].tolist()[1:] == [
        "missing_coordinates", "invalid_coordinates", "missing_coordinates"]
    assert out["geocode_reason"].tolist()[1:] == [
        "missing_coordinates", "invalid_coordinates", "missing_coordinates"]
    assert s["failures"] == {"missing_coordinates": 2, "invalid_coordinates": 1}


def test_forward_factory_is_called_once_when_an_address_is_needed(tmp_path, reverse, forward):
    calls = []

    def build():
        calls.append(1)
        return forward

    (tmp_path / "in.csv").write_text(
        "lon,lat,alamat\n,,RT 001 RW 002 Kel. Talang Bakung\n,,Gg. Mawar\n,,\n")
    s = geocode_csv(tmp_path / "in.csv", tmp_path / "out.csv", reverse, build)
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert calls == [1]
    assert out["rt_code"][0] == f"{KEL}.1001.RW002.RT001" and out["geocode_source"][0] == "address"
    assert out["geocode_reason"][2] == "missing_coordinates"
    assert s["failures"] == {"missing_coordinates": 1}


def test_cli_geocode_with_coordinates_only_does_not_build_the_forward_geocoder(
        tmp_path, monkeypatch):
    from geo_sigap.cli.main import app
    from geo_sigap.services import Services

    monkeypatch.setenv("GEO_SIGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("GEO_SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(Services, "forward_geocoder", property(lambda self: _never()))
    from tests.paths import DEMO_DATA

    runner = CliRunner()
    kel = DEMO_DATA / "boundaries" / "paal_merah_demo" / "kelurahan.geojson"
    assert runner.invoke(app, ["import", "boundaries", str(kel)]).exit_code == 0
    (tmp_path / "in.csv").write_text("id,lon,lat,alamat\n1,103.62,-1.64,\n2,,,\n")
    r = runner.invoke(app, ["geocode", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert out["quality_flags"][1] == "missing_coordinates"


def test_the_batch_arrays_are_made_by_the_first_batch_and_answer_like_single_points(units):
    import numpy as np

    from geo_sigap.geocoding.reverse import ReverseGeocoder

    rg = ReverseGeocoder.from_units(units)
    rng = np.random.default_rng(11)
    pts = [xy(float(u), float(v)) for u, v in rng.uniform(-0.1, 1.1, (200, 2))]
    single = [rg.locate(lon, lat) for lon, lat in pts]
    assert rg._stack_built is None  # single points never stack the layers
    many = rg.locate_many([p[0] for p in pts], [p[1] for p in pts])
    assert rg._stack_built is not None
    for r, (_, row) in zip(single, many.iterrows(), strict=True):
        assert (None if pd.isna(row["rt_code"]) else row["rt_code"]) == r.placement.rt_code
        assert (None if pd.isna(row["kelurahan_code"]) else row["kelurahan_code"]) \
            == r.placement.kelurahan_code
        assert set(filter(None, row["quality_flags"].split(";"))) == set(r.flags)
    again = ReverseGeocoder.from_units(units)
    again.warm_batch()
    assert again._stack_built is not None
