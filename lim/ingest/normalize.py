"""Value normalizers for the monthly extracts.

Every normalizer exists twice:

* vectorized, for whole columns: :func:`apply_normalizers` (DataFrame or LazyFrame, a list
  of :class:`NormSpec`) or :func:`normalize_series`. Input is a Utf8 column (what
  :mod:`lim.ingest.readers` returns); output is a typed ``value`` column (:data:`VALUE_DTYPES`)
  and a Utf8 ``code`` column: ``None`` when the cell is fine (or empty in an optional
  column), else a reason code of interpretations.md #6 (``missing_required``,
  ``invalid_id``, ``invalid_value``, ``negative_amount``). For ID numbers the code of a
  usable ID is its status: ``valid`` / ``upgraded_15`` / ``bad_checksum``.
* scalar, ``normalize_<kind>(value, ...) -> (value, code)``, which never raises. It runs
  the vectorized form on a one-row column, so both always agree. It also accepts Python
  cells (``date``, ``datetime``, ``int``, ``float``) as a spreadsheet reader gives them,
  formatted first with :func:`cell_to_str`.

Nothing here knows about files or contracts; :func:`stages_for` maps a contract column
type onto its normalizer.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence, TypeVar

import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # indexed by (sum of weighted digits) mod 11
MIDDLE_DOT = "\u00b7"  # ·
#: The middle dot of minority names as departments type it (extracts.md: U+2022 •, U+30FB ・ and
#: U+FF0E ．, the full-width full stop of a Chinese input method): each becomes U+00B7 in a
#: normalized name, "and nothing else is" (U+2027 ‧ and U+FF65 ･ stay as written).
MIDDLE_DOT_VARIANTS = "\u2022\u30fb\uff0e"  # • ・ ．
EXCEL_EPOCH = _dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (with Excel's 1900 leap bug)

# Status / error codes
VALID = "valid"
UPGRADED_15 = "upgraded_15"
BAD_CHECKSUM = "bad_checksum"
MISSING_REQUIRED = "missing_required"
INVALID_ID = "invalid_id"
INVALID_VALUE = "invalid_value"
NEGATIVE_AMOUNT = "negative_amount"
ID_OK_STATUSES = (VALID, UPGRADED_15, BAD_CHECKSUM)

_WS = r"[\s\u200b\u200c\u200d\u2060\ufeff]"  # whitespace incl. full-width (\s is Unicode) and zero-width
_LEADING_QUOTES = r"^['\u2018\u2019`]+"


# ---------------------------------------------------------------------------
# scalar helpers
# ---------------------------------------------------------------------------
def id_check_char(body17: str) -> str:
    """GB 11643 / ISO 7064 MOD 11-2 check character of a 17-digit body."""
    if len(body17) != 17 or not body17.isascii() or not body17.isdigit():
        raise ValueError(f"need 17 ASCII digits, got {body17!r}")
    total = sum(int(ch) * w for ch, w in zip(body17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def id_checksum_ok(id18: str) -> bool:
    """True when an 18-character ID's last character is its check character."""
    return len(id18) == 18 and id_check_char(id18[:17]) == id18[17]


def cell_to_str(value: Any) -> str | None:
    """Format one spreadsheet cell as the string the normalizers read.

    * ``None`` → ``None``; ``str`` unchanged; ``bool`` → ``TRUE``/``FALSE``.
    * ``int`` → its digits.
    * ``float``: integral and below 1e15 in magnitude (exact in a double: every 15-digit
      number, serial dates, whole amounts) → its digits without ``.0``; otherwise Python's
      ``repr``, which is scientific from 1e16 up — so an 18-digit ID that Excel stored as a
      number (and rounded to 15 significant digits) stays recognisably unrecoverable
      (``3.70322199001011e+17`` → ``invalid_id``) instead of becoming a wrong 18-digit ID.
    * ``datetime`` → ``YYYY-MM-DD`` at midnight, else ``YYYY-MM-DD HH:MM:SS``; ``date`` → ISO;
      ``time`` → ISO.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None if math.isnan(value) else repr(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.time):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    return str(value)


# ---------------------------------------------------------------------------
# vectorized normalizers, written as *stages*
#
# A normalizer is a list of stages; a stage is a list of named expressions that
# may only use the source column and the temporary columns of earlier stages.
# :func:`apply_normalizers` runs stage k of every column in one ``with_columns``,
# so each intermediate (the NFKC-cleaned string, the 17-digit body, the integer
# body, ...) is computed once per row instead of once per use (an eager polars
# ``select`` does no common-subexpression elimination).
# ---------------------------------------------------------------------------
Stage = list[pl.Expr]


def _nfkc(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Utf8).str.normalize("NFKC")


def _null_if_empty(e: pl.Expr) -> pl.Expr:
    return pl.when(e.str.len_bytes() == 0).then(pl.lit(None, pl.Utf8)).otherwise(e)


def _missing_code(required: bool) -> pl.Expr:
    return pl.lit(MISSING_REQUIRED if required else None, pl.Utf8)


def _none() -> pl.Expr:
    return pl.lit(None, pl.Utf8)


class _Names:
    """Temporary column names of one normalized column."""

    def __init__(self, value: str):
        self.prefix = f"__n_{value}__"

    def __call__(self, part: str) -> str:
        return self.prefix + part


def _simple_code(s: pl.Expr, ok: pl.Expr, required: bool) -> pl.Expr:
    return (
        pl.when(s.is_null())
        .then(_missing_code(required))
        .when(ok)
        .then(_none())
        .otherwise(pl.lit(INVALID_VALUE))
    )


# ---- ID numbers -------------------------------------------------------------
#: An 18-character ID as staging keeps it (with a length check of 18): 17 digits and a check digit
#: or X — or one X among the 17 (an X-final ID with its last two characters swapped, or a digit
#: typed as X): a bad checksum that reconciliation may link (extracts.md: one substitution at any
#: of the 18 positions or one transposition). The GX suites check the staged IDs against it too.
ID18_SHAPE = r"[0-9]*X?[0-9]*[0-9X]"
#: The same shape with its length built in (18 characters), written without look-ahead so that
#: RE2 (pyarrow, under pandas' string columns in the GX suites) runs it instead of Python's `re`
#: row by row: 17 digits, or k digits, X and 16-k digits; then a digit or X.
ID18_PATTERN = "^(?:[0-9]{17}|" + "|".join(f"[0-9]{{{k}}}X[0-9]{{{16 - k}}}" for k in range(17)) + ")[0-9X]$"


def id_stages(src: str, value: str, code: str, required: bool = True) -> list[Stage]:
    """ID number → ``value`` (18 chars or null) and ``code``.

    code: ``valid`` | ``upgraded_15`` | ``bad_checksum`` for an ID that has a value, else
    ``invalid_id`` (scientific notation, wrong length, other characters) or
    ``missing_required`` (empty in a required column; null when optional).
    """
    t = _Names(value)
    s = pl.col(t("s"))
    body = pl.col(t("body"))
    is18 = (s.str.len_chars() == 18) & s.str.contains(f"^{ID18_SHAPE}$")
    is15 = s.str.contains(r"^[0-9]{15}$")
    n = pl.col(t("n"))
    total = None
    for i, w in enumerate(ID_WEIGHTS):
        term = ((n // (10 ** (16 - i))) % 10) * w
        total = term if total is None else total + term
    check = pl.col(t("check"))
    kind = pl.col(t("kind"))
    return [
        [
            _null_if_empty(
                _nfkc(pl.col(src))
                .str.replace_all(_WS, "")
                .str.replace(_LEADING_QUOTES, "")
                .str.to_uppercase()
            ).alias(t("s"))
        ],
        [
            pl.when(is18).then(pl.lit(18)).when(is15).then(pl.lit(15)).otherwise(pl.lit(0)).alias(t("kind")),
        ],
        [
            pl.when(kind == 18)
            .then(s.str.slice(0, 17))
            .when(kind == 15)
            .then(pl.concat_str([s.str.slice(0, 6), pl.lit("19"), s.str.slice(6, 9)]))
            .otherwise(_none())
            .alias(t("body")),
        ],
        [body.str.to_integer(strict=False, dtype=pl.Int64).alias(t("n"))],
        [
            (total % 11)
            .replace_strict({i: ch for i, ch in enumerate(ID_CHECK_CHARS)}, return_dtype=pl.Utf8, default=None)
            .alias(t("check"))
        ],
        [
            pl.when(kind == 18)
            .then(s)
            .when(kind == 15)
            .then(pl.concat_str([body, check]))
            .otherwise(_none())
            .alias(value),
            pl.when(s.is_null())
            .then(_missing_code(required))
            .when((kind == 18) & (s.str.slice(17, 1) == check))
            .then(pl.lit(VALID))
            .when(kind == 18)
            .then(pl.lit(BAD_CHECKSUM))
            .when(kind == 15)
            .then(pl.lit(UPGRADED_15))
            .otherwise(pl.lit(INVALID_ID))
            .alias(code),
        ],
    ]


# ---- names and text ---------------------------------------------------------
def name_stages(src: str, value: str, code: str, required: bool = True) -> list[Stage]:
    """Drop every space (ASCII, full-width, any Unicode whitespace); the middle-dot variants
    ``•・．`` (:data:`MIDDLE_DOT_VARIANTS`) → ``·``. Nothing else changes (no NFKC: a name's
    characters, 𠮷 or 䶮 included, stay as written)."""
    v = pl.col(value)
    return [
        [
            _null_if_empty(
                pl.col(src)
                .cast(pl.Utf8)
                .str.replace_all(_WS, "")
                .str.replace_all(f"[{MIDDLE_DOT_VARIANTS}]", MIDDLE_DOT)
            ).alias(value)
        ],
        [pl.when(v.is_null()).then(_missing_code(required)).otherwise(_none()).alias(code)],
    ]


def text_stages(src: str, value: str, code: str, required: bool = True) -> list[Stage]:
    """Leading/trailing whitespace (full-width included) stripped; empty → null."""
    v = pl.col(value)
    return [
        [
            _null_if_empty(
                pl.col(src).cast(pl.Utf8).str.replace(r"^" + _WS + r"+", "").str.replace(_WS + r"+$", "")
            ).alias(value)
        ],
        [pl.when(v.is_null()).then(_missing_code(required)).otherwise(_none()).alias(code)],
    ]


def enum_stages(
    src: str, value: str, code: str, required: bool = True, allowed: Iterable[str] = ()
) -> list[Stage]:
    """NFKC + every whitespace removed, then exact membership in ``allowed``."""
    t = _Names(value)
    s = pl.col(t("s"))
    ok = s.is_in(list(allowed))
    return [
        [_null_if_empty(_nfkc(pl.col(src)).str.replace_all(_WS, "")).alias(t("s"))],
        [
            pl.when(ok).then(s).otherwise(_none()).alias(value),
            _simple_code(s, ok, required).alias(code),
        ],
    ]


def region_code_stages(src: str, value: str, code: str, required: bool = True) -> list[Stage]:
    """12 digits after NFKC and whitespace removal; a leading ``'`` and a trailing ``.0`` are tolerated."""
    t = _Names(value)
    s = pl.col(t("s"))
    ok = s.str.contains(r"^[0-9]{12}$")
    return [
        [
            _null_if_empty(
                _nfkc(pl.col(src))
                .str.replace_all(_WS, "")
                .str.replace(_LEADING_QUOTES, "")
                .str.replace(r"\.0+$", "")
            ).alias(t("s"))
        ],
        [
            pl.when(ok).then(s).otherwise(_none()).alias(value),
            _simple_code(s, ok, required).alias(code),
        ],
    ]


# ---- numbers ----------------------------------------------------------------
#: The largest amount accepted, in yuan (exclusive). Larger is a value typed into the wrong cell
#: (an ID number in an amount column, 3.6e17): quarantined as `invalid_value` instead of
#: overflowing the warehouse's DECIMAL(18,2) — which failed the whole month — or its sums.
AMOUNT_MAX = 1e12
#: Thousands separators, if any, group the integer part by threes (`1,234,567.50`): `1.234,50`
#: (a decimal comma) or `12,34` is not read as 1.2345 or 1234 but quarantined.
_GROUPED = r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]{1,3})?$"


def amount_stages(src: str, value: str, code: str, required: bool = False) -> list[Stage]:
    """Yuan amount → Float64 rounded to 2 decimals (half away from zero).

    Accepts ``1234.5``, ``1,234.50``, ``￥1234``, ``¥1234``, ``1234元``, full-width digits,
    spaces, and the exponent form a numeric cell may be written in (``1.5e-05``). Negative →
    ``negative_amount`` (value kept); unparseable, misplaced thousands separators or
    ≥ AMOUNT_MAX → ``invalid_value``.
    """
    t = _Names(value)
    g = pl.col(t("g"))
    s = pl.col(t("s"))
    x = pl.col(t("x"))
    v = pl.col(value)
    return [
        [
            _null_if_empty(
                _nfkc(pl.col(src))
                .str.replace_all(_WS, "")
                .str.replace_all(r"[¥\uffe5]", "")
                .str.replace_all("[\u2212\u2012\u2013]", "-")
                .str.replace(r"(?:元|RMB|CNY)$", "")
                .str.replace(r"^(?:RMB|CNY)", "")
            ).alias(t("g"))
        ],
        [
            pl.when(g.is_null() | ~g.str.contains(",", literal=True) | g.str.contains(_GROUPED))
            .then(g.str.replace_all(",", "", literal=True))
            .otherwise(pl.lit("?"))  # not a number: invalid_value below
            .alias(t("s"))
        ],
        [
            pl.when(s.str.contains(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?$"))
            .then(s.cast(pl.Float64, strict=False))
            .otherwise(pl.lit(None, pl.Float64))
            .alias(t("x"))
        ],
        [
            # nudge by 1e-9 so a written half cent (1.005, stored as 1.00499…) rounds up;
            # "+ 0.0" turns -0.0 into 0.0; AMOUNT_MAX and beyond (inf included) is no amount
            pl.when(x.abs() < AMOUNT_MAX)
            .then((x + x.sign() * 1e-9).round(2, mode="half_away_from_zero") + 0.0)
            .otherwise(pl.lit(None, pl.Float64))
            .alias(value),
        ],
        [
            pl.when(s.is_null())
            .then(_missing_code(required))
            .when(v.is_null())
            .then(pl.lit(INVALID_VALUE))
            .when(v < 0)
            .then(pl.lit(NEGATIVE_AMOUNT))
            .otherwise(_none())
            .alias(code)
        ],
    ]


def integer_stages(src: str, value: str, code: str, required: bool = True) -> list[Stage]:
    """Non-negative whole number (counts) → Int64; ``3.0`` is 3; negatives and fractions are ``invalid_value``."""
    t = _Names(value)
    s = pl.col(t("s"))
    v = pl.col(value)
    return [
        [_null_if_empty(_nfkc(pl.col(src)).str.replace_all(_WS, "").str.replace_all(",", "")).alias(t("s"))],
        [
            pl.when(s.str.contains(r"^\+?[0-9]+(?:\.0*)?$"))
            .then(
                s.str.replace(r"\.0*$", "")
                .str.replace(r"^\+", "")
                .str.to_integer(strict=False, dtype=pl.Int64)
            )
            .otherwise(pl.lit(None, pl.Int64))
            .alias(value)
        ],
        [_simple_code(s, v.is_not_null(), required).alias(code)],
    ]


# ---- dates and months ---------------------------------------------------------
_DATE_RE = (
    r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})"
    r"(?:[ T]+[0-9]{1,2}:[0-9]{1,2}(?::[0-9]{1,2}(?:\.[0-9]+)?)?)?$"
)
_SERIAL_RE = r"^([0-9]{5})(?:\.[0-9]+)?$"


def _date_clean(e: pl.Expr) -> pl.Expr:
    s = _nfkc(e).str.replace(r"^" + _WS + r"+", "").str.replace(_WS + r"+$", "")
    s = s.str.replace_all(r"\s*([-/.年月日:])\s*", "${1}")  # spaces around separators
    return _null_if_empty(s)


def _date_parse_stages(t: _Names) -> list[Stage]:
    """From cleaned ``t("s")`` → ``t("date")`` (Date or null). Accepted: ``2026-09-01``,
    ``2026/9/1``, ``2026.9.1``, ``20260901``, ``2026年9月1日``, ``2026-09-01 00:00:00``,
    Excel serials ``46266`` / ``46266.0`` (5-digit day numbers, 1927–2173)."""
    s = pl.col(t("s"))
    u = pl.col(t("u"))
    return [
        [
            s.str.replace(r"^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?$", "${1}-${2}-${3}")
            .str.replace(r"^([0-9]{4})([0-9]{2})([0-9]{2})$", "${1}-${2}-${3}")
            .alias(t("u")),
            s.str.extract(_SERIAL_RE, 1).cast(pl.Int64, strict=False).alias(t("serial")),
        ],
        [
            pl.coalesce(
                pl.concat_str(
                    [
                        u.str.extract(_DATE_RE, 1),
                        pl.lit("-"),
                        u.str.extract(_DATE_RE, 2).str.zfill(2),
                        pl.lit("-"),
                        u.str.extract(_DATE_RE, 3).str.zfill(2),
                    ]
                ).str.to_date("%Y-%m-%d", strict=False),
                pl.when(pl.col(t("serial")).is_not_null()).then(
                    pl.lit(EXCEL_EPOCH, pl.Date) + pl.duration(days=pl.col(t("serial")))
                ),
            ).alias(t("date"))
        ],
    ]


def date_stages(src: str, value: str, code: str, required: bool = True) -> list[Stage]:
    """Date (see :func:`_date_parse_stages` for the forms); unparseable → ``invalid_value``."""
    t = _Names(value)
    s = pl.col(t("s"))
    d = pl.col(t("date"))
    return [
        [_date_clean(pl.col(src)).alias(t("s"))],
        *_date_parse_stages(t),
        [d.alias(value), _simple_code(s, d.is_not_null(), required).alias(code)],
    ]


def month_stages(src: str, value: str, code: str, required: bool = True) -> list[Stage]:
    """``YYYY-MM`` from ``2025-03``, ``2025/3``, ``202503``, ``2025年3月``, or any accepted date form."""
    t = _Names(value)
    s = pl.col(t("s"))
    pat = r"^([0-9]{4})[-/.]([0-9]{1,2})$"
    mm = pl.col(t("mm"))
    ym = (
        s.str.replace(r"^([0-9]{4})年([0-9]{1,2})月?$", "${1}-${2}")
        .str.replace(r"^([0-9]{4})([0-9]{2})$", "${1}-${2}")
    )
    v = pl.col(value)
    parse = _date_parse_stages(t)
    return [
        [_date_clean(pl.col(src)).alias(t("s"))],
        [ym.str.extract(pat, 1).alias(t("yy")), ym.str.extract(pat, 2).cast(pl.Int32, strict=False).alias(t("mm")), *parse[0]],
        parse[1],
        [
            pl.coalesce(
                pl.when(mm.is_between(1, 12)).then(
                    pl.concat_str([pl.col(t("yy")), pl.lit("-"), mm.cast(pl.Utf8).str.zfill(2)])
                ),
                pl.col(t("date")).dt.strftime("%Y-%m"),
            ).alias(value)
        ],
        [_simple_code(s, v.is_not_null(), required).alias(code)],
    ]


# ---- dispatch ------------------------------------------------------------------
_STAGES = {
    "id": id_stages,
    "name": name_stages,
    "text": text_stages,
    "enum": enum_stages,
    "region_code": region_code_stages,
    "amount": amount_stages,
    "integer": integer_stages,
    "date": date_stages,
    "month": month_stages,
}


def stages_for(
    ctype: str, src: str, value: str, code: str, *, required: bool, allowed: Iterable[str] | None = None
) -> list[Stage]:
    """The stages that normalize Utf8 column ``src`` of contract type ``ctype`` into
    ``value`` (typed, see :data:`VALUE_DTYPES`) and ``code`` (Utf8, see module doc)."""
    if ctype not in _STAGES:
        raise ValueError(f"unknown column type {ctype!r}")
    if ctype == "enum":
        if allowed is None:
            raise ValueError("enum column needs allowed values")
        return enum_stages(src, value, code, required, allowed)
    return _STAGES[ctype](src, value, code, required)


@dataclass(frozen=True)
class NormSpec:
    """Normalize column ``src`` (Utf8) of type ``ctype`` into ``value`` and ``code``."""

    ctype: str
    src: str
    value: str
    code: str
    required: bool = True
    allowed: tuple[str, ...] | None = None


def apply_normalizers(frame: FrameT, specs: Sequence[NormSpec]) -> FrameT:
    """Add the ``value``/``code`` columns of every spec to a DataFrame or LazyFrame
    (temporary columns dropped). Stage k of every spec runs in one ``with_columns``."""
    all_stages = [
        stages_for(sp.ctype, sp.src, sp.value, sp.code, required=sp.required, allowed=sp.allowed)
        for sp in specs
    ]
    depth = max((len(st) for st in all_stages), default=0)
    produced = [name for sp in specs for name in (sp.value, sp.code)]
    order = [c for c in frame.collect_schema().names() if c not in produced] + produced
    out = frame
    for k in range(depth):
        exprs = [e for st in all_stages if k < len(st) for e in st[k]]
        out = out.with_columns(exprs)
    return out.select(order).with_columns(
        [pl.col(sp.value).cast(VALUE_DTYPES[sp.ctype]) for sp in specs]
    )


def normalize_series(
    ctype: str, values: pl.Series | Sequence[Any], *, required: bool = True, allowed: Iterable[str] | None = None
) -> pl.DataFrame:
    """Normalize one column; → DataFrame with ``value`` and ``code``. Python cells
    (dates, numbers) are formatted with :func:`cell_to_str` first."""
    if isinstance(values, pl.Series):
        s = values.cast(pl.Utf8) if values.dtype == pl.Utf8 else pl.Series([cell_to_str(v) for v in values.to_list()], dtype=pl.Utf8)
    else:
        s = pl.Series([cell_to_str(v) for v in values], dtype=pl.Utf8)
    df = pl.DataFrame({"src": s})
    spec = NormSpec(ctype, "src", "value", "code", required, tuple(allowed) if allowed is not None else None)
    return apply_normalizers(df, [spec]).select("value", "code")


VALUE_DTYPES: dict[str, pl.DataType] = {
    "id": pl.Utf8,
    "name": pl.Utf8,
    "text": pl.Utf8,
    "enum": pl.Utf8,
    "region_code": pl.Utf8,
    "month": pl.Utf8,
    "amount": pl.Float64,
    "integer": pl.Int64,
    "date": pl.Date,
}


# ---------------------------------------------------------------------------
# scalar forms (never raise)
# ---------------------------------------------------------------------------
def _scalar(ctype: str, value: Any, **kw: Any) -> tuple[Any, str | None]:
    try:
        out = normalize_series(ctype, [value], **kw)
        return out["value"][0], out["code"][0]
    except Exception:  # pragma: no cover - defensive: a normalizer never raises
        return None, INVALID_ID if ctype == "id" else INVALID_VALUE


def normalize_id(value: Any, required: bool = True) -> tuple[str | None, str | None]:
    """→ (18-char ID or None, code); code is ``valid``/``upgraded_15``/``bad_checksum`` or an error."""
    return _scalar("id", value, required=required)


def normalize_name(value: Any, required: bool = True) -> tuple[str | None, str | None]:
    return _scalar("name", value, required=required)


def normalize_text(value: Any, required: bool = True) -> tuple[str | None, str | None]:
    return _scalar("text", value, required=required)


def normalize_enum(
    value: Any, allowed: Iterable[str], required: bool = True
) -> tuple[str | None, str | None]:
    return _scalar("enum", value, required=required, allowed=list(allowed))


def normalize_region_code(value: Any, required: bool = True) -> tuple[str | None, str | None]:
    return _scalar("region_code", value, required=required)


def normalize_amount(value: Any, required: bool = False) -> tuple[float | None, str | None]:
    return _scalar("amount", value, required=required)


def normalize_integer(value: Any, required: bool = True) -> tuple[int | None, str | None]:
    return _scalar("integer", value, required=required)


def normalize_date(value: Any, required: bool = True) -> tuple[_dt.date | None, str | None]:
    return _scalar("date", value, required=required)


def normalize_month(value: Any, required: bool = True) -> tuple[str | None, str | None]:
    return _scalar("month", value, required=required)
