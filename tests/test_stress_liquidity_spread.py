"""LIQUIDITY_DROP and SPREAD_EXPLOSION: exact volume and spread ratios in the window, prices
untouched, data without a spread column."""

from __future__ import annotations

import numpy as np
import polars as pl
import stresslab as sl
from hypothesis import given, settings
from hypothesis import strategies as st
from stress_helpers import gbm_frame, same_bits, series

N = 200


@settings(max_examples=40, deadline=None)
@given(
    drop=st.floats(0.001, 0.999),
    duration=st.integers(1, 100),
    elasticity=st.floats(0.0, 3.0),
    at=st.integers(0, 99),
    seed=st.integers(0, 1000),
)
def test_liquidity_drop_ratios(drop, duration, elasticity, at, seed):
    df = gbm_frame(N, ["AAA", "BBB"], seed=seed)
    out = sl.apply_liquidity_drop(df, drop, duration, elasticity, at=at, symbols=["BBB"])
    s, b = series(out, "BBB"), series(df, "BBB")
    w = slice(at, at + duration)
    np.testing.assert_allclose(s["volume"][w] / b["volume"][w], 1 - drop, rtol=1e-12)
    np.testing.assert_allclose(s["spread"][w] / b["spread"][w], (1 - drop) ** -elasticity, rtol=1e-12)
    inside = np.zeros(N, bool)
    inside[w] = True
    assert same_bits(s["volume"][~inside], b["volume"][~inside])
    assert same_bits(s["spread"][~inside], b["spread"][~inside])
    for c in ("open", "high", "low", "close"):
        assert same_bits(s[c], b[c])
    assert ((s["stress_flags"] == 4) == inside).all()
    assert same_bits(series(out, "AAA")["volume"], series(df, "AAA")["volume"])


@settings(max_examples=40, deadline=None)
@given(mult=st.floats(0.01, 1000.0), duration=st.integers(1, 150), at=st.integers(0, 49))
def test_spread_explosion_ratio(mult, duration, at):
    df = gbm_frame(N, seed=at)
    out, rec = sl.apply_spread_explosion(df, mult, duration, at=at, return_record=True)
    s, b = series(out, "AAA"), series(df, "AAA")
    w = slice(at, at + duration)
    np.testing.assert_allclose(s["spread"][w] / b["spread"][w], mult, rtol=1e-12)
    end = at + duration
    assert same_bits(s["spread"][:at], b["spread"][:at]) and same_bits(s["spread"][end:], b["spread"][end:])
    for c in ("open", "high", "low", "close", "volume"):
        assert same_bits(s[c], b[c])
    assert rec["value"][0] == mult and rec["transform"][0] == "spread_explosion"


def test_data_without_spread_column():
    """Historical-style input: no path, no spread, integer-ms timestamps. Spread stresses start from
    the 1 bp baseline and add the column; other stresses leave the schema as it was."""
    df = gbm_frame(100).drop("spread").with_columns(pl.col("timestamp").dt.epoch("ms"))
    out = sl.apply_spread_explosion(df, 10.0, 5, at=20)
    assert out.columns == [*df.columns, "spread", "stress_flags"]
    spread = out["spread"].to_numpy()
    np.testing.assert_allclose(spread[20:25], 10 * sl.transforms.DEFAULT_BASE_SPREAD)
    np.testing.assert_allclose(np.delete(spread, range(20, 25)), sl.transforms.DEFAULT_BASE_SPREAD)
    assert out.schema["timestamp"] == pl.Int64
    vol = sl.apply_volatility_spike(df, 2.0, 10, at=5)
    assert "spread" not in vol.columns and vol.columns == [*df.columns, "stress_flags"]
    sc = sl.Scenario("liq", "LIQUIDITY_DROP", {"drop_pct": 0.5, "duration_bars": 4, "at": 3}, symbols=["AAA"])
    liq = sl.ScenarioTransformer(base_spread=2e-4).apply(df, sc)
    np.testing.assert_allclose(liq["spread"].to_numpy()[3:7], 2e-4 * 0.5**-0.5)
