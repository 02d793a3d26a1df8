"""Shared helpers for the stress-transform tests: input frames built in numpy (independent of the
generator), per-series views, and the measurements the property tests compare with parameters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

PRICES = ["open", "high", "low", "close"]
VALUES = [*PRICES, "volume", "spread"]
HOUR_MS = 3_600_000


def gbm_frame(
    n_bars: int,
    symbols: Sequence[str] = ("AAA",),
    n_paths: int = 1,
    seed: int = 0,
    sigma: float = 0.008,
    corr: float = 0.6,
) -> pl.DataFrame:
    """Long frame of GBM bars (open = previous close, wicks outside the body, correlated symbols)."""
    rng = np.random.default_rng(seed)
    k = len(symbols)
    c = np.full((k, k), corr) + (1 - corr) * np.eye(k)
    chol = np.linalg.cholesky(c)
    parts = []
    for p in range(n_paths):
        z = chol @ rng.standard_normal((k, n_bars))
        r = sigma * z - 0.5 * sigma**2
        for j, sym in enumerate(symbols):
            close = 100.0 * (j + 1) * np.exp(np.cumsum(r[j]))
            open_ = np.concatenate([[100.0 * (j + 1)], close[:-1]])
            up = np.exp(np.abs(rng.normal(0, sigma / 2, n_bars)))
            down = np.exp(-np.abs(rng.normal(0, sigma / 2, n_bars)))
            frame = {
                "timestamp": np.arange(n_bars, dtype=np.int64) * HOUR_MS,
                "symbol": [sym] * n_bars,
                "open": open_,
                "high": np.maximum(open_, close) * up,
                "low": np.minimum(open_, close) * down,
                "close": close,
                "volume": 1000.0 * np.exp(rng.normal(0, 0.5, n_bars)),
                "spread": 1e-4 * np.exp(rng.normal(0, 0.3, n_bars)),
            }
            if n_paths > 1:
                frame = {"path": np.full(n_bars, p, dtype=np.uint32), **frame}
            parts.append(pl.DataFrame(frame))
    df = pl.concat(parts)
    return df.with_columns(pl.from_epoch("timestamp", time_unit="ms").dt.replace_time_zone("UTC"))


def flat_frame(n_bars: int, symbols: Sequence[str] = ("AAA",), price: float = 250.0) -> pl.DataFrame:
    """Every bar O = H = L = C = price: the exact-effect case."""
    parts = [
        pl.DataFrame(
            {
                "timestamp": np.arange(n_bars, dtype=np.int64) * HOUR_MS,
                "symbol": [s] * n_bars,
                **{c: np.full(n_bars, price) for c in PRICES},
                "volume": np.full(n_bars, 100.0),
                "spread": np.full(n_bars, 1e-4),
            }
        )
        for s in symbols
    ]
    return pl.concat(parts).with_columns(pl.from_epoch("timestamp", time_unit="ms").dt.replace_time_zone("UTC"))


def series(df: pl.DataFrame, symbol: str, path: int | None = None) -> dict[str, np.ndarray]:
    """Columns of one (path, symbol) series as numpy arrays."""
    f = df.filter(pl.col("symbol") == symbol)
    if path is not None:
        f = f.filter(pl.col("path") == path)
    out = {c: f[c].to_numpy() for c in [*VALUES, "stress_flags"] if c in f.columns}
    ts = f["timestamp"]
    out["ts"] = (ts if ts.dtype == pl.Int64 else ts.dt.epoch("ms")).to_numpy()
    return out


def ohlc_ok(s: dict[str, np.ndarray]) -> np.ndarray:
    """Per bar: finite positive prices with low <= min(open, close) <= max(open, close) <= high."""
    o, h, lo, c = (s[k] for k in PRICES)
    with np.errstate(invalid="ignore"):
        return (lo > 0) & (lo <= np.minimum(o, c)) & (np.maximum(o, c) <= h) & np.isfinite(h)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-identical float arrays (NaN == NaN)."""
    return a.shape == b.shape and bool((a.view(np.uint64) == b.view(np.uint64)).all())


def log_returns(close: np.ndarray, start: int, length: int, open0: float) -> np.ndarray:
    """Close-to-close log returns of bars start..start+length (the first against the previous close,
    or the first open at bar 0), as the transforms define them."""
    prev = close[start - 1] if start > 0 else open0
    c = np.concatenate([[prev], close[start : start + length]])
    return np.diff(np.log(c))


def round_half_up(x: float) -> int:
    """Rounding half away from zero (Rust's f64::round), for counts >= 0."""
    return int(np.floor(x + 0.5))
