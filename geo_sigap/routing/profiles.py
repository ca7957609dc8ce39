"""Travel profiles: which roads a vehicle may use, how fast, in which direction.

Two profiles ship by default (``geo_sigap/config/speeds.toml``): ``motor`` (sepeda
motor: may use gang/alleys and paths) and ``mobil`` (car). A team's
:class:`~geo_sigap.domain.teams.Vehicle` picks its profile. A user TOML file
(``GEO_SIGAP_ROUTING_SPEEDS_FILE``) overrides any key of the defaults.

Speeds are km/h in the file and metres per second in code; times are seconds.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from geo_sigap.domain.teams import Vehicle
from geo_sigap.errors import ConfigError

DEFAULT_FILE = "speeds.toml"

_ALLOW = {"yes", "designated", "permissive", "destination", "delivery", "customers", "official"}
_DENY = {"no", "private", "agricultural", "forestry", "discouraged", "use_sidepath", "military"}
_ONEWAY_FORWARD = {"yes", "true", "1"}
_ONEWAY_REVERSE = {"-1", "reverse"}


@dataclass(frozen=True, slots=True)
class Profile:
    """One travel profile.

    ``speeds_kmh`` maps an OSM highway class to km/h; a class missing from it is not
    usable. ``explicit_only`` classes are usable only when a ``mode_tags`` tag allows
    them explicitly (``highway=footway`` + ``motorcycle=yes``); a way carrying one of
    the ``closed_when`` tags (``toll=yes``: Indonesian toll roads bar motorcycles) is
    closed unless a ``mode_tags`` tag allows it.
    """

    name: str
    label: str
    speeds_kmh: Mapping[str, float]
    mode_tags: tuple[str, ...]
    explicit_only: frozenset[str] = frozenset()
    closed_when: tuple[tuple[str, str], ...] = ()

    def speed_ms(self, tags: Mapping[str, Any]) -> float | None:
        """Speed in m/s on a way with these OSM tags, or ``None`` when not allowed."""
        hw = road_class(tags)
        if hw is None:
            return None
        kmh = self.speeds_kmh.get(hw)
        if kmh is None and hw.endswith("_link"):
            kmh = self.speeds_kmh.get(hw[: -len("_link")])
        if kmh is None and hw == "alley":
            kmh = self.speeds_kmh.get("service")
        if kmh is None or kmh <= 0:
            return None
        verdict = self._access(tags)
        if verdict is False:
            return None
        if verdict is None and hw in self.explicit_only:
            return None
        if verdict is None and any((_first(tags.get(k)) or "").strip().lower() == v
                                   for k, v in self.closed_when):
            return None
        if tags.get("area") in ("yes", ["yes"]):
            return None
        limit = _maxspeed_kmh(tags.get("maxspeed"))
        if limit is not None:
            kmh = min(kmh, limit)
        return kmh / 3.6

    def _access(self, tags: Mapping[str, Any]) -> bool | None:
        for key in self.mode_tags:
            value = _first(tags.get(key))
            if value is None:
                continue
            value = value.strip().lower()
            if value in _ALLOW:
                return True
            if value in _DENY:
                return False
        return None


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """Profiles plus the access and straight-line rules, read from TOML."""

    profiles: dict[str, Profile]
    access_speed_ms: float = 5.0 / 3.6
    max_snap_m: float = 500.0
    detour_factor: float = 1.4
    straight_speed_ms: float = 20.0 / 3.6
    source: str = "<bawaan>"
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.profiles)

    def fingerprint(self) -> str:
        """A short hash of everything that changes edge travel times (cache key)."""
        text = json.dumps(self.raw.get("profile", {}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def profile_for(vehicle: Vehicle | str | None) -> str:
    """Profile name for a team's vehicle (``motor`` when not known)."""
    if isinstance(vehicle, Vehicle):
        return vehicle.value
    return Vehicle.parse(vehicle).value


def road_class(tags: Mapping[str, Any]) -> str | None:
    """The highway class used for speeds; ``service=alley`` counts as ``alley`` (gang)."""
    hw = _first(tags.get("highway"))
    if not hw:
        return None
    hw = hw.strip().lower()
    if hw == "service" and (_first(tags.get("service")) or "").lower() == "alley":
        return "alley"
    return hw


def oneway_direction(tags: Mapping[str, Any]) -> int:
    """0 both ways, 1 only along the way's node order, -1 only against it."""
    value = (_first(tags.get("oneway")) or "").strip().lower()
    if value in _ONEWAY_FORWARD:
        return 1
    if value in _ONEWAY_REVERSE:
        return -1
    if (_first(tags.get("junction")) or "").lower() in ("roundabout", "circular"):
        return 1
    return 0


def default_speeds_text() -> str:
    return resources.files("geo_sigap.config").joinpath(DEFAULT_FILE).read_text("utf-8")


def load_routing_config(path: str | Path | None = None) -> RoutingConfig:
    """Default speeds, overridden by the TOML file at ``path`` when given.

    Raises
    ------
    ConfigError
        The file cannot be read, is not TOML, or holds a speed that is not a positive
        number.
    """
    raw = tomllib.loads(default_speeds_text())
    source = "<bawaan>"
    if path is not None:
        p = Path(path)
        try:
            user = tomllib.loads(p.read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(
                f"Berkas kecepatan tidak dapat dibaca: {p} ({exc.strerror})",
                f"Cannot read the speeds file: {p} ({exc.strerror})",
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"Berkas kecepatan {p} bukan TOML yang sah: {exc}",
                f"Speeds file {p} is not valid TOML: {exc}",
            ) from exc
        raw = _merge(raw, user)
        source = str(p)
    profiles = {}
    for name, entry in raw.get("profile", {}).items():
        speeds = {}
        for cls, kmh in entry.get("speeds", {}).items():
            if not isinstance(kmh, int | float) or isinstance(kmh, bool) or kmh < 0:
                raise ConfigError(
                    f"Kecepatan '{cls}' pada profil '{name}' di {source} harus angka ≥ 0 "
                    f"(km/jam), bukan {kmh!r}",
                    f"Speed '{cls}' of profile '{name}' in {source} must be a number ≥ 0 "
                    f"(km/h), not {kmh!r}",
                )
            if kmh > 0:
                speeds[str(cls)] = float(kmh)
        profiles[name] = Profile(
            name=name,
            label=str(entry.get("label", name)),
            speeds_kmh=speeds,
            mode_tags=tuple(entry.get("mode_tags", ("access",))),
            explicit_only=frozenset(entry.get("explicit_only", ())),
            closed_when=tuple((str(k), str(v).lower()) for k, v in
                              entry.get("closed_when", {}).items()),
        )
    for needed in (v.value for v in Vehicle):
        if needed not in profiles:
            raise ConfigError(
                f"Profil '{needed}' tidak ada di {source}",
                f"Profile '{needed}' is missing from {source}",
            )
    access, straight = raw.get("access", {}), raw.get("straight_line", {})
    return RoutingConfig(
        profiles=profiles,
        access_speed_ms=_positive(access.get("speed_kmh", 5.0), "access.speed_kmh", source) / 3.6,
        max_snap_m=_positive(access.get("max_snap_m", 500.0), "access.max_snap_m", source),
        detour_factor=_positive(straight.get("detour_factor", 1.4), "detour_factor", source),
        straight_speed_ms=_positive(straight.get("speed_kmh", 20.0), "straight_line.speed_kmh",
                                    source) / 3.6,
        source=source,
        raw=raw,
    )


def _positive(value: Any, name: str, source: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        f = -1.0
    if not (f > 0 and math.isfinite(f)):
        raise ConfigError(
            f"Nilai '{name}' di {source} harus angka positif, bukan {value!r}",
            f"'{name}' in {source} must be a positive number, not {value!r}",
        )
    return f


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _first(value: Any) -> str | None:
    """OSM tags merged by simplification may be lists; take the first."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


_NUM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


def _maxspeed_kmh(value: Any) -> float | None:
    text = _first(value)
    if not text:
        return None
    m = _NUM.match(text.split(";")[0])
    if not m:
        return None
    kmh = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
    return kmh if kmh > 0 else None
