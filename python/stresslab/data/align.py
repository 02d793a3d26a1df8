"""Put several symbols on one clock, and say what was done with bars one symbol lacks.

Real symbols do not share every bar: a pair lists later or is halted (LUNA, UST on 2022-05-13),
a source has a hole (FTT from 2022-11-15), an exchange outage hits one file but not another.
A replay needs one clock, so :func:`align_symbols` offers three policies:

``"intersect"`` (default)
    keep only the open times every symbol has; the others are dropped from all symbols.
``"ffill"``
    keep the span every symbol covers (latest first bar .. earliest last bar) and, inside it,
    add a flat bar (open = high = low = close = the symbol's previous close, volume 0, spread
    null, ``filled = True``) wherever a symbol lacks an open time another symbol has.
``"none"``
    change nothing (symbols keep their own clocks).

Every policy returns notes (plain sentences) counting what each symbol lacked and what was done.
"""

from __future__ import annotations

import polars as pl

from ..errors import InvalidParameterError
from .schema import dt_ms, fmt_ms

__all__ = ["ALIGN_POLICIES", "align_symbols"]

ALIGN_POLICIES = ("intersect", "ffill", "none")


def _missing_report(df: pl.DataFrame) -> tuple[list[str], int]:
    """Per symbol: open times of the union clock it lacks (first one and count)."""
    clock = df.select(pl.col("timestamp").unique()).height
    notes = []
    total = 0
    symbols = df["symbol"].unique().sort().to_list()
    all_ts = df.select(pl.col("timestamp").unique().sort())
    for sym in symbols:
        own = df.filter(pl.col("symbol") == sym).select("timestamp")
        lack = all_ts.join(own, on="timestamp", how="anti")
        if lack.height:
            total += lack.height
            first = dt_ms(lack["timestamp"].min())  # type: ignore[union-attr]
            notes.append(f"{sym} lacks {lack.height} of {clock} open times (first {fmt_ms(first)})")
    return notes, total


def align_symbols(df: pl.DataFrame, how: str = "intersect") -> tuple[pl.DataFrame, list[str]]:
    """Align the symbols of a long bar frame on one clock; returns (frame, notes). See module docs."""
    if how not in ALIGN_POLICIES:
        raise InvalidParameterError(f"align: must be one of {list(ALIGN_POLICIES)}, got {how!r}", "align")
    n_sym = df["symbol"].n_unique()
    if n_sym < 2:
        return df, []
    lacks, total = _missing_report(df)
    if total == 0:
        return df, [f"align: all {n_sym} symbols share the same {df.height // n_sym} open times"]
    if how == "none":
        return df, [f"align=none: symbols keep their own clocks; {'; '.join(lacks)}"]
    if how == "intersect":
        keep = df.group_by("timestamp").agg(pl.len().alias("n")).filter(pl.col("n") == n_sym).select("timestamp")
        out = df.join(keep, on="timestamp", how="semi", maintain_order="left")
        dropped = df.height - out.height
        return out, [
            f"align=intersect: dropped {dropped} bar(s) at open times not shared by every symbol "
            f"({keep.height} shared open times kept); {'; '.join(lacks)}"
        ]
    # ffill: a full symbol x time grid over the span every symbol covers; a missing bar takes the
    # symbol's previous close, looked up in its full history (so a hole at the span start fills too)
    span = df.group_by("symbol").agg(pl.col("timestamp").min().alias("a"), pl.col("timestamp").max().alias("b"))
    lo, hi = span["a"].max(), span["b"].min()
    clock = df.select(pl.col("timestamp").unique()).filter(pl.col("timestamp") <= hi)
    grid = df.select(pl.col("symbol").unique()).join(clock, how="cross")
    out = grid.join(df, on=["symbol", "timestamp"], how="left").sort("symbol", "timestamp")
    out = out.with_columns(pl.col("close").is_null().alias("_new"))
    prev_close = pl.col("close").forward_fill().over("symbol")
    had_filled = "filled" in df.columns
    out = out.with_columns(
        *(
            pl.when(pl.col("_new")).then(prev_close).otherwise(pl.col(c)).alias(c)
            for c in ("open", "high", "low", "close")
        ),
        pl.when(pl.col("_new")).then(0.0).otherwise(pl.col("volume")).alias("volume"),
        (pl.col("_new") | (pl.col("filled").fill_null(False) if had_filled else pl.lit(False))).alias("filled"),
    ).filter(pl.col("timestamp") >= lo)
    n_filled = int(out["_new"].sum())
    trimmed = df.filter(~pl.col("timestamp").is_between(lo, hi)).height
    out = out.select([*df.columns, *([] if had_filled else ["filled"])])
    return out, [
        f"align=ffill: kept the common span {lo} .. {hi} (trimmed {trimmed} bar(s) outside it) and "
        f"added {n_filled} flat bar(s) at the previous close with volume 0, filled=True; {'; '.join(lacks)}"
    ]
