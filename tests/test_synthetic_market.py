"""Synthetic market generator: output format, OHLC invariants, determinism, bad input."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
import stresslab as sl
from stresslab import InsufficientMemoryError, InvalidParameterError, Scenario, ScenarioLoader, ScenarioType

COLS = ["open", "high", "low", "close", "volume", "spread"]


def test_long_format_schema_and_order():
    df = sl.synthetic_market(["BTCUSDT", "ETHUSDT"], n_bars=50, seed=1)
    assert df.columns == ["timestamp", "symbol", *COLS]
    assert df.schema["timestamp"] == pl.Datetime("ms", "UTC")
    assert df.height == 100
    assert df["symbol"].to_list() == ["BTCUSDT"] * 50 + ["ETHUSDT"] * 50
    ts = df.filter(pl.col("symbol") == "BTCUSDT")["timestamp"]
    assert (np.diff(ts.dt.epoch("ms").to_numpy()) == 3_600_000).all()
    multi = sl.synthetic_market(["BTCUSDT"], n_bars=10, n_paths=3)
    assert multi.columns[0] == "path" and multi["path"].unique().sort().to_list() == [0, 1, 2]


def test_arrays_equal_dataframe():
    kw = dict(symbols=["BTCUSDT", "SOLUSDT"], n_bars=300, seed=9, n_paths=2)
    df = sl.synthetic_market(**kw)
    a = sl.synthetic_arrays(**kw)
    for c in COLS:
        np.testing.assert_array_equal(df[c].to_numpy(), a[c].reshape(-1))


def test_zero_copy_columns():
    df = sl.synthetic_market(["BTCUSDT"], n_bars=1000)
    # the buffer polars holds is the Rust-allocated one: no copy is needed to read it
    arr = df["close"].to_numpy(allow_copy=False)
    assert arr.shape == (1000,)


@pytest.mark.parametrize("model", ["realistic", "gbm"])
def test_ohlc_invariants_on_millions_of_bars(model):
    a = sl.synthetic_arrays(["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"], n_bars=8760, n_paths=30, seed=5, model=model)
    o, h, low, c, v, s = (a[k] for k in COLS)
    assert o.size >= 1_000_000
    for x in (o, h, low, c, v, s):
        assert np.isfinite(x).all()
    assert (low > 0).all() and (v > 0).all() and (s > 0).all()
    assert (low <= np.minimum(o, c)).all() and (np.maximum(o, c) <= h).all()
    # open = previous close, first open = initial price
    np.testing.assert_array_equal(o[:, :, 1:], c[:, :, :-1])
    assert o[0, 0, 0] == sl.symbol_profile("BTCUSDT")["initial_price"]
    # the range is not a fixed fraction of the price: it varies with volatility
    rel = np.log(h / low)
    assert rel.std() / rel.mean() > 0.3


def test_spread_widens_with_volatility_and_thin_volume():
    a = sl.synthetic_arrays(["BTCUSDT"], n_bars=3 * 8760, seed=2)
    rng = np.log(a["high"][0, 0] / a["low"][0, 0])
    spread = a["spread"][0, 0]
    vol = a["volume"][0, 0]
    hi_vol = rng > np.quantile(rng, 0.9)
    lo_vol = rng < np.quantile(rng, 0.5)
    assert np.median(spread[hi_vol]) > 2 * np.median(spread[lo_vol])
    # thin volume widens the spread: against the same path without the liquidity term (every
    # other draw is identical), the extra widening is larger on the low-volume bars
    no_liq = sl.synthetic_arrays(["BTCUSDT"], n_bars=3 * 8760, seed=2, spread_liquidity=0.0)
    np.testing.assert_array_equal(no_liq["volume"], a["volume"])
    extra = np.log(spread / no_liq["spread"][0, 0])
    assert np.corrcoef(extra, np.log(vol))[0, 1] < -0.3
    # calm spreads around 1 bp for BTC (REALISM: calm ~0.2-2 bps)
    assert 0.2e-4 < np.median(spread) < 2e-4


def _digest(a: dict) -> str:
    h = hashlib.sha256()
    for k in COLS:
        h.update(np.ascontiguousarray(a[k]).tobytes())
    return h.hexdigest()


GEN = (
    "import stresslab as sl, numpy as np, hashlib, sys\n"
    "a = sl.synthetic_arrays(['BTCUSDT','ETHUSDT','SOLUSDT'], n_bars=2000, n_paths=16, seed=123)\n"
    "h = hashlib.sha256()\n"
    "[h.update(np.ascontiguousarray(a[k]).tobytes()) for k in ['open','high','low','close','volume','spread']]\n"
    "print(sl._core.num_threads(), h.hexdigest())\n"
)


def test_bit_identical_on_1_and_2_threads():
    out = {}
    for n in (1, 2):
        env = {**os.environ, "RAYON_NUM_THREADS": str(n)}
        res = subprocess.run([sys.executable, "-c", GEN], env=env, capture_output=True, text=True, check=True)
        threads, digest = res.stdout.split()
        assert int(threads) == n
        out[n] = digest
    assert out[1] == out[2]
    here = sl.synthetic_arrays(["BTCUSDT", "ETHUSDT", "SOLUSDT"], n_bars=2000, n_paths=16, seed=123)
    assert _digest(here) == out[1]


def test_any_path_regenerates_alone_and_order_does_not_matter():
    kw = dict(symbols=["BTCUSDT", "ETHUSDT"], n_bars=500, seed=77)
    batch = sl.synthetic_arrays(**kw, n_paths=8)
    for p in (7, 0, 3):  # out of order, one at a time
        alone = sl.synthetic_arrays(**kw, n_paths=1, first_path=p)
        for k in COLS:
            np.testing.assert_array_equal(alone[k][0], batch[k][p])
    tail = sl.synthetic_arrays(**kw, n_paths=3, first_path=5)
    np.testing.assert_array_equal(tail["close"], batch["close"][5:])


def test_seed_and_scenario_identity_change_the_stream():
    base = sl.synthetic_arrays(["BTCUSDT"], n_bars=100, seed=1)["close"]
    assert not np.array_equal(base, sl.synthetic_arrays(["BTCUSDT"], n_bars=100, seed=2)["close"])
    other = sl.synthetic_arrays(["BTCUSDT"], n_bars=100, seed=1, scenario="another")["close"]
    assert not np.array_equal(base, other)
    # adding a symbol does not change the first symbol's own shocks in GBM with zero correlation
    one = sl.synthetic_arrays(["BTCUSDT"], n_bars=100, seed=1, model="gbm")["close"][0, 0]
    two = sl.synthetic_arrays(["BTCUSDT", "ETHUSDT"], n_bars=100, seed=1, model="gbm", correlation=np.eye(2))["close"][
        0, 0
    ]
    np.testing.assert_array_equal(one, two)


def test_gbm_closed_form_moments():
    sigma = 0.01
    a = sl.synthetic_arrays(["XYZUSDT"], n_bars=200_000, seed=4, model="gbm", sigma=sigma)
    r = np.diff(np.log(a["close"][0, 0]))
    assert abs(r.std() - sigma) < 0.03 * sigma
    assert abs(r.mean() + 0.5 * sigma**2) < 4 * sigma / np.sqrt(len(r))
    z = (r - r.mean()) / r.std()
    assert abs(np.mean(z**4) - 3.0) < 0.1  # Gaussian


def test_interval_scaling():
    h = sl.synthetic_arrays(["XYZUSDT"], n_bars=100_000, seed=4, model="gbm", interval="1h")
    d = sl.synthetic_arrays(["XYZUSDT"], n_bars=100_000, seed=4, model="gbm", interval="4h")
    sd = lambda a: np.diff(np.log(a["close"][0, 0])).std()  # noqa: E731
    assert abs(sd(d) / sd(h) - 2.0) < 0.05
    assert np.diff(d["timestamp_ms"])[0] == 4 * 3_600_000


def test_overrides_and_profiles():
    p = sl.symbol_profile("ETHUSDT")
    assert p["family"] == "eth" and p["sigma"] == 0.01
    assert sl.symbol_profile("DOGEUSDT")["family"] == "generic"
    a = sl.synthetic_arrays(["BTCUSDT"], n_bars=10, initial_prices={"BTCUSDT": 123.0})
    assert a["open"][0, 0, 0] == 123.0
    calm, stress = sl.default_correlations(["BTCUSDT", "ETHUSDT"])
    assert calm[0, 1] == 0.85 and stress[0, 1] == 0.90


def test_loader_unstressed_mixed_custom_is_the_market():
    sc = Scenario("calm", ScenarioType.MIXED_CUSTOM, symbols=["BTCUSDT", "ETHUSDT"], n_bars=200, seed=3)
    df = ScenarioLoader().load_data(sc)
    ref = sl.synthetic_market(["BTCUSDT", "ETHUSDT"], n_bars=200, seed=3, scenario="calm")
    assert df.equals(ref)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"sigma": float("nan")}, "sigma"),
        ({"sigma": -0.01}, "sigma"),
        ({"initial_prices": {"BTCUSDT": -1.0}}, "initial_price"),
        ({"n_bars": 0}, "n_bars"),
        ({"n_bars": -5}, "n_bars"),
        ({"n_paths": 0}, "n_paths"),
        ({"symbols": "BTCUSDT"}, "symbols"),
        ({"symbols": 42}, "symbols"),
        ({"symbols": []}, "symbols"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"model": "heston"}, "model"),
        ({"interval": "0h"}, "interval"),
        ({"garch_beta": 0.99}, "garch_beta"),
        ({"bogus_param": 1.0}, "bogus_param"),
        ({"nu": 1.5}, "nu"),
        (
            {
                "symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
                "correlation": [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
            },
            "correlation",
        ),
        ({"symbols": ["BTCUSDT", "ETHUSDT"], "correlation": [[1, 0.5], [0.4, 1]]}, "correlation"),
        ({"symbols": ["BTCUSDT", "ETHUSDT"], "correlation": [[1, 0.5, 0], [0.5, 1, 0]]}, "correlation"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_field(kwargs, field):
    args = {"symbols": ["BTCUSDT"], "n_bars": 10, **kwargs}
    with pytest.raises(ValueError) as e:
        sl.synthetic_market(**args)
    assert isinstance(e.value, InvalidParameterError)
    assert field in str(e.value)


def test_correlation_not_positive_definite_message():
    with pytest.raises(InvalidParameterError, match="positive definite"):
        sl.synthetic_market(
            ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
            n_bars=10,
            correlation=[[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
        )


def test_huge_request_fails_early_with_memory_needed():
    with pytest.raises(InsufficientMemoryError) as e:
        sl.synthetic_market(["BTCUSDT", "ETHUSDT"], n_bars=8760, n_paths=10_000_000)
    assert "GiB" in str(e.value) and "needs" in str(e.value)
    with pytest.raises(InsufficientMemoryError):
        sl.synthetic_arrays(["BTCUSDT"], n_bars=2**40, n_paths=2**30)
