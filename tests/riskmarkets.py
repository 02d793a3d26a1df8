"""Deterministic stressed markets built by hand for the risk-stack tests (numpy only), so the
tests do not depend on the stress transforms: a calm path, a flash crash, a corrupted feed."""

from __future__ import annotations

import numpy as np
import polars as pl

HOUR_MS = 3_600_000
CORRUPT = 16  # stress_flags bit of data corruption
CRASH = 1  # stress_flags bit of a flash crash


def calm_path(n: int, seed: int, vol: float = 0.002, start: float = 100.0) -> np.ndarray:
    """Closes of a quiet random walk (hourly sd ``vol``)."""
    rng = np.random.default_rng(seed)
    return start * np.exp(np.cumsum(vol * rng.standard_normal(n)))


def crash_path(
    n: int = 400, at: int = 150, drop: float = 0.30, bars: int = 10, seed: int = 1, vol: float = 0.002
) -> tuple[np.ndarray, np.ndarray]:
    """A calm path with a crash of ``drop`` spread evenly (geometrically) over ``bars`` bars from
    bar ``at``; afterwards calm again at the lower level. Returns (closes, stress_flags)."""
    c = calm_path(n, seed, vol)
    step = (1.0 - drop) ** (1.0 / bars)
    factor = np.ones(n)
    factor[at : at + bars] = step
    # the crash bars carry only the crash (no noise) so the drop is exactly `drop`
    noise = np.diff(np.log(c), prepend=np.log(c[0]))
    noise[at : at + bars] = 0.0
    closes = c[0] * np.exp(np.cumsum(noise)) * np.cumprod(factor)
    flags = np.zeros(n, dtype=np.uint32)
    flags[at : at + bars] = CRASH
    return closes, flags


def bars(
    closes: np.ndarray | dict[str, np.ndarray],
    opens: np.ndarray | dict[str, np.ndarray] | None = None,
    volume: float = 1e6,
    flags: np.ndarray | dict[str, np.ndarray] | None = None,
) -> pl.DataFrame:
    """Long-format bars (one symbol, or {symbol: closes}); open = previous close unless given;
    high/low = max/min(open, close); ``stress_flags`` when given."""
    if not isinstance(closes, dict):
        closes = {"BTCUSDT": closes}
        opens = None if opens is None else {"BTCUSDT": opens}
        flags = None if flags is None else {"BTCUSDT": flags}
    frames = []
    for sym, c in closes.items():
        c = np.asarray(c, dtype=float)
        n = len(c)
        o = np.concatenate([[c[0]], c[:-1]]) if opens is None else np.asarray(opens[sym], dtype=float)
        d = {
            "timestamp": (np.arange(n, dtype=np.int64) * HOUR_MS).astype("datetime64[ms]"),
            "symbol": [sym] * n,
            "open": o,
            "high": np.fmax(o, c),
            "low": np.fmin(o, c),
            "close": c,
            "volume": np.full(n, volume),
        }
        if flags is not None:
            d["stress_flags"] = np.asarray(flags[sym], dtype=np.uint32)
        frames.append(pl.DataFrame(d))
    return pl.concat(frames)


def corrupt(df: pl.DataFrame, where: dict[int, str]) -> pl.DataFrame:
    """Corrupt bars of a one-symbol frame in place of a transform: {bar: kind} with kind in
    nan, spike, negative, zero_volume, stale; each corrupted bar gets ``stress_flags`` bit 16."""
    o, h, lo, c, v = (df[k].to_numpy().copy() for k in ("open", "high", "low", "close", "volume"))
    flags = df["stress_flags"].to_numpy().copy() if "stress_flags" in df.columns else np.zeros(len(df), np.uint32)
    for t, kind in where.items():
        if kind == "nan":
            c[t] = np.nan
        elif kind == "spike":
            c[t] = c[t] * 10.0
        elif kind == "negative":
            c[t] = -c[t]
        elif kind == "zero_volume":
            v[t] = 0.0
        elif kind == "stale":
            o[t] = h[t] = lo[t] = c[t] = c[t - 1]
        else:
            raise ValueError(kind)
        flags[t] |= CORRUPT
    return df.with_columns(
        pl.Series("open", o),
        pl.Series("high", h),
        pl.Series("low", lo),
        pl.Series("close", c),
        pl.Series("volume", v),
        pl.Series("stress_flags", flags.astype(np.uint32)),
    )


def first_breach(equity: np.ndarray, initial: float, limit: float) -> int | None:
    """First bar whose equity is more than ``limit`` (fraction) below the running peak
    (initial capital included)."""
    peak = np.maximum.accumulate(np.concatenate([[initial], equity]))[1:]
    hit = np.flatnonzero(equity < peak * (1.0 - limit))
    return int(hit[0]) if hit.size else None
