"""The long bar format every loader returns, and helpers shared by the loaders.

Columns, in this order: ``timestamp`` (``Datetime("ms", "UTC")``, the bar's **open** time),
``symbol`` (String), ``open``, ``high``, ``low``, ``close``, ``volume`` (Float64, volume in the
base asset) and ``spread`` (Float64, relative quoted spread as a fraction; **null** when the
source does not know it, which is the case for every exchange kline file). Rows are sorted by
symbol, then timestamp. This is the format of :func:`stresslab.synthetic_market` (single path).

A frame repaired with gap filling carries one more Boolean column, ``filled``, true on the flat
bars that repair inserted (see :mod:`stresslab.data.validate`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl

from ..errors import DataError, InvalidParameterError
from ..scenarios import _parse_time, parse_interval

__all__ = [
    "LONG_COLUMNS",
    "PRICE_COLUMNS",
    "TIMESTAMP_DTYPE",
    "finalize",
    "empty_frame",
    "infer_interval_ms",
    "interval_name",
    "check_interval",
    "select_range",
    "to_ms",
    "dt_ms",
    "epoch_ms_expr",
    "fmt_ms",
]

TIMESTAMP_DTYPE = pl.Datetime("ms", "UTC")
PRICE_COLUMNS = ("open", "high", "low", "close")
LONG_COLUMNS = ("timestamp", "symbol", *PRICE_COLUMNS, "volume", "spread")

# A second step size that accounts for more than this share of a symbol's steps means the rows
# were not sampled at one interval (e.g. a 1h file appended to a 4h file). Exchange downtime
# gaps are far rarer: the worst real file (BTC 2017-2021) has 27 gaps in 35,000 steps.
MIXED_INTERVAL_SHARE = 0.05


def finalize(df: pl.DataFrame) -> pl.DataFrame:
    """Cast to the long format's dtypes, add a null ``spread`` when absent, sort by symbol, time.

    ``timestamp`` may already be a Datetime (any unit / zone, naive means UTC) or Int64 ms.
    Extra columns other than ``filled`` are dropped.
    """
    ts = df.schema["timestamp"]
    if isinstance(ts, pl.Datetime):
        ts_expr = pl.col("timestamp")
        if ts.time_zone is None:
            ts_expr = ts_expr.dt.replace_time_zone("UTC")
        ts_expr = ts_expr.dt.convert_time_zone("UTC").dt.cast_time_unit("ms")
    else:
        ts_expr = pl.col("timestamp").cast(pl.Int64).cast(TIMESTAMP_DTYPE)
    spread = pl.col("spread").cast(pl.Float64) if "spread" in df.columns else pl.lit(None, pl.Float64)
    cols = [
        ts_expr.alias("timestamp"),
        pl.col("symbol").cast(pl.String),
        *(pl.col(c).cast(pl.Float64) for c in (*PRICE_COLUMNS, "volume")),
        spread.alias("spread"),
    ]
    if "filled" in df.columns:
        cols.append(pl.col("filled").cast(pl.Boolean))
    out = df.select(cols)
    if _is_sorted(out):
        return out
    # stable sort: rows with equal (symbol, timestamp) keep file order, which repair relies on
    return out.sort(["symbol", "timestamp"], maintain_order=True)


def _is_sorted(df: pl.DataFrame) -> bool:
    """Whether rows are already ordered by symbol, then timestamp (one O(n) pass, no sort)."""
    if df.height < 2:
        return True
    sym, ts = pl.col("symbol"), pl.col("timestamp")
    same = sym == sym.shift(1)
    ordered = (same & (ts >= ts.shift(1))) | (~same & (sym > sym.shift(1)))
    return bool(df.select(ordered.slice(1).all()).item())


def empty_frame() -> pl.DataFrame:
    """A frame with the long format's schema and no rows."""
    schema = {"timestamp": TIMESTAMP_DTYPE, "symbol": pl.String}
    schema.update({c: pl.Float64 for c in (*PRICE_COLUMNS, "volume", "spread")})
    return pl.DataFrame(schema=schema)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def dt_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime, in exact integer arithmetic (no float rounding)."""
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def epoch_ms_expr(dtype: pl.DataType) -> pl.Expr | None:
    """The ``timestamp`` column as epoch-ms Int64, given its dtype: a Datetime converted, an
    integer taken as epoch ms; None for any other dtype (the caller says what it wants)."""
    if isinstance(dtype, pl.Datetime):
        return pl.col("timestamp").dt.epoch("ms")
    if dtype.is_integer():
        return pl.col("timestamp").cast(pl.Int64)
    return None


def to_ms(value: Any, field: str) -> int:
    """Epoch milliseconds of an ISO string / datetime (naive = UTC). InvalidParameterError if bad."""
    return dt_ms(_parse_time(value, field))


def fmt_ms(ms: int | None) -> str:
    """ISO-8601 UTC text of epoch milliseconds (with milliseconds only when non-zero)."""
    if ms is None:
        return "?"
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "Z"


def interval_name(ms: int) -> str:
    """'1m', '4h', '1d', ... for a bar length in ms (the largest unit that divides it)."""
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def infer_interval_ms(timestamps_ms: list[int] | pl.Series, where: str = "data") -> int | None:
    """The bar interval of one symbol's timestamps: the most common step between sorted unique times.

    Returns None for fewer than two distinct times. Raises DataError (mixed intervals) when a
    second step size is common too, which no exchange gap pattern produces.
    """
    s = pl.Series(timestamps_ms).cast(pl.Int64).unique().sort()
    if s.len() < 2:
        return None
    steps = Counter(s.diff().drop_nulls().to_list())
    (mode, n_mode), *rest = steps.most_common(2) + [(None, 0)]
    n_total = s.len() - 1
    second, n_second = rest[0]
    if second is not None and n_second > max(2, MIXED_INTERVAL_SHARE * n_total):
        raise DataError(
            f"{where}: mixed intervals: {n_mode} steps of {interval_name(mode)} and {n_second} steps of "
            f"{interval_name(second)} out of {n_total}; load one interval at a time"
        )
    return int(mode)


def check_interval(interval: str | None, field: str = "interval") -> int | None:
    """Milliseconds of an interval string, or None. InvalidParameterError names the field."""
    if interval is None:
        return None
    try:
        return parse_interval(interval, field)
    except InvalidParameterError:
        raise
    except Exception as exc:  # pragma: no cover - parse_interval raises only InvalidParameterError
        raise InvalidParameterError(f"{field}: {exc}", field) from exc


def coverage(df: pl.DataFrame) -> dict[str, tuple[int, int]]:
    """First and last open time (epoch ms) per symbol."""
    agg = df.group_by("symbol").agg(
        pl.col("timestamp").min().dt.epoch("ms").alias("first"),
        pl.col("timestamp").max().dt.epoch("ms").alias("last"),
    )
    return {r["symbol"]: (r["first"], r["last"]) for r in agg.iter_rows(named=True)}


def select_range(
    df: pl.DataFrame,
    start: Any = None,
    end: Any = None,
    interval_ms: int | None = None,
    where: str = "data",
) -> pl.DataFrame:
    """Rows with open time in ``[start, end)`` per symbol.

    Every symbol must cover the whole request: the first bar at or before ``start`` and the last
    bar's close (open + interval) at or after ``end``; otherwise DataError says which range is
    available. ``start`` after ``end`` is an InvalidParameterError.
    """
    start_ms = to_ms(start, "start") if start is not None else None
    end_ms = to_ms(end, "end") if end is not None else None
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise InvalidParameterError(
            f"start: must be before end, got start={fmt_ms(start_ms)} end={fmt_ms(end_ms)}", "start"
        )
    if start_ms is None and end_ms is None:
        return df
    step = interval_ms or 0
    for sym, (first, last) in sorted(coverage(df).items()):
        too_early = start_ms is not None and start_ms < first
        too_late = end_ms is not None and end_ms > last + step
        if too_early or too_late:
            raise DataError(
                f"{where}: {sym} does not cover the requested range {fmt_ms(start_ms)} .. {fmt_ms(end_ms)}; "
                f"available: {fmt_ms(first)} .. {fmt_ms(last)} (bar open times)"
            )
    ts = pl.col("timestamp").dt.epoch("ms")
    cond = pl.lit(True)
    if start_ms is not None:
        cond = cond & (ts >= start_ms)
    if end_ms is not None:
        cond = cond & (ts < end_ms)
    return df.filter(cond)
