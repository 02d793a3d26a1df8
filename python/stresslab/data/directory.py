"""A directory of bar files, resolved by symbol and interval.

Files (searched recursively: ``.csv``, ``.csv.gz``, ``.zip``, ``.parquet``) are matched by name
first: ``BTCUSDT-1h-2024-08.zip``, ``binance_BTCUSDT_1h_2021-04_2023-12.csv.gz`` name their
symbol and interval. A file whose name has no symbol (e.g. a multi-symbol ``crash_windows_1h.csv``)
is read and searched by its symbol column; a file whose name has no interval is accepted when its
bars have the requested interval. Several files for one symbol (monthly archive files, or two
sources of one period) are concatenated; where their open times overlap the file that sorts first
by name wins, and the loader's notes count the overlapping bars and how many of them differed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from ..errors import DataError
from .formats import interval_from_name, normalize_symbol, read_bars, symbol_from_name
from .schema import empty_frame, infer_interval_ms, interval_name

__all__ = ["BAR_FILE_SUFFIXES", "list_bar_files", "load_directory"]

BAR_FILE_SUFFIXES = (".csv", ".csv.gz", ".zip", ".parquet", ".pq")


def list_bar_files(directory: Path) -> list[Path]:
    """Bar files under ``directory`` (recursive), sorted by path; partial/hidden files skipped."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.name.lower().endswith(BAR_FILE_SUFFIXES) and not p.name.startswith(".")
    )


def load_directory(
    directory: str | Path, symbols: Sequence[str], interval: str, interval_ms: int
) -> tuple[pl.DataFrame, list[str]]:
    """Bars of ``symbols`` at ``interval`` from the files of ``directory``; returns (frame, notes).

    Raises DataError when the directory is missing, holds no file for a symbol at that interval
    (the message lists what it does hold), or a file holds mixed intervals.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory")
    files = list_bar_files(directory)
    named = {p: (symbol_from_name(p), interval_from_name(p)) for p in files}
    cache: dict[Path, pl.DataFrame] = {}
    notes: list[str] = []
    frames = []
    for raw_symbol in symbols:
        sym = normalize_symbol(raw_symbol)
        candidates = [p for p, (s, i) in named.items() if (s in (sym, None)) and (i in (interval, None))]
        parts: list[tuple[Path, pl.DataFrame]] = []
        for p in candidates:
            if p not in cache:
                cache[p] = read_bars(p) if named[p][0] is None else read_bars(p, sym)
            df = cache[p].filter(pl.col("symbol") == sym)
            if df.is_empty():
                continue
            if named[p][1] is None and infer_interval_ms(df["timestamp"].dt.epoch("ms"), str(p)) not in (
                interval_ms,
                None,
            ):
                continue
            parts.append((p, df))
        if not parts:
            have = sorted({f"{s} {i or '?'}" for s, i in named.values() if s})
            raise DataError(
                f"{directory}: no {sym} file at interval {interval}; named files hold: {have or 'none'} "
                f"({len(files)} bar file(s), multi-symbol files searched too)"
            )
        frames.append(_merge(sym, parts, notes))
    out = pl.concat(frames) if frames else empty_frame()
    for sym in out["symbol"].unique().to_list():
        got = infer_interval_ms(out.filter(pl.col("symbol") == sym)["timestamp"].dt.epoch("ms"), f"{directory} {sym}")
        if got is not None and got != interval_ms:
            raise DataError(f"{directory}: {sym} files hold {interval_name(got)} bars, not {interval}")
    return out, notes


def _merge(sym: str, parts: list[tuple[Path, pl.DataFrame]], notes: list[str]) -> pl.DataFrame:
    """Concatenate one symbol's files; on overlapping open times keep the first file's row."""
    if len(parts) == 1:
        notes.append(f"{sym}: {parts[0][1].height} bars from {parts[0][0].name}")
        return parts[0][1]
    tagged = pl.concat([df.with_columns(pl.lit(i).alias("_file")) for i, (_, df) in enumerate(parts)])
    tagged = tagged.sort("timestamp", "_file", maintain_order=True)
    across = pl.col("_file").n_unique().over("timestamp") > 1
    dup = tagged.filter(across)
    if dup.height:
        values = ["open", "high", "low", "close", "volume"]
        differing = dup.group_by("timestamp").agg([pl.col(c).n_unique() for c in values])
        n_diff = differing.filter(pl.any_horizontal([pl.col(c) > 1 for c in values])).height
        n_ts = differing.height
        notes.append(
            f"{sym}: {n_ts} open time(s) appear in several files ({', '.join(p.name for p, _ in parts)}); "
            f"kept the row of the first file by name; {n_diff} of them differed"
        )
    # drop only rows shadowed by an earlier file: duplicates inside one file stay for validate_data
    merged = tagged.filter(pl.col("_file") == pl.col("_file").min().over("timestamp")).drop("_file")
    notes.append(f"{sym}: {merged.height} bars from {len(parts)} files")
    return merged
