"""Teams: who can be sent, where they are, and which area they answer for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from geo_sigap.errors import InvalidInput


class Role(StrEnum):
    BHABINKAMTIBMAS = "bhabinkamtibmas"
    BABINSA = "babinsa"
    LINMAS = "linmas"
    SATPOL_PP = "satpol_pp"
    DINAS_SOSIAL = "dinas_sosial"
    PUSKESMAS = "puskesmas"
    DAMKAR = "damkar"
    BPBD = "bpbd"
    DINAS_PETERNAKAN = "dinas_peternakan"
    LAINNYA = "lainnya"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]

    @classmethod
    def parse(cls, value: str | Role) -> Role:
        if isinstance(value, Role):
            return value
        key = str(value).strip().lower().replace(" ", "_").replace("-", "_").replace(".", "")
        key = _ROLE_ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise InvalidInput(
                f"Peran tim tidak dikenal: {value!r}. Pilihan: {', '.join(r.value for r in cls)}",
                f"Unknown team role: {value!r}. Choices: {', '.join(r.value for r in cls)}",
                value=str(value),
            ) from None


_ROLE_LABELS = {
    Role.BHABINKAMTIBMAS: "Bhabinkamtibmas",
    Role.BABINSA: "Babinsa",
    Role.LINMAS: "Linmas",
    Role.SATPOL_PP: "Satpol PP",
    Role.DINAS_SOSIAL: "Dinas Sosial",
    Role.PUSKESMAS: "Puskesmas/Ambulans",
    Role.DAMKAR: "Damkar",
    Role.BPBD: "BPBD",
    Role.DINAS_PETERNAKAN: "Dinas Peternakan",
    Role.LAINNYA: "Instansi lain",
}
_ROLE_ALIASES = {
    "bhabin": "bhabinkamtibmas", "polri": "bhabinkamtibmas",
    "tni": "babinsa", "satpolpp": "satpol_pp", "satpol": "satpol_pp", "trc": "satpol_pp",
    "dinsos": "dinas_sosial", "ambulans": "puskesmas", "ambulance": "puskesmas",
    "pemadam": "damkar", "other": "lainnya",
}


class Vehicle(StrEnum):
    """A team's vehicle picks its routing profile."""

    MOTOR = "motor"
    MOBIL = "mobil"

    @classmethod
    def parse(cls, value: str | Vehicle | None) -> Vehicle:
        if value is None or str(value).strip() == "":
            return cls.MOTOR
        key = str(value).strip().lower()
        key = {"motorcycle": "motor", "sepeda_motor": "motor", "car": "mobil"}.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise InvalidInput(
                f"Kendaraan tidak dikenal: {value!r} (motor/mobil)",
                f"Unknown vehicle: {value!r} (motor/mobil)",
            ) from None


class TeamStatus(StrEnum):
    TERSEDIA = "tersedia"  # available
    BERTUGAS = "bertugas"  # on an assignment
    LEPAS = "lepas"  # off duty


@dataclass(slots=True)
class Team:
    """A team or officer that can be dispatched.

    ``post`` and ``last_position`` are (lon, lat) in EPSG:4326. ``area_codes`` are
    kelurahan (``15.71.11.1003``) and/or RW (``15.71.11.1003.RW002``) codes the team
    is responsible for ("penanggung jawab wilayah").
    """

    code: str
    name: str
    role: Role
    post: tuple[float, float]
    vehicle: Vehicle = Vehicle.MOTOR
    phone: str | None = None
    area_codes: tuple[str, ...] = ()
    status: TeamStatus = TeamStatus.TERSEDIA
    last_position: tuple[float, float] | None = None
    last_position_at: datetime | None = None
    members: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None

    @property
    def available(self) -> bool:
        return self.status == TeamStatus.TERSEDIA

    def covers(self, unit_codes: list[str] | tuple[str, ...]) -> bool:
        """True when any of the incident's unit codes lies in this team's area."""
        for area in self.area_codes:
            for unit in unit_codes:
                if unit and (unit == area or unit.startswith(area + ".")):
                    return True
        return False

    def position_at(
        self, now: datetime, max_age: timedelta
    ) -> tuple[tuple[float, float], bool]:
        """Where to route from: ``(lon, lat), is_stale``.

        The last known position if it is younger than ``max_age``; otherwise the post,
        with ``is_stale=True`` so that the suggestion can say so.
        """
        if self.last_position is not None and self.last_position_at is not None:
            if now - self.last_position_at <= max_age:
                return self.last_position, False
        return self.post, self.last_position is not None
