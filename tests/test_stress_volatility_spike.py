"""VOLATILITY_SPIKE: realized vol in the window rises by exactly the multiplier, the log range by
the multiplier up to the drift bound, ATR within the stated tolerance; bars outside untouched."""

from __future__ import annotations

import numpy as np
import polars as pl
import stresslab as sl
from hypothesis import given, settings
from hypothesis import strategies as st
from stress_helpers import gbm_frame, log_returns, ohlc_ok, same_bits, series

N = 400


def log_atr(s: dict[str, np.ndarray], a: int, b: int) -> float:
    """Mean Wilder true range of log prices (ATR as a fraction of the price) over bars a..b."""
    prev = np.log(s["close"][a - 1 : b - 1])
    hi, lo = np.log(s["high"][a:b]), np.log(s["low"][a:b])
    return float(np.mean(np.maximum(hi, prev) - np.minimum(lo, prev)))


@settings(max_examples=40, deadline=None)
@given(
    m=st.floats(0.2, 10.0),
    duration=st.integers(2, 120),
    at=st.integers(0, 250),
    seed=st.integers(0, 10_000),
)
def test_realized_vol_rises_by_the_multiplier(m, duration, at, seed):
    df = gbm_frame(N, seed=seed)
    out, rec = sl.apply_volatility_spike(df, m, duration, at=at, return_record=True)
    s, b = series(out, "AAA"), series(df, "AAA")
    end = at + duration
    r_new = log_returns(s["close"], at, duration, s["open"][0])
    r_old = log_returns(b["close"], at, duration, b["open"][0])
    assert abs(np.std(r_new, ddof=1) / np.std(r_old, ddof=1) - m) < 1e-9 * m
    # vol in the window over vol outside rises by the multiplier (outside is unchanged)
    r_all_new, r_all_old = np.diff(np.log(s["close"])), np.diff(np.log(b["close"]))
    mask = np.zeros(N - 1, bool)
    mask[max(at - 1, 0) : end - 1] = True
    if mask.sum() > 2:
        ratio_new = np.std(r_all_new[mask]) / np.std(r_all_new[~mask])
        ratio_old = np.std(r_all_old[mask]) / np.std(r_all_old[~mask])
        assert abs(ratio_new / ratio_old - m) < 1e-8 * m
    # log range: m times the original up to |m - 1| |mean return| per bar
    mu = abs(r_old.mean())
    lr_new = np.log(s["high"][at:end] / s["low"][at:end])
    lr_old = np.log(b["high"][at:end] / b["low"][at:end])
    assert (np.abs(lr_new - m * lr_old) <= abs(m - 1) * mu + 1e-12).all()
    # everything outside the window is bit-identical; the window is flagged
    for c in ("open", "high", "low", "close", "volume", "spread"):
        assert same_bits(s[c][:at], b[c][:at]) and same_bits(s[c][end:], b[c][end:])
    assert same_bits(s["volume"], b["volume"])
    assert ((s["stress_flags"] == 2) == (np.arange(N) >= at) & (np.arange(N) < end)).all()
    assert ohlc_ok(s).all()
    assert rec["value"][0] == m and rec["end_bar"][0] == end


def test_atr_within_stated_tolerance():
    """ATR of log prices rises by the factor within 10% for multipliers 0.5-5 on 1% bars (the drift
    term and the gap to the previous close are the only differences; largest deviation seen over 40
    seeds: 8%, at multiplier 0.5)."""
    for seed in range(10):
        df = gbm_frame(600, seed=seed, sigma=0.01)
        for m in (0.5, 2.0, 3.0, 5.0):
            s, b = series(sl.apply_volatility_spike(df, m, 96, at=200), "AAA"), series(df, "AAA")
            ratio = log_atr(s, 200, 296) / log_atr(b, 200, 296)
            assert abs(ratio / m - 1) < 0.10, (seed, m, ratio)


def test_multi_path_multi_symbol_windows_align():
    df = gbm_frame(300, ["AAA", "BBB", "CCC"], n_paths=4, seed=3)
    out, rec = sl.apply_volatility_spike(df, 3.0, 24, return_record=True, seed=11)
    assert rec.height == 12
    per_path = rec.group_by("path").agg(pl.col("bar").n_unique().alias("starts"))
    assert (per_path["starts"] == 1).all()  # one time per path, shared by the symbols
    assert out.height == df.height and (out["stress_flags"] == 2).sum() == 12 * 24
