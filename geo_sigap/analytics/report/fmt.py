"""Indonesian number formats and place names for the rakor pack (never raw codes)."""

from __future__ import annotations

import lzma
import math
from functools import lru_cache

HARI_PANJANG = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def num(v, decimals: int = 0) -> str:
    """``12345.6`` → ``"12.345,6"`` (Indonesian: dot thousands, comma decimals)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    s = f"{float(v):,.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def pct(share, decimals: int = 0) -> str:
    """A share ``0.403`` → ``"40%"``."""
    if share is None or not math.isfinite(float(share)):
        return "–"
    return f"{num(100 * float(share), decimals)}%"


def signed_pct(change, decimals: int = 0) -> str:
    if change is None or not math.isfinite(float(change)):
        return "–"
    return ("+" if change >= 0 else "−") + pct(abs(change), decimals)


def minutes(v) -> str:
    return "–" if v is None or not math.isfinite(float(v)) else num(v)


def hours_block(start_hour: int, width: int = 4) -> str:
    """``20`` → ``"20.00–24.00"`` (Indonesian time notation)."""
    return f"{start_hour:02d}.00–{start_hour + width:02d}.00"


@lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    """Code → name of the provinces, kota/kabupaten and kecamatan of the bundled
    Kepmendagri list (kelurahan skipped: the pack takes those from the boundaries)."""
    from geo_sigap.importers.wilayah import BUNDLED_LIST

    out = {}
    try:
        with lzma.open(BUNDLED_LIST, "rt", encoding="utf-8") as f:
            for line in f:
                code, _, rest = line.partition(",")
                if code.count(".") <= 2:
                    out[code] = rest.rsplit(",", 1)[0].strip('"')
    except OSError:  # no code list: names fall back to codes
        pass
    return out


def area_title(kecamatan: str | None, unit_codes) -> str:
    """``15.71.11`` → ``"Kecamatan Paal Merah"``; all units of one kota → ``"Kota Jambi"``."""
    names = _region_names()
    if kecamatan:
        return f"Kecamatan {names.get(kecamatan, kecamatan)}"
    codes = sorted({str(c) for c in unit_codes})
    kec = sorted({".".join(c.split(".")[:3]) for c in codes})
    if len(kec) == 1:
        return f"Kecamatan {names[kec[0]]}" if kec[0] in names else "Semua wilayah"
    kota = sorted({".".join(c.split(".")[:2]) for c in codes})
    if len(kota) == 1 and kota[0] in names:
        return names[kota[0]]
    return "Semua wilayah"


def kecamatan_names(unit_codes) -> dict[str, str]:
    """Kecamatan code → name for the kecamatan of ``unit_codes``."""
    names = _region_names()
    kec = {".".join(str(c).split(".")[:3]) for c in unit_codes}
    return {c: names.get(c, c) for c in kec}
