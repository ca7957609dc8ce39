"""One settings object, from ``GEO_SIGAP_*`` environment variables and ``.env``.

Built by :func:`geo_sigap.web.app.create_app` and the CLI — never at import time.
Every field is documented in ``docs/configuration.md`` (checked by a test).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "ganti-saya"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GEO_SIGAP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        "sqlite:///geo_sigap.db",
        description="SQLAlchemy URL: sqlite:///file.db (embedded) or "
        "postgresql+psycopg://user@host/db (PostGIS).",
    )
    spatialite: bool | None = Field(
        None, description="SQLite only: load SpatiaLite (true), never (false), or when "
        "mod_spatialite is present (unset)."
    )
    sqlite_synchronous: str = Field(
        "full", description="SQLite only: full (every acknowledged write survives a power "
        "cut) or normal (survives a crash of the service; cheaper)."
    )
    data_dir: Path = Field(Path("."), description="Where the service keeps its files "
                           "(attachments, caches).")
    categories_file: Path | None = Field(
        None, description="TOML file of categories (default: the bundled table)."
    )
    road_network: Path | None = Field(
        None, description="Road network file to route on: OSM XML/PBF, osmnx GraphML, or "
        "road lines (GeoJSON, Shapefile, GeoPackage)."
    )
    road_columns: str | None = Field(
        None, description="Road-line columns and values, comma-separated as for routing "
        "build --map (e.g. highway=TYPE,oneway=ONEWAY,name=NAMA); unset: matched by name."
    )
    road_snap_tolerance_m: float = Field(
        3.0, ge=0, description="Join road line ends that stop this many metres or less "
        "short of another road (digitising gaps); 0 never joins."
    )
    routing_speeds_file: Path | None = Field(
        None, description="TOML file overriding default speeds per highway class and profile."
    )
    gazetteer_file: Path | None = Field(
        None, description="CSV/GeoJSON of landmarks (POIs) for forward geocoding."
    )
    locale: str = Field("id", description="Default language of the interface: id or en.")
    secret_key: str = Field(
        "", description="Secret key of the HMACs that store Idempotency-Keys and request "
        "fingerprints (they derive from report contents, reporter contact included); "
        "required outside --demo. Session cookies are random tokens stored hashed, not "
        "signed."
    )
    demo: bool = Field(False, description="Demo mode: demo area, demo users with known passwords.")
    stale_position_minutes: float = Field(
        15.0, description="A team position older than this is replaced by its post."
    )
    responsible_within_minutes: float = Field(
        5.0, description="Prefer the responsible team when its ETA is within this many "
        "minutes of the nearest team's."
    )
    duplicate_radius_m: float = Field(
        250.0, description="Reports of one category within this distance … "
    )
    duplicate_window_minutes: float = Field(
        60.0, description="… and this many minutes are linked as likely duplicates."
    )
    gap_tolerance_m: float = Field(
        50.0, description="A point in a gap between polygons takes the nearest unit "
        "within this distance (flagged)."
    )
    max_upload_bytes: int = Field(
        8 * 1024 * 1024, description="Largest photo accepted in a field report."
    )
    max_body_bytes: int = Field(
        1 * 1024 * 1024, description="Largest JSON request body accepted."
    )
    public_reports_per_hour: int = Field(
        20, description="Citizen reports accepted per client address per hour (0: no limit)."
    )
    public_status_per_hour: int = Field(
        300, description="Public ticket-status look-ups per client address per hour "
        "(0: no limit); makes guessing ticket codes impractical."
    )
    online_geocoder: bool = Field(
        False, description="Allow the optional online geocoder (Nominatim); off by default."
    )
    osrm_url: str | None = Field(
        None, description="Base URL of an external OSRM server; off when unset."
    )
    map_tiles_url: str | None = Field(
        None, description="Optional web tile layer URL template; the map works without it."
    )
    warm_up_on_start: bool = Field(
        True, description="Build geocoders, the routing engine and compiled kernels in the "
        "background at start-up, so the first requests do not wait."
    )
    start_wait_routing_s: float = Field(
        1.0, ge=0, description="`serve` starts answering once the routing engine is loaded "
        "(so the first team suggestion does not wait for it), or after at most this many "
        "seconds, whichever is first; the engine then goes on loading in the background "
        "(a first start that must build the road graph)."
    )
    malloc_arena_max: int = Field(
        2, ge=0, description="glibc malloc arenas per worker process, set at start (0: "
        "glibc's default, 8 per core). With one arena per request thread the worker's "
        "memory keeps growing under concurrent load; MALLOC_ARENA_MAX, when set, wins."
    )
    event_batch_ms: int = Field(
        200, ge=0, le=1000, description="Live events: while reads of the outbox keep "
        "finding several events (a busy spell), a worker reads it at most once per this "
        "many milliseconds, and each open stream gets what was read in one write; while "
        "they find one at a time, at most every 50 ms (an event after a quiet spell goes "
        "out at once). Each write to each stream costs CPU: with 50 open maps at 200 "
        "reports/s, 200 ms takes a quarter less CPU per report than 50 ms. 0: one read "
        "per wake-up."
    )
    forwarded_allow_ips: str = Field(
        "", description="Comma-separated addresses of reverse proxies whose "
        "X-Forwarded-For/-Proto are trusted (geo-sigap serve passes them to uvicorn); "
        "empty: none, the TCP peer is the client."
    )
    token_ttl_hours: float = Field(12.0, description="Lifetime of API tokens and sessions.")
    public_base_url: str | None = Field(
        None, description="Public address of this service (https://sigap.example.go.id), "
        "used in links sent to reporters (ticket status); relative links when unset."
    )
    channel_burst_minutes: float = Field(
        5.0, description="Messages from one sender on a chat channel within this many "
        "minutes of the previous one join the same draft report."
    )
    whatsapp_verify_token: str | None = Field(
        None, description="WhatsApp Cloud API: the verify token entered in the Meta app's "
        "webhook settings (answers the hub.challenge)."
    )
    whatsapp_app_secret: str | None = Field(
        None, description="WhatsApp Cloud API: the Meta app secret that signs every "
        "delivery (X-Hub-Signature-256); the webhook is off when unset."
    )
    whatsapp_access_token: str | None = Field(
        None, description="WhatsApp Cloud API: access token for downloading photos and "
        "replying; no outbound calls when unset."
    )
    whatsapp_phone_number_id: str | None = Field(
        None, description="WhatsApp Cloud API: the hotline's phone number ID (replies are "
        "sent from it)."
    )
    whatsapp_graph_url: str = Field(
        "https://graph.facebook.com/v21.0", description="WhatsApp Cloud API: Graph API "
        "base URL (with version)."
    )
    telegram_webhook_secret: str | None = Field(
        None, description="Telegram bot: the secret_token given to setWebhook, checked in "
        "X-Telegram-Bot-Api-Secret-Token; the webhook is off when unset."
    )
    telegram_bot_token: str | None = Field(
        None, description="Telegram bot: the token from @BotFather, for downloading photos "
        "and replying; no outbound calls when unset."
    )
    telegram_bot_username: str | None = Field(
        None, description="Telegram bot: its @username; group messages that mention it or "
        "start with /lapor become drafts."
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org", description="Telegram bot: Bot API base URL."
    )
    open311_enabled: bool = Field(
        False, description="Serve Open311 GeoReport v2 under /open311/v2 (public status "
        "without personal data; POST needs an API key)."
    )
    open311_api_keys: str = Field(
        "", description="Comma-separated API keys that may POST Open311 service requests."
    )
    open311_jurisdiction_id: str | None = Field(
        None, description="Open311 jurisdiction_id of this service (e.g. kotajambi.go.id); "
        "requests naming another one are refused."
    )
    ogcapi_enabled: bool = Field(
        False, description="Serve OGC API – Features (read-only) under /ogcapi for QGIS and "
        "other GIS clients; exact incident points only with a staff API token."
    )
    sms_gateway_secret: str | None = Field(
        None, description="SMS gateway: shared secret sent as X-Gateway-Secret or the "
        "'secret' form field; the webhook is off when unset."
    )

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        v = v.strip().lower()
        if v not in {"id", "en"}:
            raise ValueError("locale must be 'id' or 'en'")
        return v

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def check_secret(self) -> None:
        """Refuse to run outside demo mode with a placeholder secret."""
        from geo_sigap.errors import ConfigError

        if not self.demo and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ConfigError(
                "GEO_SIGAP_SECRET_KEY belum diatur (atau masih contoh). Buat dengan: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
                "GEO_SIGAP_SECRET_KEY is not set (or is a placeholder). Make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
