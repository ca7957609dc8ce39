"""WhatsApp in and out: reading messages pasted from a group, writing dispatch messages.

Pasted formats (Indonesian date order day/month/year; time with ``.`` or ``:``)::

    [21.15, 4/3/2025] Budi RT 05: ada keributan …     (WhatsApp Web / desktop copy)
    [4/3/25 21.15.02] Budi: …                          (iPhone export)
    4/3/25, 21:15 - Budi: …                            (Android export)

Lines that do not start a message continue the previous one. Times are local WIB
(Asia/Jakarta) and returned timezone-aware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from geo_sigap.dispatch.text import clean_text
from geo_sigap.domain.categories import CategoryTable, Priority
from geo_sigap.errors import InvalidInput

WIB = ZoneInfo("Asia/Jakarta")

_DATE = r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{2,4})"
_TIME = r"(?P<H>\d{1,2})[.:](?P<M>\d{2})(?:[.:](?P<S>\d{2}))?(?:\s?(?P<ampm>[AaPp]\.?[Mm]\.?))?"
_SENDER = r"(?P<sender>[^:\n]{1,80}?):\s?(?P<text>.*)"
_FORMATS = (
    re.compile(rf"^\u200e?\[{_TIME},\s*{_DATE}\]\s*{_SENDER}$"),
    re.compile(rf"^\u200e?\[{_DATE},?\s+{_TIME}\]\s*{_SENDER}$"),
    re.compile(rf"^\u200e?{_DATE},?\s+{_TIME}\s+[-–]\s+{_SENDER}$"),
)
# "-1.6200, 103.6000", "lokasi: -1,62 103,60", maps links with ?q= / @lat,lon / ll=
_COORDS = re.compile(
    r"(?P<a>-?\d{1,3}\.\d{3,})\s*,\s*(?P<b>-?\d{1,3}\.\d{3,})")


@dataclass(frozen=True, slots=True)
class PastedMessage:
    """One message of a paste: when (aware, WIB), who, and the text."""

    at: datetime
    sender: str
    text: str

    def to_dict(self) -> dict:
        return {"reported_at": self.at.isoformat(), "sender": self.sender, "text": self.text}


def _when(g: dict) -> datetime:
    day, month, year = int(g["d"]), int(g["m"]), int(g["y"])
    if year < 100:
        year += 2000
    hour, minute, sec = int(g["H"]), int(g["M"]), int(g["S"] or 0)
    ampm = (g.get("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return datetime(year, month, day, hour, minute, sec, tzinfo=WIB)
    except ValueError:
        raise InvalidInput(
            f"Tanggal/jam pesan tidak sah: {g['d']}/{g['m']}/{g['y']} {g['H']}.{g['M']}",
            f"Invalid message date/time: {g['d']}/{g['m']}/{g['y']} {g['H']}:{g['M']}",
        ) from None


def parse_messages(text: str) -> list[PastedMessage]:
    """Split a paste into messages (see module formats). Raises :class:`InvalidInput`
    when no line looks like a WhatsApp message."""
    out: list[tuple[datetime, str, list[str]]] = []
    for raw in clean_text(text or "").split("\n"):
        line = raw.strip().replace("\u202f", " ")
        for fmt in _FORMATS:
            m = fmt.match(line)
            if m:
                out.append((_when(m.groupdict()), m["sender"].strip(), [m["text"].strip()]))
                break
        else:
            if out and line:
                out[-1][2].append(line)
    if not out:
        raise InvalidInput(
            "Teks tidak dikenali sebagai pesan WhatsApp (contoh: "
            "'[21.15, 4/3/2025] Budi: ada keributan di …')",
            "Text is not recognised as a WhatsApp message (e.g. "
            "'[21.15, 4/3/2025] Budi: there is a fight at …')")
    return [PastedMessage(at, sender, "\n".join(t for t in lines if t)) for at, sender, lines
            in out]


def guess_category(text: str, categories: CategoryTable) -> tuple[str | None, list[str]]:
    """The category whose keywords the text matches most (ties: the more urgent, then
    table order), and the matched keywords; ``(None, [])`` when nothing matches."""
    low = " " + re.sub(r"[^\w]+", " ", text.lower()) + " "
    best, best_key, best_words = None, None, []
    for i, cat in enumerate(categories):
        words = [k for k in cat.keywords
                 if " " + re.sub(r"[^\w]+", " ", k.lower()).strip() + " " in low]
        if not words:
            continue
        key = (len(words), -int(cat.default_priority), -i)
        if best_key is None or key > best_key:
            best, best_key, best_words = cat.code, key, words
    return best, best_words


def coordinates_in(text: str) -> tuple[float, float] | None:
    """A (lat, lon) pair written in the text (shared location, maps link) as (lon, lat)
    — WhatsApp and map links write latitude first; the caller checks and corrects."""
    m = _COORDS.search(text or "")
    if not m:
        return None
    a, b = float(m["a"]), float(m["b"])
    return (b, a)


# ------------------------------------------------------------------ messages out

def map_link(lon: float, lat: float) -> str:
    """A map link that opens on any phone (lat,lon order as map apps expect)."""
    return f"https://maps.google.com/?q={lat:.6f},{lon:.6f}"


def normalize_phone(phone: str | None) -> str | None:
    """Indonesian numbers to international digits: ``0812-3456-789`` → ``628123456789``."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return None
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    return digits


def wa_link(phone: str | None, text: str) -> str:
    """``https://wa.me/<number>?text=…`` (no number: WhatsApp asks whom to send to)."""
    number = normalize_phone(phone) or ""
    return f"https://wa.me/{number}?text={quote(text, safe='')}"


def _wib(t: datetime | None) -> str:
    return t.astimezone(WIB).strftime("%d/%m/%Y %H.%M WIB") if t else "-"


def whatsapp_message(*, ticket: str, category_name: str, description: str,
                     place: str, address_text: str | None, lonlat: tuple[float, float] | None,
                     priority: Priority, reported_at: datetime, team_name: str, kind: str,
                     others: list[tuple[str, str]], eta_s: float | None = None) -> str:
    """The dispatch message for one team, in Bahasa Indonesia.

    ``place``: RT/RW/kelurahan description; ``others``: (team name, kind) of the other
    assigned teams; ``eta_s``: seconds by road, if known.
    """
    role = "PENANGGUNG JAWAB UTAMA" if kind == "lead" else "PENDUKUNG"
    lines = [
        f"*[SIGAP] PENUGASAN – PRIORITAS {priority.label.upper()}*",
        f"Tiket: {ticket}",
        f"Kejadian: {category_name}",
        f"Uraian: {description.strip() or '-'}",
        f"Lokasi: {place}",
    ]
    if address_text:
        lines.append(f"Alamat/patokan: {address_text}")
    if lonlat is not None:
        lines.append(f"Peta: {map_link(*lonlat)}")
    lines.append(f"Dilaporkan: {_wib(reported_at)}")
    lines.append(f"Tugas {team_name}: {role}")
    if eta_s is not None:
        lines.append(f"Perkiraan waktu tempuh: {max(1, round(eta_s / 60))} menit")
    if others:
        lines.append("Tim lain: " + "; ".join(
            f"{n} ({'utama' if k == 'lead' else 'pendukung'})" for n, k in others))
    else:
        lines.append("Tim lain: -")
    lines.append("Mohon segera menuju lokasi dan perbarui status di GeoSIGAP "
                 "(menuju lokasi → tiba → selesai ditangani). Terima kasih.")
    return "\n".join(lines)


def citizen_message(*, ticket: str, category_name: str, status_label: str,
                    at: datetime | None, place: str, note: str | None = None) -> str:
    """Message to the reporting citizen (no names; safe to send to the reporter)."""
    text = (f"Terima kasih atas laporan Anda (tiket {ticket}, {category_name}, {place}). "
            f"Status: {status_label} pada {_wib(at)}.")
    if note:
        text += f" Keterangan: {note.strip()}"
    return text + " Pantau status dengan kode tiket Anda di halaman status GeoSIGAP."
