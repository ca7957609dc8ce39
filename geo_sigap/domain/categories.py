"""Incident categories and who answers them — data in a TOML file that users edit.

The default table (``geo_sigap/config/categories.toml``) is seeded from the product
brief: the five SK4 Sarolangun SOP categories and the general ones. Point
``GEO_SIGAP_CATEGORIES_FILE`` at your own copy (``geo-sigap config categories``
writes one) to change lead/support roles, priorities and target response times.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import IntEnum
from importlib import resources
from pathlib import Path

from geo_sigap.domain.teams import Role
from geo_sigap.errors import ConfigError, UnknownCategory


class Priority(IntEnum):
    """1 is the most urgent."""

    DARURAT = 1
    TINGGI = 2
    SEDANG = 3
    RENDAH = 4

    @property
    def label(self) -> str:
        return {1: "Darurat", 2: "Tinggi", 3: "Sedang", 4: "Rendah"}[int(self)]

    @classmethod
    def parse(cls, value: int | str | Priority) -> Priority:
        if isinstance(value, Priority):
            return value
        text = str(value).strip().lower()
        names = {"darurat": 1, "urgent": 1, "tinggi": 2, "high": 2, "sedang": 3,
                 "medium": 3, "rendah": 4, "low": 4}
        if text in names:
            return cls(names[text])
        try:
            return cls(int(text))
        except ValueError:
            from geo_sigap.errors import InvalidInput

            raise InvalidInput(
                f"Prioritas tidak sah: {value!r} (1–4 atau darurat/tinggi/sedang/rendah)",
                f"Invalid priority: {value!r} (1–4 or urgent/high/medium/low)",
            ) from None


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str  # Bahasa Indonesia
    name_en: str
    lead: Role | None  # None: the operator decides
    support: tuple[Role, ...] = ()
    default_priority: Priority = Priority.SEDANG
    target_response_min: float = 30.0
    sk4_sop: bool = False  # one of the five SK4 Sarolangun SOP categories
    keywords: tuple[str, ...] = ()
    icon: str = "alert"
    report_photo_required: bool = False  # step 6: the field report needs a photo
    description: str = ""  # plain-language hint for citizens (Bahasa Indonesia)
    description_en: str = ""
    public_exact: bool = True  # False: the public map never shows the exact point

    @property
    def roles(self) -> tuple[Role, ...]:
        """Lead first, then support roles."""
        return ((self.lead,) if self.lead else ()) + self.support

    def label(self, locale: str = "id") -> str:
        return self.name_en if locale.startswith("en") else self.name


@dataclass(slots=True)
class CategoryTable:
    categories: dict[str, Category] = field(default_factory=dict)
    target_by_priority: dict[Priority, float] = field(default_factory=dict)
    source: str = "<default>"

    def __iter__(self):
        return iter(self.categories.values())

    def __len__(self) -> int:
        return len(self.categories)

    def __contains__(self, code: object) -> bool:
        return code in self.categories

    def get(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise UnknownCategory(
                f"Kategori tidak dikenal: {code!r}. Pilihan: {', '.join(self.categories)}",
                f"Unknown category: {code!r}. Choices: {', '.join(self.categories)}",
                category=code,
                choices=list(self.categories),
            ) from None

    def target_minutes(self, code: str, priority: Priority | None = None) -> float:
        """Target response time (report → on scene), minutes.

        The stricter of the category's target and the priority's target.
        """
        cat = self.get(code)
        target = cat.target_response_min
        if priority is not None and priority in self.target_by_priority:
            target = min(target, self.target_by_priority[priority])
        return target


DEFAULT_FILE = "categories.toml"


def default_categories_text() -> str:
    return resources.files("geo_sigap.config").joinpath(DEFAULT_FILE).read_text("utf-8")


def load_categories(path: str | Path | None = None) -> CategoryTable:
    """Load the category table from ``path`` (or the bundled default).

    Raises :class:`ConfigError` naming the file and the entry that is wrong.
    """
    if path is None:
        text, source = default_categories_text(), "<bawaan>"
    else:
        p = Path(path)
        try:
            text, source = p.read_text("utf-8"), str(p)
        except OSError as exc:
            raise ConfigError(
                f"Berkas kategori tidak dapat dibaca: {p} ({exc.strerror})",
                f"Cannot read the categories file: {p} ({exc.strerror})",
            ) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Berkas kategori {source} bukan TOML yang sah: {exc}",
            f"Categories file {source} is not valid TOML: {exc}",
        ) from exc
    table = CategoryTable(source=source)
    for prio, minutes in raw.get("target_by_priority", {}).items():
        table.target_by_priority[Priority.parse(prio)] = float(minutes)
    for code, entry in raw.get("category", {}).items():
        try:
            lead = entry.get("lead")
            cat = Category(
                code=code,
                name=entry["name"],
                name_en=entry.get("name_en", entry["name"]),
                lead=Role.parse(lead) if lead else None,
                support=tuple(Role.parse(r) for r in entry.get("support", [])),
                default_priority=Priority.parse(entry.get("default_priority", 3)),
                target_response_min=float(entry.get("target_response_min", 30)),
                sk4_sop=bool(entry.get("sk4_sop", False)),
                keywords=tuple(k.lower() for k in entry.get("keywords", [])),
                icon=entry.get("icon", "alert"),
                report_photo_required=bool(entry.get("report_photo_required", False)),
                description=str(entry.get("description", "")),
                description_en=str(entry.get("description_en", entry.get("description", ""))),
                public_exact=bool(entry.get("public_exact", True)),
            )
        except (KeyError, ValueError, TypeError, Exception) as exc:  # noqa: BLE001
            msg = exc.message_id if hasattr(exc, "message_id") else repr(exc)
            raise ConfigError(
                f"Kategori '{code}' di {source} tidak sah: {msg}",
                f"Category '{code}' in {source} is invalid: {exc}",
                category=code,
            ) from exc
        table.categories[code] = cat
    if not table.categories:
        raise ConfigError(
            f"Berkas kategori {source} tidak berisi satu pun [category.*]",
            f"Categories file {source} defines no [category.*]",
        )
    return table
