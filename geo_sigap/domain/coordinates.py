"""Checking coordinates a person typed or a phone sent.

All coordinates are (lon, lat) in EPSG:4326. A pair that is NaN, infinite or out of
range is refused; a pair whose lat and lon were swapped is detected with Indonesia's
extent (and the covered area when known) and corrected with a warning, or refused
when ``swap="refuse"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo_sigap.errors import InvalidCoordinates

# Indonesia's extent, with a margin (Sabang 95.3E … Merauke 141.0E; 6.1N … 11.0S).
INDONESIA_BBOX = (94.5, -11.5, 141.5, 6.5)


@dataclass(frozen=True, slots=True)
class CheckedPoint:
    lon: float
    lat: float
    swapped: bool = False
    warning: str | None = None


def _inside(lon: float, lat: float, bbox: tuple[float, float, float, float]) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def check_lonlat(
    lon: object,
    lat: object,
    *,
    coverage_bbox: tuple[float, float, float, float] | None = None,
    swap: str = "correct",
) -> CheckedPoint:
    """Validate a (lon, lat) pair; return it, corrected if it was swapped.

    Parameters
    ----------
    lon, lat
        Degrees, EPSG:4326. Strings with a decimal comma (``"-1,62"``) are accepted.
    coverage_bbox
        (minx, miny, maxx, maxy) of the loaded area; a pair that falls in it only when
        swapped is taken as swapped.
    swap
        ``"correct"`` (default) swaps back with a warning; ``"refuse"`` raises.

    Raises
    ------
    InvalidCoordinates
        NaN / infinite / non-numeric values, or values out of range that are not a swap.
    """
    x, y = _number(lon, "bujur (lon)", "longitude"), _number(lat, "lintang (lat)", "latitude")
    as_given_ok = -180 <= x <= 180 and -90 <= y <= 90
    swapped_ok = -180 <= y <= 180 and -90 <= x <= 90
    area = coverage_bbox or INDONESIA_BBOX

    def swapped() -> CheckedPoint:
        if swap == "refuse":
            raise InvalidCoordinates(
                f"Koordinat tampaknya tertukar: lon={x}, lat={y}. Lintang (lat) Indonesia "
                "antara -11 dan 6, bujur (lon) antara 95 dan 141.",
                f"Coordinates look swapped: lon={x}, lat={y}. Indonesia's latitudes are "
                "-11..6 and longitudes 95..141.",
                lon=x, lat=y,
            )
        return CheckedPoint(
            y, x, swapped=True,
            warning=f"Lintang dan bujur tertukar; dibaca sebagai lon={y}, lat={x}",
        )

    if not as_given_ok:
        if swapped_ok and (_inside(y, x, area) or _inside(y, x, INDONESIA_BBOX)):
            return swapped()
        raise InvalidCoordinates(
            f"Koordinat di luar jangkauan: lon={x} (harus -180..180), lat={y} (harus -90..90)",
            f"Coordinates out of range: lon={x} (must be -180..180), lat={y} (must be -90..90)",
            lon=x, lat=y,
        )
    if not _inside(x, y, area) and swapped_ok and _inside(y, x, area):
        return swapped()
    if not _inside(x, y, INDONESIA_BBOX) and swapped_ok and _inside(y, x, INDONESIA_BBOX):
        return swapped()
    return CheckedPoint(x, y)


def _number(value: object, name_id: str, name_en: str) -> float:
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidCoordinates(
            f"Nilai {name_id} bukan angka: {value!r}", f"{name_en} is not a number: {value!r}"
        ) from None
    if not math.isfinite(f):
        raise InvalidCoordinates(
            f"Nilai {name_id} tidak sah (NaN/tak hingga): {value!r}",
            f"{name_en} is not finite: {value!r}",
        )
    return f
