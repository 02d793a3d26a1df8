"""Stationary block bootstrap of real history: "what if 2021 happened in another order".

:func:`block_bootstrap` makes new paths out of blocks of consecutive real bars (Politis & Romano
1994): each block starts at a random bar and has a geometric length of mean ``block_length``; the
same blocks are used for every symbol, so cross-asset dependence (co-crashes) is kept. Prices are
rebuilt from the first real close by compounding the resampled close-to-close returns; each bar's
open, high and low keep their real ratios to the bar's previous close (real gaps and intrabar
ranges, OHLC consistent); volume and spread are copied. ``block_length=None`` chooses it
automatically (:func:`optimal_block_length`: Politis & White 2004 with the Patton, Politis & White
2009 correction, the maximum over symbols).

The computation runs in Rust (``stresslab_core::bootstrap``), in parallel over paths, and is
bit-identical on any thread count; path ``k`` can be regenerated alone with ``first_path=k,
n_paths=1``.

Example::

    import stresslab as sl
    real = sl.ScenarioLoader().load_bundled(["BTCUSDT", "ETHUSDT", "SOLUSDT"], event="may_2021")
    paths = sl.block_bootstrap(real, n_paths=100, seed=7)        # long frame with a `path` column
    L = sl.optimal_block_length(real)                             # the automatic mean block length
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from . import _core
from .data.schema import epoch_ms_expr
from .errors import DataError, InvalidParameterError
from .market import _check_int
from .scenarios import MAX_SEED

__all__ = ["block_bootstrap", "optimal_block_length"]

_REQUIRED = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
_PRICE_VOLUME = ("open", "high", "low", "close", "volume")


def _source_columns(df: Any) -> dict[str, Any]:
    """The long frame as flat symbol-major columns on one clock (what the Rust side takes).

    Only the layout is checked here; the values (NaN, non-positive prices, OHLC consistency,
    time order) are checked once, in Rust, with errors naming the column, symbol and bar.
    """
    if not isinstance(df, pl.DataFrame):
        raise InvalidParameterError(
            f"df: must be a polars DataFrame of bars in the long format (timestamp, symbol, open, high, low, "
            f"close, volume[, spread]), got {type(df).__name__}",
            "df",
        )
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"{missing[0]}: missing column(s) {missing}; the frame has {df.columns}")
    if "path" in df.columns and df["path"].n_unique() > 1:
        raise DataError("path: the frame holds several paths; bootstrap one source (filter one path first)")
    if df.is_empty():
        raise DataError("bars: the frame has no bars; the bootstrap needs at least 2 bars per symbol")
    ts = df.schema["timestamp"]
    ts_ms = epoch_ms_expr(ts)
    if ts_ms is None:
        raise DataError(f"timestamp: must be a Datetime or integer epoch-ms column, got {ts}")
    spread = pl.col("spread").cast(pl.Float64) if "spread" in df.columns else pl.lit(None, pl.Float64)
    frame = df.select(
        ts_ms.alias("ts"),
        pl.col("symbol").cast(pl.String),
        *(pl.col(c).cast(pl.Float64) for c in _PRICE_VOLUME),
        spread.fill_null(float("nan")).alias("spread"),
    )
    for col, name in (("ts", "timestamp"), ("symbol", "symbol")):
        if frame[col].null_count():
            raise DataError(f"{name}: {frame[col].null_count()} null value(s); every bar needs a {name}")
    symbols = frame["symbol"].unique(maintain_order=True).to_list()
    # a stable sort by symbol: each symbol's bars keep their order, so unordered input reaches Rust,
    # which reports it with the symbol and bar
    order = {s: i for i, s in enumerate(symbols)}
    frame = frame.with_columns(pl.col("symbol").replace_strict(order, return_dtype=pl.UInt32).alias("k"))
    frame = frame.sort("k", maintain_order=True)
    counts = frame.group_by("k", maintain_order=True).len()["len"].to_list()
    clock = frame["ts"].to_numpy()
    n = counts[0]
    if any(c != n for c in counts) or any(
        not np.array_equal(clock[:n], clock[i * n : (i + 1) * n]) for i in range(1, len(symbols))
    ):
        sizes = ", ".join(f"{s} {c} bars" for s, c in zip(symbols, counts, strict=True))
        raise DataError(
            f"timestamp: the symbols are not on one clock ({sizes}); load them with ScenarioLoader(align="
            "'intersect') or select a range all of them cover"
        )
    return {
        "symbols": symbols,
        "timestamps": np.ascontiguousarray(clock[:n], dtype=np.int64),
        **{c: np.ascontiguousarray(frame[c].to_numpy(), dtype=np.float64) for c in (*_PRICE_VOLUME, "spread")},
    }


def _check_block_length(block_length: Any) -> float | None:
    """The type only: the range (finite, >= 1) is checked in Rust, which owns the numbers."""
    if block_length is None:
        return None
    if isinstance(block_length, bool) or not isinstance(block_length, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(
            f"block_length: must be a number >= 1 (mean block length in bars) or None (automatic), "
            f"got {block_length!r}",
            "block_length",
        )
    return float(block_length)


def block_bootstrap(
    df: pl.DataFrame,
    n_paths: int = 1,
    n_bars: int | None = None,
    block_length: float | None = None,
    seed: int = 42,
    scenario: str = "bootstrap",
    first_path: int = 0,
    as_arrays: bool = False,
) -> pl.DataFrame | dict[str, Any]:
    """Resample real bars into new paths with the stationary block bootstrap.

    Args:
        df: real bars in the long format (``timestamp``, ``symbol``, ``open``, ``high``, ``low``,
            ``close``, ``volume``, optional ``spread``), as returned by
            :meth:`ScenarioLoader.load_file` / :meth:`ScenarioLoader.load_bundled`; several symbols
            must share one clock (the loader aligns them).
        n_paths: number of paths (>= 1).
        n_bars: bars per path (default: the source's number of returns, i.e. its bars - 1).
        block_length: mean block length in bars (>= 1; 1 is the i.i.d. bootstrap of bars), or None
            for :func:`optimal_block_length`.
        seed: integer in [0, 2**64 - 1].
        scenario: name mixed into the random streams (different names give independent paths).
        first_path: index of the first path (regenerate path k alone with ``first_path=k, n_paths=1``).
        as_arrays: return numpy arrays instead of a frame (see below).

    Returns:
        A polars DataFrame in the long format of :func:`synthetic_market` (``path`` column when
        ``n_paths > 1``; ``timestamp`` continues the source's clock from its second bar; ``spread``
        null where the source had none). With ``as_arrays=True`` a dict of ``open``, ``high``,
        ``low``, ``close``, ``volume``, ``spread`` shaped (n_paths, n_symbols, n_bars),
        ``source_index`` (n_paths, n_bars): the row of the source bar each bar was copied from
        (0-based within a symbol, always >= 1), ``timestamp_ms``, ``symbols`` and ``block_length``.

    Raises:
        InvalidParameterError: n_paths, n_bars, block_length, seed or first_path out of range.
        DataError: missing columns, fewer than 2 bars, symbols not on one clock, NaN / non-positive
            prices, unordered timestamps or inconsistent OHLC (the message names the column, the
            symbol and the bar).
    """
    n_paths = _check_int("n_paths", n_paths, 1)
    n_bars = None if n_bars is None else _check_int("n_bars", n_bars, 1)
    seed = _check_int("seed", seed, 0, MAX_SEED)
    first_path = _check_int("first_path", first_path, 0, 2**32 - 1)
    length = _check_block_length(block_length)
    if not isinstance(scenario, str):
        raise InvalidParameterError(f"scenario: must be a string, got {scenario!r}", "scenario")
    cols = _source_columns(df)
    if as_arrays:
        out = dict(_core.bootstrap_market_arrays(cols, n_paths, n_bars, length, seed, scenario, first_path))
        out["symbols"] = list(cols["symbols"])
        return out
    table = _core.bootstrap_market(cols, n_paths, n_bars, length, seed, scenario, first_path)
    return pl.DataFrame(table)


def optimal_block_length(df: pl.DataFrame, per_symbol: bool = False) -> float | dict[str, float]:
    """Automatic mean block length for :func:`block_bootstrap` (what ``block_length=None`` uses).

    Politis & White (2004) with the Patton, Politis & White (2009) correction, on each symbol's
    hourly (per-bar) close-to-close log returns; the bootstrap uses the maximum over symbols, so
    the shared blocks are long enough for the most dependent one. Returns that maximum, or a dict
    ``{symbol: length}`` with ``per_symbol=True``. Lengths are >= 1 (1 means no detectable
    dependence) and capped at ``ceil(min(3 sqrt(n), n / 3))`` for n returns.
    """
    cols = _source_columns(df)
    lengths = _core.bootstrap_block_lengths(cols)
    if per_symbol:
        return dict(zip(cols["symbols"], lengths, strict=True))
    return max(lengths)
