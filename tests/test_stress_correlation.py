"""CORRELATION_BREAKDOWN: the window's pairwise return correlation equals the target, each symbol
keeps its volatility, bars outside the window are untouched."""

from __future__ import annotations

import numpy as np
import pytest
import stresslab as sl
from hypothesis import given, settings
from hypothesis import strategies as st
from stress_helpers import gbm_frame, log_returns, ohlc_ok, same_bits, series

SYMS = ["AAA", "BBB", "CCC"]
N = 300


def window_returns(df, syms, at, d):
    return np.array([log_returns(series(df, s)["close"], at, d, series(df, s)["open"][0]) for s in syms])


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(2, 3),
    target=st.floats(-0.5, 1.0),
    duration=st.integers(10, 150),
    at=st.integers(0, 140),
    seed=st.integers(0, 1000),
)
def test_target_reached_and_volatility_kept(k, target, duration, at, seed):
    syms = SYMS[:k]
    target = max(target, -1 / (k - 1))
    df = gbm_frame(N, syms, seed=seed, corr=0.7)
    out = sl.apply_correlation_breakdown(df, target_correlation=target, duration_bars=duration, at=at)
    r_new, r_old = window_returns(out, syms, at, duration), window_returns(df, syms, at, duration)
    c = np.corrcoef(r_new)
    off = c[~np.eye(k, dtype=bool)]
    np.testing.assert_allclose(off, target, atol=1e-9)
    np.testing.assert_allclose(r_new.std(axis=1), r_old.std(axis=1), rtol=1e-9)
    np.testing.assert_allclose(r_new.mean(axis=1), r_old.mean(axis=1), atol=1e-12)
    end = at + duration
    for j, sym in enumerate(syms):
        s, b = series(out, sym), series(df, sym)
        for col in ("open", "high", "low", "close", "volume", "spread"):
            assert same_bits(s[col][:at], b[col][:at]) and same_bits(s[col][end:], b[col][end:])
        assert same_bits(s["volume"], b["volume"])
        assert ohlc_ok(s).all()
        assert ((s["stress_flags"] == 32) == ((np.arange(N) >= at) & (np.arange(N) < end))).all()
        if j == 0:  # the first symbol anchors the rotation and is left as it was
            assert same_bits(s["close"], b["close"])


@pytest.mark.parametrize(("mode", "target"), [("decorrelate", 0.0), ("converge", 1.0)])
def test_modes(mode, target):
    df = gbm_frame(400, SYMS, seed=5, corr=0.8)
    out, rec = sl.apply_correlation_breakdown(df, mode=mode, duration_bars=72, at=100, return_record=True)
    c = np.corrcoef(window_returns(out, SYMS, 100, 72))
    np.testing.assert_allclose(c[~np.eye(3, dtype=bool)], target, atol=1e-9)
    assert (rec["value"] == target).all() and rec.height == 3


def test_invert_flips_the_sign_for_two_symbols():
    df = gbm_frame(400, ["AAA", "BBB"], seed=2, corr=0.85)
    out = sl.apply_correlation_breakdown(df, mode="invert", duration_bars=72, at=50)
    before = np.corrcoef(window_returns(df, ["AAA", "BBB"], 50, 72))[0, 1]
    after = np.corrcoef(window_returns(out, ["AAA", "BBB"], 50, 72))[0, 1]
    assert before > 0.7 and abs(after + before) < 1e-9


def test_symbols_subset_and_paths():
    df = gbm_frame(200, SYMS, n_paths=3, seed=1)
    out, rec = sl.apply_correlation_breakdown(
        df, target_correlation=0.2, duration_bars=40, symbols=["BBB", "CCC"], return_record=True
    )
    assert set(rec["symbol"]) == {"BBB", "CCC"} and rec.height == 6
    for p in range(3):
        assert same_bits(series(out, "AAA", p)["close"], series(df, "AAA", p)["close"])
        at = rec.filter(rec["path"] == p)["bar"][0]
        views = [series(out, s, p) for s in ("BBB", "CCC")]
        r = np.array([log_returns(v["close"], at, 40, v["open"][0]) for v in views])
        assert abs(np.corrcoef(r)[0, 1] - 0.2) < 1e-9
