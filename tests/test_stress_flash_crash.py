"""FLASH_CRASH: exact drop on flat input, bounded drop on random input, volume/spread multiples,
continuity, OHLC invariants and untouched bars."""

from __future__ import annotations

import numpy as np
import stresslab as sl
from hypothesis import given, settings
from hypothesis import strategies as st
from stress_helpers import flat_frame, gbm_frame, ohlc_ok, same_bits, series

N = 300


def peak_to_trough(high: np.ndarray, low: np.ndarray) -> float:
    """Largest fall from a running maximum of highs to a later low."""
    peak = np.maximum.accumulate(high)
    return float(np.max(1.0 - low / peak))


@settings(max_examples=40, deadline=None)
@given(
    drop=st.floats(0.005, 0.98),
    duration=st.integers(1, 30),
    recovery=st.integers(0, 40),
    recovery_pct=st.floats(0.0, 1.0),
    at=st.integers(0, 200),
)
def test_flat_input_drop_is_exact(drop, duration, recovery, recovery_pct, at):
    df = flat_frame(N, ["AAA", "BBB"])
    out, rec = sl.apply_flash_crash(
        df, drop, duration, recovery, recovery_pct, at=at, symbols=["AAA"], return_record=True
    )
    s = series(out, "AAA")
    trough = at + duration
    assert abs(peak_to_trough(s["high"][:trough], s["low"][:trough]) - drop) < 1e-9
    assert abs(peak_to_trough(s["high"], s["low"]) - drop) < 1e-9  # the recovery never undercuts it
    level = 1 - drop * (1 - recovery_pct) if recovery else 1 - drop
    np.testing.assert_allclose(s["close"][at + duration + recovery - 1 :] / 250.0, level, rtol=1e-12)
    np.testing.assert_array_equal(s["open"][1:], s["close"][:-1])  # open = previous close, exactly
    assert ohlc_ok(s).all()
    # the record: phases, level factor
    assert rec["kind"].to_list() == (["crash", "recovery"] if recovery else ["crash"])
    assert rec["bar"][0] == at and rec["end_bar"][-1] == at + duration + recovery
    assert abs(rec["level_factor"][-1] - level) < 1e-15
    # the other symbol is untouched
    other = series(out, "BBB")
    base = series(df, "BBB")
    assert all(same_bits(other[c], base[c]) for c in ("open", "high", "low", "close", "volume", "spread"))
    assert (other["stress_flags"] == 0).all()


@settings(max_examples=30, deadline=None)
@given(
    drop=st.floats(0.01, 0.9),
    duration=st.integers(1, 24),
    recovery=st.integers(0, 30),
    vm=st.floats(0.5, 50.0),
    sm=st.floats(0.5, 20.0),
    seed=st.integers(0, 2**32),
)
def test_random_input(drop, duration, recovery, vm, sm, seed):
    df = gbm_frame(N, seed=seed % 1000)
    at = 60
    out = sl.apply_flash_crash(df, drop, duration, recovery, 0.5, vm, sm, at=at, seed=seed)
    s, b = series(out, "AAA"), series(df, "AAA")
    end = at + duration + recovery
    trough = at + duration
    # bars before the crash are bit-identical, the window is flagged
    for c in ("open", "high", "low", "close", "volume", "spread"):
        assert same_bits(s[c][:at], b[c][:at])
    assert (s["stress_flags"][at:end] == 1).all() and (s["stress_flags"][:at] == 0).all()
    assert (s["stress_flags"][end:] == 0).all()
    # the close-to-close fall over the crash is (1 - drop) times the original move, exactly
    move = s["close"][trough - 1] / b["close"][at - 1]
    np.testing.assert_allclose(move, (1 - drop) * b["close"][trough - 1] / b["close"][at - 1], rtol=1e-12)
    # stated tolerance on random input: the measured drop lies between the bounds set by the
    # original window's own moves (both equal drop_pct on flat input)
    w = slice(at - 1, trough)
    p2t = peak_to_trough(s["high"][w], s["low"][w])
    lower = 1 - (1 - drop) * b["close"][trough - 1] / b["close"][at - 1]
    upper = 1 - (1 - drop) * b["low"][w].min() / b["high"][w].max()
    assert lower - 1e-12 <= p2t <= upper + 1e-12
    # volume and spread multiples: exact in the crash, decaying to 1 over the recovery
    np.testing.assert_allclose(s["volume"][at:trough] / b["volume"][at:trough], vm, rtol=1e-12)
    np.testing.assert_allclose(s["spread"][at:trough] / b["spread"][at:trough], sm, rtol=1e-12)
    j = np.arange(1, recovery + 1)
    np.testing.assert_allclose(s["volume"][trough:end] / b["volume"][trough:end], vm ** (1 - j / (recovery + 1)))
    assert same_bits(s["volume"][end:], b["volume"][end:])
    # later bars: same returns, level shifted, path continuous
    level = 1 - drop * 0.5 if recovery else 1 - drop
    np.testing.assert_allclose(s["close"][end:] / b["close"][end:], level, rtol=1e-12)
    np.testing.assert_array_equal(s["open"][1:], s["close"][:-1])
    assert ohlc_ok(s).all()


def test_random_position_is_reproducible_and_seeded():
    df = gbm_frame(500, ["AAA", "BBB"], n_paths=1)
    a, ra = sl.apply_flash_crash(df, 0.3, seed=7, return_record=True)
    b, rb = sl.apply_flash_crash(df, 0.3, seed=7, return_record=True)
    assert a.equals(b) and ra.equals(rb)
    starts = {sl.apply_flash_crash(df, 0.3, seed=k, return_record=True)[1]["bar"][0] for k in range(12)}
    assert len(starts) > 6  # the position moves with the seed
    # both symbols are hit at the same time
    crash = ra.filter(ra["kind"] == "crash")
    assert crash["timestamp"].n_unique() == 1 and crash.height == 2


def test_iso_time_position():
    df = gbm_frame(200)
    t = df["timestamp"][37]
    _, rec = sl.apply_flash_crash(df, 0.2, at=t.isoformat(), return_record=True)
    assert rec["bar"][0] == 37 and rec["timestamp"][0] == t
