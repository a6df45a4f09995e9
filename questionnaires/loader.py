"""Read instrument files, check every field, and give back frozen objects.

The file format (TOML) names answer scales once under ``[scales.NAME]`` and
each item refers to one with ``scale = "NAME"``; the loader resolves the
reference so every :class:`Item` carries its own options, positive and
negative sets, score mapping and whether it offers "Don't know".

The canonical JSON form of an instrument (:meth:`Instrument.definition`) is
what the database stores per version, so a wave can always be rendered and
scored with the exact wording its answers were given to.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIRECTORY = Path(__file__).resolve().parent

ROLES = ("core", "pool", "optional")
KINDS = ("choice", "text")
AUDIENCES = ("staff", "patient")
DONT_KNOW = "dont_know"
DONT_KNOW_LABEL = "Don't know"


class InstrumentError(ValueError):
    """An instrument file is malformed; the message names the file and field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    score: float | None  # None for "Don't know" and for unscored scales
    easy_read: str | None = None  # simpler words for the easy-read presentation
    picture: str | None = None  # name of the symbol drawn beside the easy-read words


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str
    role: str
    kind: str
    group: str | None
    options: tuple[Option, ...]
    positive: frozenset[str]
    negative: frozenset[str]
    dont_know: bool
    validated: bool
    hint: str | None
    max_length: int | None

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    def score(self, value: str) -> float | None:
        for option in self.options:
            if option.value == value:
                return option.score
        return None


@dataclass(frozen=True, slots=True)
class Instrument:
    key: str
    title: str
    audience: str
    intro: str
    privacy: str
    rotating_per_pulse: int
    items: tuple[Item, ...]
    source: str

    @property
    def core_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.role == "core")

    @property
    def pool_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.role == "pool")

    @property
    def optional_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.role == "optional")

    @property
    def items_per_pulse(self) -> int:
        """How many questions one pulse asks: core, rotating and optional."""
        return len(self.core_items) + self.rotating_per_pulse + len(self.optional_items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def definition(self) -> dict[str, Any]:
        """The canonical, JSON-ready form stored with each version."""
        return {
            "key": self.key,
            "title": self.title,
            "audience": self.audience,
            "intro": self.intro,
            "privacy": self.privacy,
            "rotating_per_pulse": self.rotating_per_pulse,
            "items": [_item_definition(item) for item in self.items],
        }

    def content_hash(self) -> str:
        canonical = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _item_definition(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "text": item.text,
        "role": item.role,
        "kind": item.kind,
        "group": item.group,
        "options": [
            {"value": o.value, "label": o.label, "score": o.score, "easy_read": o.easy_read,
             "picture": o.picture}
            for o in item.options
        ],
        "positive": sorted(item.positive),
        "negative": sorted(item.negative),
        "dont_know": item.dont_know,
        "validated": item.validated,
        "hint": item.hint,
        "max_length": item.max_length,
    }


def load_file(path: Path) -> Instrument:
    """Load and validate one instrument file.

    Raises
    ------
    InstrumentError
        If the file cannot be parsed or any field is missing or wrong.
    """
    source = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InstrumentError(source, "(file)", f"not valid TOML: {error}") from None
    except OSError as error:
        raise InstrumentError(source, "(file)", f"cannot be read: {error.strerror}") from None
    return _parse_instrument(raw, source)


def load_all(directory: Path = DIRECTORY) -> dict[str, Instrument]:
    """Load every ``*.toml`` instrument in ``directory``, keyed by instrument key."""
    instruments: dict[str, Instrument] = {}
    for path in sorted(directory.glob("*.toml")):
        instrument = load_file(path)
        if instrument.key in instruments:
            raise InstrumentError(
                path.name, "key", f"'{instrument.key}' is already used by "
                f"{instruments[instrument.key].source}"
            )
        instruments[instrument.key] = instrument
    return instruments


def instrument_from_definition(definition: Mapping[str, Any], source: str) -> Instrument:
    """Rebuild an instrument from the stored canonical definition of a version."""
    items = tuple(
        Item(
            id=item["id"],
            text=item["text"],
            role=item["role"],
            kind=item["kind"],
            group=item["group"],
            options=tuple(
                Option(o["value"], o["label"], o["score"], o.get("easy_read"), o.get("picture"))
                for o in item["options"]
            ),
            positive=frozenset(item["positive"]),
            negative=frozenset(item["negative"]),
            dont_know=item["dont_know"],
            validated=item["validated"],
            hint=item["hint"],
            max_length=item["max_length"],
        )
        for item in definition["items"]
    )
    return Instrument(
        key=definition["key"],
        title=definition["title"],
        audience=definition["audience"],
        intro=definition["intro"],
        privacy=definition["privacy"],
        rotating_per_pulse=definition["rotating_per_pulse"],
        items=items,
        source=source,
    )


# --- parsing -----------------------------------------------------------------


class _Reader:
    """Typed access to one TOML table that names the field path in every error."""

    def __init__(self, table: Mapping[str, Any], source: str, path: str) -> None:
        self.table = table
        self.source = source
        self.path = path

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> InstrumentError:
        return InstrumentError(self.source, self.field(name), problem)

    def required_text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise self.fail(name, "is required")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.table.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "must be a non-empty string")
        return value.strip()

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.table.get(name, default)
        if value not in allowed:
            raise self.fail(name, f"must be one of {', '.join(allowed)} (got {value!r})")
        return str(value)

    def flag(self, name: str, default: bool | None = None) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "must be true or false")
        return value

    def integer(self, name: str, *, minimum: int, default: int | None = None) -> int:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, "must be a whole number")
        if value < minimum:
            raise self.fail(name, f"must be at least {minimum}")
        return value

    def string_list(self, name: str) -> list[str]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "must be a list of option values")
        return value


def _parse_instrument(raw: Mapping[str, Any], source: str) -> Instrument:
    top = _Reader(raw, source, "")
    known = {"key", "title", "audience", "intro", "privacy", "rotating_per_pulse", "scales",
             "items"}
    for name in raw:
        if name not in known:
            raise top.fail(name, "is not a known field")
    scales_raw = raw.get("scales", {})
    if not isinstance(scales_raw, dict):
        raise top.fail("scales", "must be a table of named scales")
    scales = {
        name: _parse_scale(table, source, f"scales.{name}") for name, table in scales_raw.items()
    }
    items_raw = raw.get("items")
    if not isinstance(items_raw, list) or not items_raw:
        raise top.fail("items", "must be a non-empty list of [[items]]")
    items = tuple(
        _parse_item(table, source, f"items[{index}]", scales)
        for index, table in enumerate(items_raw)
    )
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            raise InstrumentError(source, f"items[{index}].id", f"'{item.id}' is used twice")
        seen.add(item.id)
    pool_size = sum(1 for item in items if item.role == "pool")
    rotating = top.integer("rotating_per_pulse", minimum=0, default=0)
    if rotating > pool_size:
        raise top.fail(
            "rotating_per_pulse", f"asks for {rotating} pool items but the pool has {pool_size}"
        )
    return Instrument(
        key=top.required_text("key"),
        title=top.required_text("title"),
        audience=top.choice("audience", AUDIENCES),
        intro=top.optional_text("intro") or "",
        privacy=top.required_text("privacy"),
        rotating_per_pulse=rotating,
        items=items,
        source=source,
    )


@dataclass(frozen=True, slots=True)
class _Scale:
    options: tuple[Option, ...]
    positive: frozenset[str]
    negative: frozenset[str]


def _parse_scale(table: Any, source: str, path: str) -> _Scale:
    reader = _Reader(table if isinstance(table, dict) else {}, source, path)
    if not isinstance(table, dict):
        raise InstrumentError(source, path, "must be a table")
    options_raw = table.get("options")
    if not isinstance(options_raw, list) or len(options_raw) < 2:
        raise reader.fail("options", "must list at least two options")
    options = []
    for index, option_raw in enumerate(options_raw):
        option = _Reader(option_raw if isinstance(option_raw, dict) else {}, source,
                         f"{path}.options[{index}]")
        value = option.required_text("value")
        if value == DONT_KNOW:
            raise option.fail("value", "'dont_know' is reserved: set dont_know = true on the item")
        score = option_raw.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            raise option.fail("score", "must be a number")
        for name in option_raw:
            if name not in ("value", "label", "score", "easy_read", "picture"):
                raise option.fail(name, "is not a known field")
        options.append(Option(
            value, option.required_text("label"), None if score is None else float(score),
            option.optional_text("easy_read"), option.optional_text("picture"),
        ))
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        raise reader.fail("options", "option values must be unique")
    if len({o.score is None for o in options}) > 1:
        raise reader.fail("options", "score every option of a scale, or none of them")
    positive = frozenset(reader.string_list("positive"))
    negative = frozenset(reader.string_list("negative"))
    for name, chosen in (("positive", positive), ("negative", negative)):
        unknown = sorted(chosen - set(values))
        if unknown:
            raise reader.fail(name, f"names unknown option(s): {', '.join(unknown)}")
    if positive & negative:
        raise reader.fail("negative", "an option cannot be both positive and negative")
    return _Scale(tuple(options), positive, negative)


def _parse_item(table: Any, source: str, path: str, scales: Mapping[str, _Scale]) -> Item:
    if not isinstance(table, dict):
        raise InstrumentError(source, path, "must be a table")
    reader = _Reader(table, source, path)
    known = {"id", "text", "role", "kind", "group", "scale", "dont_know", "validated", "hint",
             "max_length"}
    for name in table:
        if name not in known:
            raise reader.fail(name, "is not a known field")
    item_id = reader.required_text("id")
    if not item_id.replace("_", "").isalnum() or not item_id.islower():
        raise reader.fail("id", "must be lower-case letters, digits and underscores")
    kind = reader.choice("kind", KINDS, default="choice")
    if kind == "text":
        if "scale" in table or "dont_know" in table:
            raise reader.fail("scale", "a text item has no scale or dont_know")
        options: tuple[Option, ...] = ()
        positive = negative = frozenset[str]()
        dont_know = False
        max_length: int | None = reader.integer("max_length", minimum=1, default=1000)
    else:
        scale_name = reader.required_text("scale")
        if scale_name not in scales:
            raise reader.fail("scale", f"unknown scale '{scale_name}'")
        scale = scales[scale_name]
        dont_know = reader.flag("dont_know")
        options = scale.options
        if dont_know:
            options = options + (Option(DONT_KNOW, DONT_KNOW_LABEL, None),)
        positive, negative = scale.positive, scale.negative
        max_length = None
    return Item(
        id=item_id,
        text=reader.required_text("text"),
        role=reader.choice("role", ROLES),
        kind=kind,
        group=reader.optional_text("group"),
        options=options,
        positive=positive,
        negative=negative,
        dont_know=dont_know,
        validated=reader.flag("validated", default=True),
        hint=reader.optional_text("hint"),
        max_length=max_length,
    )
