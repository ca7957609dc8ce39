"""Free text from users made safe to store and show.

Text pasted from WhatsApp or typed on phones carries invisible characters: NUL and other
C0/C1 control characters (PostgreSQL refuses NUL in text columns, terminals and logs
misbehave on the others) and Unicode bidirectional controls (a right-to-left override can
make ``gpj.exe`` display as ``exe.jpg`` or reorder a phone number on screen). This module
removes them, keeps line breaks and tabs, and normalises to NFC.
"""

from __future__ import annotations

import unicodedata

# C0 controls except tab and newline (CR is folded into newlines first), DEL, C1 controls,
# LRM/RLM, bidi embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069), BOM.
_DROP = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0),
     0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF])


def clean_text(value: str, *, single_line: bool = False) -> str:
    """``value`` in NFC without control or bidi-override characters.

    Line breaks (``\\r\\n``, ``\\r`` → ``\\n``) and tabs are kept, or turned into spaces
    with ``single_line``. Leading/trailing white space is left to the caller.
    """
    out = unicodedata.normalize("NFC", str(value))
    out = out.replace("\r\n", "\n").replace("\r", "\n").translate(_DROP)
    if single_line:
        out = out.replace("\n", " ").replace("\t", " ")
    return out


def has_controls(value: str) -> bool:
    """True when :func:`clean_text` would remove something from ``value`` (besides CR)."""
    return str(value).replace("\r", "").translate(_DROP) != str(value).replace("\r", "")
