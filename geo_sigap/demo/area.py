"""Fixed facts about the demo area and the local metric frame used to build it.

The kelurahan names, codes and approximate positions are real (Kemendagri codes,
representative points near the real ones); everything built from them is synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SYNTHETIC_NOTE_ID = (
    "DATA SINTETIS untuk demo GeoSIGAP: hanya nama dan kode kelurahan yang nyata; "
    "semua batas, jalan, posisi, tim dan kejadian adalah rekaan."
)
SYNTHETIC_NOTE_EN = (
    "SYNTHETIC demo data for GeoSIGAP: only the kelurahan names and codes are real; "
    "every boundary, road, position, team and incident is invented."
)
DEFAULT_SEED = 20261123

PROVINSI = ("15", "Jambi (wilayah demo)")
KOTA = ("15.71", "Kota Jambi (wilayah demo)")
KECAMATAN = ("15.71.11", "Paal Merah")


@dataclass(frozen=True, slots=True)
class KelurahanSeed:
    """A real kelurahan: code, name, representative point (lon, lat), bbox, population."""

    code: str
    name: str
    point: tuple[float, float]
    bbox: tuple[float, float, float, float]
    population: int
    n_rw: int


KELURAHAN: tuple[KelurahanSeed, ...] = (
    KelurahanSeed("15.71.11.1001", "Talang Bakung", (103.64905, -1.62735),
                  (103.6378, -1.6481, 103.6607, -1.6066), 21_400, 9),
    KelurahanSeed("15.71.11.1002", "Payo Selincah", (103.64912, -1.59551),
                  (103.6401, -1.6075, 103.6568, -1.5834), 12_800, 7),
    KelurahanSeed("15.71.11.1003", "Eka Jaya", (103.65853, -1.61782),
                  (103.6491, -1.6301, 103.6802, -1.6055), 16_900, 8),
    KelurahanSeed("15.71.11.1004", "Lingkar Selatan", (103.63666, -1.65138),
                  (103.6242, -1.6621, 103.6553, -1.6407), 14_300, 7),
    KelurahanSeed("15.71.11.1005", "Paal Merah", (103.64838, -1.64316),
                  (103.6202, -1.6607, 103.6579, -1.6257), 24_600, 10),
    KelurahanSeed("15.71.11.1006", "Bakung Jaya", (103.66471, -1.63120),
                  (103.6541, -1.6484, 103.6811, -1.6140), 9_700, 6),
)
KEL_BY_CODE = {k.code: k for k in KELURAHAN}
KEL_BY_NAME = {k.name: k for k in KELURAHAN}
#: The kelurahan left with RW polygons but no RT polygons (incomplete local data).
KEL_WITHOUT_RT = "15.71.11.1002"

EXTENT = (103.620, -1.662, 103.681, -1.583)
TARGET_AREA_KM2 = 24.0

# Local equirectangular frame (metres) centred on the kecamatan.
_LON0, _LAT0 = 103.650, -1.625
_MX = 111_320.0 * float(np.cos(np.radians(_LAT0)))
_MY = 110_574.0


def to_xy(lon, lat):
    """EPSG:4326 lon/lat (degrees) → local equirectangular x/y (metres)."""
    return (np.asarray(lon) - _LON0) * _MX, (np.asarray(lat) - _LAT0) * _MY


def to_lonlat(x, y):
    """Local equirectangular x/y (metres) → EPSG:4326 lon/lat (degrees)."""
    return np.asarray(x) / _MX + _LON0, np.asarray(y) / _MY + _LAT0
