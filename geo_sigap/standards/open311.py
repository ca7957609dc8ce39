"""Open311 GeoReport v2: our categories as services, citizen reports in, public status out.

Follows https://wiki.open311.org/GeoReport_v2 (JSON and XML). Out goes only what the
public status page shows: ticket, category, status (``open``/``closed`` plus our step
as ``status_notes``), kelurahan, times — never the description, the address typed by the
reporter, names or phone numbers. Points are rounded to 3 decimals (about 110 m); for a
category with ``public_exact = false`` (pekat, ODGJ) there is no point at all.

A POST needs one of the configured API keys and creates a citizen report (the same
checks as the web form: category, coordinates inside the area, a description).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import select

from geo_sigap.dispatch import intake
from geo_sigap.dispatch.actors import Actor
from geo_sigap.domain.categories import Category, CategoryTable, Priority
from geo_sigap.domain.lifecycle import Status
from geo_sigap.errors import FeatureDisabled, IncidentNotFound, InvalidInput, PermissionDenied
from geo_sigap.storage.incidents import placement_from_row
from geo_sigap.storage.tables import IncidentRow, utcnow

DEFAULT_DAYS = 90
MAX_RESULTS = 1000
CLOSED = (Status.SELESAI.value, Status.DITOLAK.value)


def check_enabled(settings: Any, jurisdiction_id: str | None = None) -> None:
    if not settings.open311_enabled:
        raise FeatureDisabled("Open311 tidak diaktifkan", "Open311 is not enabled")
    own = settings.open311_jurisdiction_id
    if jurisdiction_id and own and jurisdiction_id != own:
        raise IncidentNotFound(f"jurisdiction_id {jurisdiction_id!r} tidak dikenal",
                               f"Unknown jurisdiction_id {jurisdiction_id!r}")


def check_api_key(settings: Any, api_key: str | None) -> None:
    keys = [k.strip() for k in (settings.open311_api_keys or "").split(",") if k.strip()]
    if not api_key or not any(hmac.compare_digest(api_key.encode(), k.encode())
                              for k in keys):
        raise PermissionDenied("api_key tidak sah", "Invalid api_key")


def discovery(base_url: str, changeset: str) -> dict[str, Any]:
    """The service discovery document (``discovery.json``) pointing at ``base_url``."""
    return {"changeset": changeset, "contact": "Posko GeoSIGAP",
            "key_service": "API key from the administrator (GEO_SIGAP_OPEN311_API_KEYS)",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                           "url": base_url, "changeset": changeset, "type": "production",
                           "formats": ["text/xml", "application/json"]}]}


def service(cat: Category, locale: str = "id") -> dict[str, Any]:
    """One category as an Open311 service."""
    en = locale.startswith("en")
    return {"service_code": cat.code, "service_name": cat.label(locale),
            "description": (cat.description_en if en else cat.description) or cat.label(locale),
            "metadata": False, "type": "realtime", "keywords": ", ".join(cat.keywords),
            "group": "SK4" if cat.sk4_sop else "umum"}


def services_list(categories: CategoryTable, locale: str = "id") -> list[dict[str, Any]]:
    return [service(c, locale) for c in categories]


def service_definition(categories: CategoryTable, code: str) -> dict[str, Any]:
    """``GET services/{code}``: our services have no extra attributes."""
    cat = categories.get(code)
    return {"service_code": cat.code, "attributes": []}


def request_view(categories: CategoryTable, row: IncidentRow, locale: str = "id"
                 ) -> dict[str, Any]:
    """A service request as the public may see it (no personal data)."""
    status = Status(row.status)
    try:
        cat: Category | None = categories.get(row.category)
    except Exception:  # noqa: BLE001 - a category removed from the table since
        cat = None
    p = placement_from_row(row)
    exact_ok = cat.public_exact if cat is not None else False
    lat = lon = None
    if exact_ok and row.lon is not None and row.lat is not None:
        lat, lon = round(row.lat, 3), round(row.lon, 3)
    expected = None
    if cat is not None:
        due = row.reported_at + timedelta(
            minutes=categories.target_minutes(cat.code, Priority(row.priority)))
        expected = due.isoformat()
    where = ", ".join(x for x in (f"Kel. {p.kelurahan_name}" if p.kelurahan_name else None,
                                  f"Kec. {p.kecamatan_name}" if p.kecamatan_name else None) if x)
    return {
        "service_request_id": row.ticket,
        "status": "open" if status.is_open else "closed",
        "status_notes": status.label_for(locale),
        "service_name": cat.label(locale) if cat else row.category,
        "service_code": row.category,
        "description": None,
        "agency_responsible": cat.lead.label if cat is not None and cat.lead else None,
        "service_notice": None,
        "requested_datetime": row.reported_at.isoformat(),
        "updated_datetime": (row.updated_at or row.reported_at).isoformat(),
        "expected_datetime": expected,
        "address": where or None, "address_id": None, "zipcode": None,
        "lat": lat, "long": lon, "media_url": None,
    }


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} bukan tanggal ISO 8601", f"{name} is not an ISO 8601 date",
                           field=name) from None
    if at.tzinfo is None:
        raise InvalidInput(f"{name} harus berzona waktu", f"{name} needs a time zone",
                           field=name)
    return at


def list_requests(services: Any, params: Mapping[str, str], *, locale: str = "id",
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """``GET requests``: by ``service_request_id`` (comma list; other filters ignored, as
    the spec says), or by ``service_code`` (comma list), ``status`` (open/closed),
    ``start_date``/``end_date`` (default: the last 90 days); newest first, at most 1000."""
    now = now or utcnow()
    q = select(IncidentRow)
    ids = [t.strip().upper() for t in (params.get("service_request_id") or "").split(",")
           if t.strip()]
    if ids:
        q = q.where(IncidentRow.ticket.in_(ids[:MAX_RESULTS]))
    else:
        end = _date(params.get("end_date"), "end_date") or now
        start = _date(params.get("start_date"), "start_date") or end - timedelta(
            days=DEFAULT_DAYS)
        q = q.where(IncidentRow.reported_at >= start, IncidentRow.reported_at <= end)
        codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
        if codes:
            q = q.where(IncidentRow.category.in_(codes))
        status = (params.get("status") or "").strip().lower()
        if status == "open":
            q = q.where(IncidentRow.status.not_in(CLOSED))
        elif status == "closed":
            q = q.where(IncidentRow.status.in_(CLOSED))
        elif status:
            raise InvalidInput("status harus open atau closed", "status must be open or closed",
                               field="status")
    q = q.order_by(IncidentRow.reported_at.desc(), IncidentRow.id.desc()).limit(MAX_RESULTS)
    with services.db.session() as s:
        return [request_view(services.categories, r, locale) for r in s.scalars(q)]


def get_request(services: Any, ticket: str, *, locale: str = "id") -> list[dict[str, Any]]:
    """``GET requests/{id}``: a list of one, as the spec says."""
    ticket = (ticket or "").strip().upper()
    with services.db.session() as s:
        row = s.scalar(select(IncidentRow).where(IncidentRow.ticket == ticket))
        if row is None:
            raise IncidentNotFound(f"Permintaan {ticket} tidak ditemukan",
                                   f"Service request {ticket} not found", ticket=ticket)
        return [request_view(services.categories, row, locale)]


def post_request(services: Any, form: Mapping[str, str]) -> list[dict[str, Any]]:
    """``POST requests`` (``api_key`` checked by the caller): a citizen report from
    ``service_code``, ``lat``, ``long``, ``description``, optional ``address_string``,
    ``first_name``/``last_name``/``phone`` (private: operators only)."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise InvalidInput("service_code wajib diisi", "service_code is required",
                           field="service_code")
    if not form.get("lat") or not form.get("long"):
        raise InvalidInput("lat dan long wajib diisi (address_string saja belum didukung)",
                           "lat and long are required (address_string alone is not "
                           "supported)", field="lat")
    name = " ".join(x.strip() for x in (form.get("first_name"), form.get("last_name"))
                    if x and x.strip()) or None
    data = intake.ReportInput(
        category=code, description=form.get("description") or "", lon=form.get("long"),
        lat=form.get("lat"), channel="web", address_text=form.get("address_string") or None,
        reporter_name=name, reporter_phone=(form.get("phone") or "").strip() or None)
    res = intake.report_incident(services, Actor.citizen(), data)
    return [{"service_request_id": res.incident["ticket"],
             "service_notice": "Laporan diterima dan menunggu verifikasi operator",
             "account_id": None}]


# -- XML ------------------------------------------------------------------------------

def to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    """``<root><item><field>…</field></item></root>`` with the XML declaration (UTF-8);
    ``None`` becomes an empty element, booleans ``true``/``false``, lists nested."""
    top = ET.Element(root)
    for row in rows:
        el = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(el, key)
            if isinstance(value, list):
                for v in value:
                    sub = ET.SubElement(child, "attribute")
                    for k2, v2 in (v.items() if isinstance(v, dict) else ()):
                        ET.SubElement(sub, k2).text = _xml_text(v2)
            else:
                child.text = _xml_text(value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def definition_xml(definition: dict[str, Any]) -> bytes:
    top = ET.Element("service_definition")
    ET.SubElement(top, "service_code").text = definition["service_code"]
    ET.SubElement(top, "attributes")
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def error_rows(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]
