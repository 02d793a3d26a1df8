"""Synthetic markets: the user-facing front of the Rust generator.

``synthetic_market`` returns a polars DataFrame in long format (``path`` when there are several,
``timestamp`` UTC, ``symbol``, ``open``, ``high``, ``low``, ``close``, ``volume``, ``spread``)
sorted by path, symbol, timestamp. The table is built in Rust and handed over zero-copy through
the Arrow C stream interface. ``spread`` is the relative quoted spread (ask - bid) / mid as a
fraction (0.0001 = 1 bp). ``synthetic_arrays`` returns numpy arrays shaped
(n_paths, n_symbols, n_bars) for sweeps.

The model and its calibration are documented in ``rust/stresslab-core/src/synth``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from . import _core
from .errors import InvalidParameterError
from .scenarios import DEFAULT_START, MAX_SEED, _parse_time, parse_interval

__all__ = ["synthetic_market", "synthetic_arrays", "symbol_profile", "default_correlations"]

PROFILE_FIELDS: tuple[str, ...] = tuple(_core.profile_fields())
MARKET_FIELDS: tuple[str, ...] = tuple(_core.market_fields())


def _check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"{name}: must be an integer >= {lo}, got {value!r}", name)
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise InvalidParameterError(f"{name}: must be an integer {rng}, got {value}", name)
    return value


def _check_symbols(symbols: Any) -> list[str]:
    if isinstance(symbols, str) or not isinstance(symbols, Sequence):
        raise InvalidParameterError(
            f"symbols: must be a list of symbol names like ['BTCUSDT'], got {type(symbols).__name__} {symbols!r}",
            "symbols",
        )
    if not symbols or not all(isinstance(s, str) and s for s in symbols):
        raise InvalidParameterError(
            f"symbols: must be a non-empty list of non-empty strings, got {symbols!r}", "symbols"
        )
    return list(symbols)


def _check_matrix(name: str, m: Any) -> list[list[float]] | None:
    if m is None:
        return None
    try:
        arr = np.asarray(m, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name}: must be a square matrix of numbers", name) from None
    if arr.ndim != 2:
        raise InvalidParameterError(f"{name}: must be a square matrix, got shape {arr.shape}", name)
    return arr.tolist()


def _market_kwargs(
    symbols: Any,
    n_bars: Any,
    interval: str,
    seed: Any,
    n_paths: Any,
    model: str,
    start: str | datetime | None,
    scenario: str,
    initial_prices: Mapping[str, float] | None,
    correlation: Any,
    stress_correlation: Any,
    profiles: Mapping[str, Mapping[str, float]] | None,
    market: Mapping[str, float] | None,
    overrides: Mapping[str, Any],
) -> dict[str, Any]:
    symbols = _check_symbols(symbols)
    n_bars = _check_int("n_bars", n_bars, 1)
    n_paths = _check_int("n_paths", n_paths, 1)
    seed = _check_int("seed", seed, 0, MAX_SEED)
    if model not in ("realistic", "gbm"):
        raise InvalidParameterError(f"model: must be 'realistic' or 'gbm', got {model!r}", "model")
    interval_ms = parse_interval(interval)
    start_dt = _parse_time(start, "start") if start is not None else DEFAULT_START
    prof: dict[str, dict[str, float]] = {s: {} for s in symbols}
    for sym, fields in (profiles or {}).items():
        if sym not in prof:
            raise InvalidParameterError(f"profiles: symbol {sym!r} is not in symbols {symbols}", "profiles")
        prof[sym].update(fields)
    mkt = dict(market or {})
    for key, value in overrides.items():
        if key in PROFILE_FIELDS:
            for sym in symbols:
                prof[sym].setdefault(key, value)
        elif key in MARKET_FIELDS:
            mkt[key] = value
        else:
            allowed = ", ".join(PROFILE_FIELDS + MARKET_FIELDS)
            raise InvalidParameterError(f"{key}: unknown market parameter; allowed: {allowed}", key)
    for where in [*prof.values(), mkt]:
        for key, value in where.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidParameterError(f"{key}: must be a finite number, got {value!r}", key)
    return dict(
        symbols=symbols,
        n_bars=n_bars,
        interval_ms=interval_ms,
        start_ms=int(start_dt.timestamp() * 1000),
        seed=seed,
        scenario=scenario,
        model=model,
        n_paths=n_paths,
        initial_prices=dict(initial_prices) if initial_prices else None,
        profiles={k: v for k, v in prof.items() if v} or None,
        market=mkt or None,
        correlation=_check_matrix("correlation", correlation),
        stress_correlation=_check_matrix("stress_correlation", stress_correlation),
    )


def synthetic_market(
    symbols: Sequence[str] = ("BTCUSDT",),
    n_bars: int = 8760,
    interval: str = "1h",
    seed: int = 42,
    n_paths: int = 1,
    model: str = "realistic",
    *,
    start: str | datetime | None = None,
    scenario: str = "synthetic",
    initial_prices: Mapping[str, float] | None = None,
    correlation: Any = None,
    stress_correlation: Any = None,
    profiles: Mapping[str, Mapping[str, float]] | None = None,
    market: Mapping[str, float] | None = None,
    first_path: int = 0,
    **overrides: Any,
) -> pl.DataFrame:
    """Generate a synthetic multi-symbol market as a long polars DataFrame.

    Args:
        symbols: symbol names; BTC*, ETH*, SOL* get their own calibration, others a generic one.
        n_bars: bars per path and symbol (>= 1).
        interval: bar length ('1m', '1h', '4h', '1d', ...); rates are calibrated on 1h bars.
        seed: integer in [0, 2**64 - 1].
        n_paths: number of Monte Carlo paths (a ``path`` column is added when > 1).
        model: 'realistic' (REALISM.md model) or 'gbm' (plain Gaussian GBM).
        start: open time of the first bar (default 2024-01-01T00:00Z).
        scenario: the scenario identity mixed into the random streams.
        initial_prices: first open per symbol.
        correlation, stress_correlation: calm / stress correlation matrices (symbols order).
        profiles: per-symbol parameter overrides ``{"BTCUSDT": {"sigma": 0.01}}``.
        market: market-wide overrides (regime, jumps, ``nu``).
        first_path: index of the first path (regenerate path k alone with first_path=k, n_paths=1).
        **overrides: any per-symbol parameter (applied to every symbol) or market parameter.
    """
    kw = _market_kwargs(
        symbols,
        n_bars,
        interval,
        seed,
        n_paths,
        model,
        start,
        scenario,
        initial_prices,
        correlation,
        stress_correlation,
        profiles,
        market,
        overrides,
    )
    first_path = _check_int("first_path", first_path, 0, 2**32 - 1)
    table = _core.generate_market(**kw, first_path=first_path)
    return pl.DataFrame(table)


def synthetic_arrays(
    symbols: Sequence[str] = ("BTCUSDT",),
    n_bars: int = 8760,
    interval: str = "1h",
    seed: int = 42,
    n_paths: int = 1,
    model: str = "realistic",
    *,
    start: str | datetime | None = None,
    scenario: str = "synthetic",
    initial_prices: Mapping[str, float] | None = None,
    correlation: Any = None,
    stress_correlation: Any = None,
    profiles: Mapping[str, Mapping[str, float]] | None = None,
    market: Mapping[str, float] | None = None,
    first_path: int = 0,
    **overrides: Any,
) -> dict[str, np.ndarray]:
    """Like :func:`synthetic_market` but numpy arrays shaped (n_paths, n_symbols, n_bars),
    plus ``timestamp_ms`` (n_bars,). Same numbers as the DataFrame for the same arguments."""
    kw = _market_kwargs(
        symbols,
        n_bars,
        interval,
        seed,
        n_paths,
        model,
        start,
        scenario,
        initial_prices,
        correlation,
        stress_correlation,
        profiles,
        market,
        overrides,
    )
    first_path = _check_int("first_path", first_path, 0, 2**32 - 1)
    return dict(_core.generate_market_arrays(**kw, first_path=first_path))


def symbol_profile(symbol: str) -> dict[str, Any]:
    """The calibrated default parameters the generator uses for ``symbol``."""
    return dict(_core.symbol_profile(symbol))


def default_correlations(symbols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(calm, stress) default correlation matrices for a symbol list."""
    calm, stress = _core.default_correlations(_check_symbols(symbols))
    return np.array(calm), np.array(stress)


def market_statistics(df: pl.DataFrame) -> pl.DataFrame:
    """Per-symbol summary of a long bar frame: hourly return sd, annualised vol, excess kurtosis,
    lag-1 autocorrelation of returns and of |returns|, mean volume, median spread (bps), range."""
    keys = ["path", "symbol"] if "path" in df.columns else ["symbol"]
    r = pl.col("close").log().diff().over(keys)
    frame = df.with_columns(r.alias("r"))
    stats = frame.group_by(keys, maintain_order=True).agg(
        pl.len().alias("bars"),
        pl.col("close").first().alias("first_close"),
        pl.col("close").last().alias("last_close"),
        pl.col("low").min().alias("min_low"),
        pl.col("high").max().alias("max_high"),
        pl.col("r").std().alias("ret_sd"),
        pl.col("r").kurtosis().alias("excess_kurtosis"),
        pl.corr(pl.col("r"), pl.col("r").shift(1)).alias("acf1_r"),
        pl.corr(pl.col("r").abs(), pl.col("r").abs().shift(1)).alias("acf1_abs_r"),
        pl.col("volume").mean().alias("mean_volume"),
        (pl.col("spread").median() * 1e4).alias("median_spread_bps"),
    )
    return stats
