"""Source contracts: one YAML file per source in ``checks/contracts/``.

This module is the single place that knows the canonical column names, the
Chinese headers and their aliases, the types, which columns are required,
the allowed values of enums, which dates must fall in the data month and
which empty amounts mean "unknown". Ingestion (``lim/ingest/staging.py``) and the
expectation suites both read the contracts through here.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from lim.core.paths import ROOT

CONTRACTS_DIR = ROOT / "checks" / "contracts"  # the YAML files, read by path like the SQL

#: The ten sources, in the order of extracts.md, then the optional civil_affairs_decisions of
#: rules-variants.md B.2 (民政局 审核确认记录, for the audit of rejected applications).
SOURCES: list[str] = [
    "civil_affairs_households",
    "civil_affairs_members",
    "household_registration",
    "education",
    "hr",
    "housing",
    "health",
    "medical_insurance",
    "emergency",
    "rural_revitalization",
    "civil_affairs_decisions",
]

#: Column types a contract may use.
COLUMN_TYPES = frozenset(
    {"text", "name", "id", "enum", "region_code", "month", "date", "amount", "integer"}
)

#: DuckDB type of each column type once staged (polars: Utf8 / Float64 / Int64 / Date).
SQL_TYPES = {
    "text": "VARCHAR",
    "name": "VARCHAR",
    "id": "VARCHAR",
    "enum": "VARCHAR",
    "region_code": "VARCHAR",
    "month": "VARCHAR",
    "date": "DATE",
    "amount": "DOUBLE",
    "integer": "BIGINT",
}
#: The one type map, warehouse side: the src_<source> tables keep amounts as DECIMAL(18,2).
WAREHOUSE_TYPES = {**SQL_TYPES, "amount": "DECIMAL(18,2)"}

#: Reason codes of quarantined rows (interpretations.md #6).
ROW_REASON_CODES = (
    "missing_required",
    "invalid_id",
    "invalid_value",
    "negative_amount",
    "date_outside_month",
    "oop_mismatch",
    "id_unlinked",
    "id_ambiguous",
)
#: Statuses of a refused file in load_log (interpretations.md #6).
REFUSAL_CODES = ("missing_column", "unreadable", "empty_file", "wrong_month")
#: Statuses of a normalized ID number.
ID_STATUSES = ("valid", "upgraded_15", "bad_checksum")

#: The medical_insurance out-of-pocket identity (extracts.md), tolerance in yuan.
OOP_TOLERANCE = 0.01
OOP_TERMS = ("total_cost", "fund_paid", "critical_illness_paid", "medical_assistance_paid")

# --------------------------------------------------------------------------
# header normalization
# --------------------------------------------------------------------------
_WS_RE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
# a trailing bracketed unit/remark: (元) （元） (元/月) [元] 【元】 — after NFKC the
# full-width round brackets are ASCII already.
_TRAILING_BRACKET_RE = re.compile(r"(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕)$")


def normalize_header(header: Any) -> str:
    """Normalize a header cell for matching against the contract.

    NFKC, every whitespace removed (ASCII, full-width, zero-width, BOM),
    leading ``*`` (the "required" marker of many templates) dropped, and one
    or more trailing bracketed units such as ``(元)`` ``（元）`` ``（元/月）`` dropped.
    """
    if header is None:
        return ""
    h = unicodedata.normalize("NFKC", str(header))
    h = _WS_RE.sub("", h)
    h = h.lstrip("*")
    while True:
        stripped = _TRAILING_BRACKET_RE.sub("", h)
        if stripped == h or not stripped:
            break
        h = stripped
    return h


# --------------------------------------------------------------------------
# contract objects
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    canonical: str
    header: str
    type: str
    required: bool
    aliases: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None
    in_month: bool = False
    empty_means: str | None = None  # "unknown" for amounts whose empty is not 0

    @property
    def headers(self) -> tuple[str, ...]:
        """The Chinese header first, then its aliases."""
        return (self.header, *self.aliases)

    @property
    def empty_is_unknown(self) -> bool:
        return self.empty_means == "unknown"

    @property
    def sql_type(self) -> str:
        """DuckDB type of the staged (normalized) column."""
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Contract:
    source: str
    department: str
    grain: str
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...] = ()
    dated_by: str | None = None
    optional: bool = False
    household_key: str | None = None
    household_columns: tuple[str, ...] = ()
    identity: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    # ---- lookups --------------------------------------------------------
    @property
    def canonical_names(self) -> list[str]:
        return [c.canonical for c in self.columns]

    def column(self, canonical: str) -> Column:
        for c in self.columns:
            if c.canonical == canonical:
                return c
        raise KeyError(f"{self.source} has no column {canonical!r}")

    def header_of(self, canonical: str) -> str:
        return self.column(canonical).header

    def header_map(self) -> dict[str, str]:
        """Every header and alias, normalized with :func:`normalize_header`, → canonical."""
        return _header_map(self.source)

    def columns_of_type(self, *types: str) -> list[Column]:
        return [c for c in self.columns if c.type in types]

    @property
    def required_columns(self) -> list[str]:
        return [c.canonical for c in self.columns if c.required]

    @property
    def optional_columns(self) -> list[str]:
        return [c.canonical for c in self.columns if not c.required]

    @property
    def allowed_values(self) -> dict[str, tuple[str, ...]]:
        """canonical → allowed values, for every enum column."""
        return {c.canonical: c.allowed for c in self.columns if c.allowed is not None}

    @property
    def id_column(self) -> str | None:
        ids = self.columns_of_type("id")
        return ids[0].canonical if ids else None

    @property
    def in_month_columns(self) -> list[str]:
        return [c.canonical for c in self.columns if c.in_month]

    @property
    def is_dated(self) -> bool:
        return bool(self.in_month_columns)

    @property
    def unknown_when_empty(self) -> list[str]:
        return [c.canonical for c in self.columns if c.empty_is_unknown]

    @property
    def has_oop_identity(self) -> bool:
        names = set(self.canonical_names)
        return self.identity is not None and {"out_of_pocket", *OOP_TERMS} <= names


@functools.lru_cache(maxsize=None)
def shared_aliases() -> dict[str, tuple[str, ...]]:
    """``checks/contracts/aliases.yaml``: header → the other spellings of it, for every source."""
    with (CONTRACTS_DIR / "aliases.yaml").open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    return {str(h): tuple(str(a) for a in (al or ())) for h, al in raw.items()}


def _parse_column(d: dict, source: str) -> Column:
    ctype = d["type"]
    if ctype not in COLUMN_TYPES:
        raise ValueError(f"{source}.{d['canonical']}: unknown type {ctype!r}")
    allowed = d.get("allowed")
    header = str(d["header"])
    own = tuple(str(a) for a in d.get("aliases") or ())
    return Column(
        canonical=d["canonical"],
        header=header,
        type=ctype,
        required=bool(d.get("required", False)),
        aliases=tuple(dict.fromkeys(shared_aliases().get(header, ()) + own)),
        allowed=tuple(str(a) for a in allowed) if allowed is not None else None,
        in_month=bool(d.get("in_month", False)),
        empty_means=d.get("empty_means"),
    )


@functools.lru_cache(maxsize=None)
def load_contract(source: str) -> Contract:
    """Load (once, cached) the contract of ``source``."""
    path = CONTRACTS_DIR / f"{source}.yaml"
    if source not in SOURCES or not path.exists():
        raise KeyError(f"unknown source {source!r}; expected one of {SOURCES}")
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    if raw.get("source") != source:
        raise ValueError(f"{path}: source is {raw.get('source')!r}, expected {source!r}")
    columns = tuple(_parse_column(c, source) for c in raw["columns"])
    return Contract(
        source=source,
        department=str(raw.get("department", "")),
        grain=str(raw.get("grain", "")),
        columns=columns,
        unique_key=tuple(raw.get("unique_key") or ()),
        dated_by=raw.get("dated_by"),
        optional=bool(raw.get("optional", False)),
        household_key=raw.get("household_key"),
        household_columns=tuple(raw.get("household_columns") or ()),
        identity=raw.get("identity"),
        raw=raw,
    )


@functools.lru_cache(maxsize=None)
def _header_map(source: str) -> dict[str, str]:
    contract = load_contract(source)
    mapping: dict[str, str] = {}
    for col in contract.columns:
        for h in col.headers:
            key = normalize_header(h)
            prev = mapping.get(key)
            if prev is not None and prev != col.canonical:
                raise ValueError(
                    f"{source}: header {h!r} maps to both {prev!r} and {col.canonical!r}"
                )
            mapping[key] = col.canonical
    return mapping


def load_all_contracts() -> dict[str, Contract]:
    """source → Contract, in :data:`SOURCES` order."""
    return {s: load_contract(s) for s in SOURCES}


def required_columns(source: str) -> list[str]:
    return load_contract(source).required_columns


def allowed_values(source: str) -> dict[str, tuple[str, ...]]:
    return load_contract(source).allowed_values


def canonical_columns(source: str) -> list[str]:
    return load_contract(source).canonical_names


def header_map(source: str) -> dict[str, str]:
    """Normalized header or alias → canonical name, for ``source``."""
    return load_contract(source).header_map()
