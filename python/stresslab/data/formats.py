"""Bar file formats: detection and parsers into the long format (:mod:`stresslab.data.schema`).

Formats (``format=`` names; :func:`detect_format` picks one from the file's first lines):

``binance_archive``
    The data.binance.vision kline CSV: 12 columns, normally **no header** (``open_time, open, high,
    low, close, volume, close_time, quote_volume, trades, taker_buy_base, taker_buy_quote,
    ignore``), plain or inside the archive's ``.zip``. Open times are epoch **milliseconds**
    (spot files up to 2024) or **microseconds** (spot files from 2025); the unit is detected per
    row from the magnitude. A header line, when present, is skipped.
``kline_csv``
    Headered exports with 6 or more columns (python-binance dumps, Kaggle-style files): a time
    column (``timestamp``, ``date``, ``open_time``, ``open_time_utc``, ``datetime``, ``time``)
    holding text such as ``2017-08-17 04:00:00.000`` / ``2021-08-20 05:00:00`` (formats may change
    inside one file) or epoch numbers; ``open, high, low, close, volume``; optional
    ``symbol``/``ticker``/``pair``. Other columns are ignored.
``cryptodatadownload``
    CryptoDataDownload exports: an optional URL line above the header, rows **newest first**,
    ``unix`` in seconds (older rows, ``1502946000.0``) or milliseconds (newer rows), volume columns
    named per asset (``Volume ETH``, ``Volume USDT``; the base-asset one is used). Where the
    same hour appears twice (CDD's own row and the raw exchange row, as in its 2020 exports), the
    raw row (epoch in ms) is placed first, so :func:`stresslab.data.validate.repair` keeps it.
``csv`` / ``parquet``
    Generic files; ``columns={"timestamp": "Date", "open": "Open", ...}`` maps the canonical names
    to the file's names (unmapped canonical names are looked up by the synonyms above).
    A Parquet file written by stresslab (the long format) needs no mapping.

Compression: ``.zip`` (one CSV member) and ``.gz`` are read transparently.
Volume is in the base asset in every format. ``spread`` is null (klines carry no spread).
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import DataError, InvalidParameterError
from .schema import PRICE_COLUMNS, finalize

__all__ = [
    "FORMATS",
    "detect_format",
    "read_bars",
    "symbol_from_name",
    "interval_from_name",
    "normalize_symbol",
]

FORMATS = ("binance_archive", "kline_csv", "cryptodatadownload", "csv", "parquet")

ARCHIVE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
    "ignore",
)
REQUIRED = ("timestamp", *PRICE_COLUMNS, "volume")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "timestamp": (
        "timestamp",
        "open_time",
        "open_time_utc",
        "opentime",
        "open time",
        "date",
        "datetime",
        "time",
        "unix",
        "ts",
    ),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v", "base_volume"),
    "symbol": ("symbol", "ticker", "pair"),
    "spread": ("spread",),
}
QUOTES = ("USDT", "BUSD", "USDC", "FDUSD", "TUSD", "USD", "BTC", "ETH", "BNB", "EUR", "TRY")
_INTERVAL_TOKEN = re.compile(r"^\d+(s|m|h|d|w)$")
# Exact layouts first: polars parses them on a fast path; %.f (optional fraction) is ~4x slower.
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


# ---------------------------------------------------------------------------------------------
# Reading raw bytes


def _read_bytes(path: Path) -> bytes:
    """The CSV text of a plain, .gz or .zip file (the zip's single CSV member)."""
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.namelist() if not m.endswith("/")]
                csvs = [m for m in members if m.lower().endswith(".csv")] or members
                if len(csvs) != 1:
                    raise DataError(f"{path}: expected one CSV file inside the zip, found {members}")
                return zf.read(csvs[0])
        if name.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, gzip.BadGzipFile, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise DataError(f"{path}: no such file") from exc
        raise DataError(f"{path}: corrupt or unreadable archive: {exc}") from exc


def _first_bytes(path: Path, n: int = 8192) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _head_lines(data: bytes, n: int = 3) -> list[str]:
    text = data[:8192].decode("utf-8", errors="replace").lstrip("\ufeff")
    return [ln.strip() for ln in text.splitlines() if ln.strip()][:n]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fields(line: str) -> list[str]:
    return [f.strip().strip('"') for f in line.split(",")]


# ---------------------------------------------------------------------------------------------
# Detection


def detect_format(path: str | Path, data: bytes | None = None) -> str:
    """The format name (see module docs) of a bar file, from its extension and first lines."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    if data is None:
        plain = not path.name.lower().endswith((".zip", ".gz"))
        data = _first_bytes(path) if plain else _read_bytes(path)
    lines = _head_lines(data)
    if not lines:
        raise DataError(f"{path}: file is empty")
    first = lines[0]
    if first.lower().startswith("http") or "cryptodatadownload" in first.lower():
        return "cryptodatadownload"
    fields = _fields(first)
    if all(_is_number(f) for f in fields if f) and len(fields) >= 6:
        return "binance_archive"
    lowered = [f.lower() for f in fields]
    if any(f.startswith("unix") for f in lowered) and any(f.startswith("volume ") for f in lowered):
        return "cryptodatadownload"
    if lowered[: len(ARCHIVE_COLUMNS)] == list(ARCHIVE_COLUMNS) or lowered[:2] == ["open_time", "open"]:
        if len(lines) > 1 and _is_number(_fields(lines[1])[0]):
            return "binance_archive"
    return "kline_csv"


# ---------------------------------------------------------------------------------------------
# Symbols and intervals from file names


def normalize_symbol(symbol: str) -> str:
    """'ETH/USDT', 'eth-usdt' -> 'ETHUSDT'."""
    return re.sub(r"[^A-Za-z0-9]", "", symbol).upper()


def _tokens(path: Path) -> list[str]:
    stem = path.name
    for ext in (".gz", ".zip", ".csv", ".parquet", ".pq"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    return [t for t in re.split(r"[-_. ]+", stem) if t]


def symbol_from_name(path: str | Path) -> str | None:
    """The symbol in a file name such as ``BTCUSDT-1h-2024-08.zip`` or ``binance_ETHUSDT_1h.csv``."""
    for tok in _tokens(Path(path)):
        up = tok.upper()
        if tok == up and up.isalnum() and any(up.endswith(q) and len(up) > len(q) + 1 for q in QUOTES):
            return up
    return None


def interval_from_name(path: str | Path) -> str | None:
    """The interval token (``1m``, ``15m``, ``1h``, ``4h``, ``1d``) in a file name, if any."""
    for tok in _tokens(Path(path)):
        if _INTERVAL_TOKEN.match(tok):
            return tok
    return None


# ---------------------------------------------------------------------------------------------
# Column helpers


def _epoch_to_ms(col: pl.Expr) -> pl.Expr:
    """Epoch numbers in s, ms, µs or ns (decided per row by magnitude) to Int64 milliseconds."""
    v = col.cast(pl.Float64)
    a = v.abs()
    return (
        pl.when(a < 1e11)
        .then(v * 1000.0)
        .when(a < 1e14)
        .then(v)
        .when(a < 1e17)
        .then(v / 1000.0)
        .otherwise(v / 1e6)
        .round(0)
        .cast(pl.Int64)
    )


def _timestamp_series(df: pl.DataFrame, name: str, unit: str | None, fmt: str | None) -> pl.Series:
    """The bar open time (Datetime or Int64 epoch ms) from column ``name``."""
    col = df[name]
    dtype = col.dtype
    if isinstance(dtype, pl.Datetime):
        return col
    if dtype.is_numeric():
        if unit is None:
            return df.select(_epoch_to_ms(pl.col(name))).to_series()
        factor = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}.get(unit)
        if factor is None:
            raise InvalidParameterError(
                f"timestamp_unit: must be one of 's', 'ms', 'us', 'ns', got {unit!r}", "timestamp_unit"
            )
        return (col.cast(pl.Float64) * factor).round(0).cast(pl.Int64)
    if dtype == pl.Date:
        return col.cast(pl.Datetime("ms"))
    text = col.cast(pl.String).str.strip_chars()
    if fmt is not None:
        return text.str.to_datetime(fmt, time_unit="ms", strict=False)
    # Exports change layout mid-file (milliseconds written in early rows only), so each layout
    # fills the rows the previous ones left unparsed; usually the first layout parses them all.
    # A numeric offset (%z) is converted; naive text is UTC, as exchange exports are.
    out = text.str.to_datetime(_DATETIME_FORMATS[0], time_unit="ms", strict=False, time_zone="UTC")
    for layout in _DATETIME_FORMATS[1:]:
        todo = (out.is_null() & text.is_not_null()).arg_true()
        if todo.len() == 0:
            break
        parsed = text.gather(todo).str.to_datetime(layout, time_unit="ms", strict=False, time_zone="UTC")
        out = out.scatter(todo, parsed)
    return out


def _check_timestamps(out: pl.DataFrame, raw: pl.DataFrame, name: str, where: str) -> None:
    bad = out["timestamp"].is_null()
    if bad.any():
        idx = bad.arg_true()
        sample = raw[name].gather(idx[:3]).to_list()
        raise DataError(
            f"{where}: cannot parse {idx.len()} value(s) of time column {name!r} (e.g. {sample}); "
            f"pass timestamp_format= or timestamp_unit="
        )


def _resolve_columns(
    available: list[str],
    mapping: Mapping[str, str] | None,
    where: str,
    optional: tuple[str, ...] = ("symbol",),
) -> dict[str, str]:
    """canonical name -> file column, from the explicit mapping and then by synonyms."""
    mapping = dict(mapping or {})
    allowed = set(REQUIRED) | set(optional) | {"spread"}
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise InvalidParameterError(
            f"columns: unknown canonical name(s) {unknown}; allowed keys: {sorted(allowed)}", "columns"
        )
    lower = {c.lower().strip(): c for c in available}
    out: dict[str, str] = {}
    for canon in (*REQUIRED, *optional, "spread"):
        if canon in mapping:
            if mapping[canon] not in available:
                raise DataError(
                    f"{where}: column {mapping[canon]!r} (mapped to {canon!r}) not found; found columns {available}"
                )
            out[canon] = mapping[canon]
            continue
        for syn in SYNONYMS.get(canon, (canon,)):
            if syn in lower and lower[syn] not in out.values():
                out[canon] = lower[syn]
                break
    missing = [c for c in REQUIRED if c not in out]
    if missing:
        raise DataError(
            f"{where}: wrong columns: expected {list(REQUIRED)} (or a columns= mapping onto them), "
            f"found {available}; missing {missing}"
        )
    return out


def _assign_symbol(df: pl.DataFrame, sym_col: str | None, symbol: str | None, path: Path, where: str) -> pl.Expr:
    if sym_col is not None:
        # normalise the few distinct names rather than every row ('ETH/USDT' -> 'ETHUSDT')
        names = df[sym_col].cast(pl.String).unique().drop_nulls().to_list()
        mapping = {n: normalize_symbol(n) for n in names if normalize_symbol(n) != n}
        col = pl.col(sym_col).cast(pl.String)
        return col.replace(mapping) if mapping else col
    name = normalize_symbol(symbol) if symbol else symbol_from_name(path)
    if not name:
        raise InvalidParameterError(
            f"symbol: {where} has no symbol column and its name holds none; pass symbol='BTCUSDT'", "symbol"
        )
    return pl.lit(name, pl.String)


def _filter_symbol(df: pl.DataFrame, symbol: str | None, where: str) -> pl.DataFrame:
    if symbol is None:
        return df
    want = normalize_symbol(symbol)
    out = df.filter(pl.col("symbol") == want)
    if out.is_empty():
        have = sorted(df["symbol"].unique().to_list())
        raise DataError(f"{where}: unknown symbol {symbol!r}; this file holds {have}")
    return out


def _read_csv(data: bytes | Path, where: str, **kw: Any) -> pl.DataFrame:
    try:
        return pl.read_csv(data, infer_schema_length=10_000, null_values=["NULL", "null", "NaN", ""], **kw)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise DataError(f"{where}: cannot parse CSV: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Parsers


def _parse_archive(data: bytes | Path, path: Path, symbol: str | None, where: str, head: list[str]) -> pl.DataFrame:
    has_header = not _is_number(_fields(head[0])[0])
    n_fields = len(_fields(head[1] if has_header and len(head) > 1 else head[0]))
    names = [ARCHIVE_COLUMNS[i] if i < len(ARCHIVE_COLUMNS) else f"extra_{i}" for i in range(n_fields)]
    # an explicit all-Float64 schema skips type inference; the projection reads six fields only
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        raw = (
            pl.scan_csv(
                source,
                has_header=False,
                skip_rows=1 if has_header else 0,
                schema={n: pl.Float64 for n in names},
            )
            .select(names[:6])
            .collect()
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"{where}: cannot parse the 12-column kline CSV: {exc}") from exc
    out = raw.select(
        _epoch_to_ms(pl.col("open_time")).alias("timestamp"),
        _assign_symbol(raw, None, symbol, path, where).alias("symbol"),
        *(pl.col(c) for c in (*PRICE_COLUMNS, "volume")),
    )
    _check_timestamps(out, raw, "open_time", where)
    return out


def _parse_cdd(data: bytes | Path, path: Path, symbol: str | None, where: str, head: list[str]) -> pl.DataFrame:
    skip = 1 if (head[0].lower().startswith("http") or "cryptodatadownload" in head[0].lower()) else 0
    header = _fields(head[skip]) if len(head) > skip else []
    # epochs switch from ms integers to '1502946000.0' deep into the file: read them as floats
    raw = _read_csv(
        data,
        where,
        skip_rows=skip,
        schema_overrides={c: pl.Float64 for c in header if c.lower().startswith("unix")},
    )
    lower = {c.lower(): c for c in raw.columns}
    unix_col = next((c for c in raw.columns if c.lower().startswith("unix")), None)  # 'unix', 'Unix Timestamp'
    if unix_col is None:
        raise DataError(f"{where}: wrong columns: expected a CryptoDataDownload 'unix' column, found {raw.columns}")
    vol_cols = [c for c in raw.columns if c.lower().startswith("volume ")]
    base = None
    if "symbol" in lower and raw.height:
        pair = str(raw[lower["symbol"]][0])
        base = pair.split("/")[0].upper() if "/" in pair else None
    vol = next((c for c in vol_cols if base and c.split(" ", 1)[1].upper() == base), None)
    vol = vol or next((c for c in vol_cols if c.lower() == "volume from"), None)
    vol = vol or next((c for c in vol_cols if c.split(" ", 1)[1].upper() not in QUOTES), None)
    mapping = {"timestamp": unix_col}
    if vol is not None:
        mapping["volume"] = vol
    cols = _resolve_columns(raw.columns, mapping, where)
    unix = pl.col(cols["timestamp"])
    out = raw.select(
        _epoch_to_ms(unix).alias("timestamp"),
        _assign_symbol(raw, cols.get("symbol"), symbol, path, where).alias("symbol"),
        *(pl.col(cols[c]).cast(pl.Float64).alias(c) for c in (*PRICE_COLUMNS, "volume")),
        # raw exchange rows carry ms epochs; CDD's own (processed) rows carry seconds
        (unix.cast(pl.Float64).abs() < 1e11).alias("_cdd_row"),
    )
    _check_timestamps(out, raw, cols["timestamp"], where)
    return out.sort(["timestamp", "_cdd_row"], maintain_order=True).drop("_cdd_row")


def _parse_table(
    raw: pl.DataFrame,
    path: Path,
    symbol: str | None,
    where: str,
    mapping: Mapping[str, str] | None,
    unit: str | None,
    fmt: str | None,
) -> pl.DataFrame:
    cols = _resolve_columns(raw.columns, mapping, where)
    ts = _timestamp_series(raw, cols["timestamp"], unit, fmt)
    exprs = [
        pl.lit(ts).alias("timestamp"),
        _assign_symbol(raw, cols.get("symbol"), symbol if "symbol" not in cols else None, path, where).alias("symbol"),
    ]
    for c in (*PRICE_COLUMNS, "volume"):
        dtype = raw.schema[cols[c]]
        e = pl.col(cols[c])
        exprs.append(
            (e.cast(pl.Float64) if dtype.is_numeric() else e.cast(pl.String).cast(pl.Float64, strict=False)).alias(c)
        )
    if "spread" in cols:
        exprs.append(pl.col(cols["spread"]).cast(pl.Float64).alias("spread"))
    try:
        out = raw.select(exprs)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"{where}: cannot convert columns: {exc}") from exc
    _check_timestamps(out, raw, cols["timestamp"], where)
    return out


def read_bars(
    path: str | Path,
    symbol: str | None = None,
    *,
    format: str | None = None,
    columns: Mapping[str, str] | None = None,
    timestamp_unit: str | None = None,
    timestamp_format: str | None = None,
) -> pl.DataFrame:
    """Parse one bar file into the long format (sorted by symbol, timestamp; no rows dropped).

    Args:
        path: the file (.csv, .csv.gz, .zip, .parquet).
        symbol: the symbol of a single-symbol file without a symbol column (default: from the file
            name); for a multi-symbol file, keep only this symbol.
        format: one of :data:`FORMATS`; detected when None.
        columns: canonical name -> file column (``csv``/``parquet``/``kline_csv``).
        timestamp_unit: 's', 'ms', 'us' or 'ns' for numeric time columns (default: per-row magnitude).
        timestamp_format: strftime layout of a text time column (default: common ISO layouts).

    Raises:
        DataError: missing file, corrupt archive, wrong columns, unparseable values, unknown symbol.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if format is not None and format not in FORMATS:
        raise InvalidParameterError(f"format: must be one of {list(FORMATS)}, got {format!r}", "format")
    fmt = format or detect_format(path)
    if fmt == "parquet":
        try:
            raw = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise DataError(f"{path}: cannot read Parquet: {exc}") from exc
        out = _parse_table(raw, path, symbol, where, columns, timestamp_unit, timestamp_format)
    else:
        plain = not path.name.lower().endswith((".zip", ".gz"))
        data: bytes | Path = path if plain else _read_bytes(path)
        head = _head_lines(_first_bytes(path) if plain else data)  # type: ignore[arg-type]
        if not head:
            raise DataError(f"{path}: file is empty")
        if fmt == "binance_archive":
            out = _parse_archive(data, path, symbol, where, head)
        elif fmt == "cryptodatadownload":
            out = _parse_cdd(data, path, symbol, where, head)
        else:
            raw = _read_csv(data, where)
            out = _parse_table(raw, path, symbol, where, columns, timestamp_unit, timestamp_format)
    return _filter_symbol(finalize(out), symbol, where)
