"""Shared CSV reading: every row validated, every error collected with its line number."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_sigap.errors import ImportFailed


def read_csv(path: str | Path, required: list[str]) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise ImportFailed(f"Berkas tidak ditemukan: {path}", f"File not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportFailed(
            f"{path.name} bukan CSV yang dapat dibaca: {str(exc).splitlines()[0]}",
            f"{path.name} is not a readable CSV: {str(exc).splitlines()[0]}",
            file=str(path),
        ) from exc
    check_columns(df, path, required)
    return df


def check_columns(df: pd.DataFrame, path: str | Path, required: list[str]) -> None:
    """Strip the header names of ``df`` in place; refuse the file if a required one is
    missing (saying which columns it does have)."""
    path = Path(path)
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ImportFailed(
            f"{path.name}: kolom wajib tidak ada: {', '.join(missing)} "
            f"(kolom yang ada: {', '.join(df.columns)})",
            f"{path.name}: required column(s) missing: {', '.join(missing)} "
            f"(columns present: {', '.join(df.columns)})",
            file=str(path), missing=missing,
        )


def refuse(path: str | Path, errors: list) -> ImportFailed:
    """The refusal of a whole file. Each error is one text, or (Indonesian, English) —
    a row is then named in the reader's language ("baris 12" / "row 12"). The details
    keep ``errors`` (Indonesian) and, where they differ, ``errors_en``."""
    name = Path(path).name
    ids = [e[0] if isinstance(e, tuple) else e for e in errors]
    ens = [e[1] if isinstance(e, tuple) else e for e in errors]
    more = len(errors) - 10
    shown_id = "; ".join(ids[:10]) + (f"; dan {more} galat lain" if more > 0 else "")
    shown_en = "; ".join(ens[:10]) + (f"; and {more} more error(s)" if more > 0 else "")
    return ImportFailed(
        f"{name} ditolak, tidak ada yang diimpor. {shown_id}",
        f"{name} refused, nothing imported. {shown_en}",
        file=str(path), errors=ids, **({"errors_en": ens} if ens != ids else {}),
    )


def cell(row, col: str) -> str | None:
    v = row.get(col)
    if v is None:
        return None
    v = str(v).strip()
    return v or None
