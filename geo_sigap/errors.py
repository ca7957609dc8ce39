"""Every error the domain raises, with a message in Bahasa Indonesia and English.

Only the web edge knows HTTP status codes (``geo_sigap.web.errors``); the CLI
prints :attr:`GeoSigapError.message` in the user's locale.
"""

from __future__ import annotations

from typing import Any


def megabytes(n_bytes: float) -> tuple[str, str]:
    """A size in messages, always in MB (10⁶ bytes), one decimal: ``("8,4 MB", "8.4 MB")``
    (Indonesian decimal comma, English point)."""
    en = f"{n_bytes / 1e6:.1f} MB"
    return en.replace(".", ","), en


class GeoSigapError(Exception):
    """Base class: a machine-readable ``code``, messages in ``id`` and ``en``, details."""

    code = "error"

    def __init__(self, message_id: str, message_en: str | None = None, **details: Any) -> None:
        super().__init__(message_en or message_id)
        self.message_id = message_id
        self.message_en = message_en or message_id
        self.details = details

    def message(self, locale: str = "id") -> str:
        return self.message_en if locale.startswith("en") else self.message_id

    def to_dict(self, locale: str = "id") -> dict[str, Any]:
        return {"code": self.code, "message": self.message(locale), "details": self.details}


class NotFound(GeoSigapError):
    code = "not_found"


class IncidentNotFound(NotFound):
    code = "incident_not_found"


class TeamNotFound(NotFound):
    code = "team_not_found"


class UnitNotFound(NotFound):
    code = "unit_not_found"


class InvalidInput(GeoSigapError):
    code = "invalid_input"


class IdempotencyKeyReused(InvalidInput):
    """An ``Idempotency-Key`` sent again with a different request body."""

    code = "idempotency_key_reused"


class InvalidCoordinates(InvalidInput):
    code = "invalid_coordinates"


class UnknownCategory(InvalidInput):
    code = "unknown_category"


class OutsideCoverage(InvalidInput):
    code = "outside_coverage"


class FieldReportRequired(InvalidInput):
    """SOP step 6: "Ditangani" needs the team's field report (photos by category) or a
    reason why there is none."""

    code = "field_report_required"


class InvalidTransition(GeoSigapError):
    code = "invalid_transition"


class ConcurrentEdit(GeoSigapError):
    code = "concurrent_edit"


class PermissionDenied(GeoSigapError):
    code = "forbidden"


class CrossSiteRequest(PermissionDenied):
    """A write sent with the session cookie from another site's page (CSRF)."""

    code = "cross_site_request"


class NotAuthenticated(GeoSigapError):
    code = "not_authenticated"


class InvalidSignature(PermissionDenied):
    """A webhook delivery whose signature or secret token does not match."""

    code = "invalid_signature"


class FeatureDisabled(NotFound):
    """An optional integration (chat channel, Open311, OGC API) that is not configured."""

    code = "feature_disabled"


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"


class UnsupportedMediaType(InvalidInput):
    code = "unsupported_media_type"


class TooManyRequests(GeoSigapError):
    code = "too_many_requests"


class NoRoute(GeoSigapError):
    code = "no_route"


class ImportFailed(GeoSigapError):
    """A data file was refused; nothing from it was written."""

    code = "import_failed"


class ConfigError(GeoSigapError):
    code = "config_error"
