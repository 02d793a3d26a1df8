"""PUMP_AND_DUMP: exact rise and fall on flat input, exact close ratios on random input, volume
multiple, continuity and later bars shifted by the final level."""

from __future__ import annotations

import numpy as np
import stresslab as sl
from hypothesis import given, settings
from hypothesis import strategies as st
from stress_helpers import flat_frame, gbm_frame, ohlc_ok, same_bits, series

N = 200


@settings(max_examples=40, deadline=None)
@given(
    pump=st.floats(0.01, 10.0),
    pump_bars=st.integers(1, 40),
    dump=st.floats(0.01, 0.99),
    dump_bars=st.integers(1, 40),
    vm=st.floats(0.5, 200.0),
    at=st.integers(0, 100),
)
def test_flat_input_is_exact(pump, pump_bars, dump, dump_bars, vm, at):
    df = flat_frame(N)
    out, rec = sl.apply_pump_and_dump(df, pump, pump_bars, dump, dump_bars, vm, at=at, return_record=True)
    s = series(out, "AAA")
    top = at + pump_bars
    end = top + dump_bars
    assert abs(s["high"].max() / 250.0 - (1 + pump)) < 1e-12 * (1 + pump)
    assert abs(s["close"][top - 1] / 250.0 - (1 + pump)) < 1e-12 * (1 + pump)
    assert abs(1 - s["close"][end - 1] / s["close"][top - 1] - dump) < 1e-12
    np.testing.assert_allclose(s["close"][end:] / 250.0, (1 + pump) * (1 - dump), rtol=1e-12)
    np.testing.assert_allclose(s["volume"][at:end], 100.0 * vm, rtol=1e-12)
    assert (s["volume"][end:] == 100.0).all() and (s["volume"][:at] == 100.0).all()
    assert ((s["stress_flags"] == 64) == ((np.arange(N) >= at) & (np.arange(N) < end))).all()
    np.testing.assert_array_equal(s["open"][1:], s["close"][:-1])
    assert ohlc_ok(s).all()
    assert rec["kind"].to_list() == ["pump", "dump"]
    assert abs(rec["level_factor"][1] - (1 + pump) * (1 - dump)) < 1e-15


@settings(max_examples=25, deadline=None)
@given(pump=st.floats(0.05, 3.0), dump=st.floats(0.05, 0.9), seed=st.integers(0, 1000))
def test_random_input(pump, dump, seed):
    df = gbm_frame(N, seed=seed)
    at, pb, db = 50, 12, 6
    out = sl.apply_pump_and_dump(df, pump, pb, dump, db, at=at)
    s, b = series(out, "AAA"), series(df, "AAA")
    top, end = at + pb, at + pb + db
    # close ratios over each phase are the original ratios times the phase's move, exactly
    np.testing.assert_allclose(
        s["close"][top - 1] / s["close"][at - 1], (1 + pump) * b["close"][top - 1] / b["close"][at - 1], rtol=1e-12
    )
    np.testing.assert_allclose(
        s["close"][end - 1] / s["close"][top - 1], (1 - dump) * b["close"][end - 1] / b["close"][top - 1], rtol=1e-12
    )
    for c in ("open", "high", "low", "close", "volume", "spread"):
        assert same_bits(s[c][:at], b[c][:at])
    # later returns unchanged
    later_new, later_old = np.diff(np.log(s["close"][end - 1 :])), np.diff(np.log(b["close"][end - 1 :]))
    np.testing.assert_allclose(later_new, later_old, atol=1e-12)
    assert ohlc_ok(s).all()
