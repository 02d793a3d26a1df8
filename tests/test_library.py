"""ScenarioLibrary: validity, offline loading, types, names, serialisation, and calibration.

The calibration tests re-measure every anchor of stresslab.library on the bundled real bars with
the numpy code below (written from the definitions in stresslab.calibration's module docs), compare the
24h crash numbers with REALISM.md's "Crash library anchors" table (measured on the shared CSV),
and check that each scenario's parameters follow from the re-measured anchors by the documented
formulas.
"""

from __future__ import annotations

import json
import math
import socket
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import stresslab as sl
from stresslab.calibration import (
    BARS_COVID,
    CORRELATION_ANCHORS,
    CRASH_ANCHORS,
    DEFAULT_SPREAD_ELASTICITY,
    MISSING_HOURS_COVID,
)
from stresslab.errors import ScenarioValidationError
from stresslab.library import ScenarioLibrary
from stresslab.scenarios import PARAMETER_SPECS, ScenarioType, load_suite, save_suite

HOUR = 3_600_000


# ------------------------------------------------------------------------------------------------
# independent re-measurement on the bundled data


def _window(event: str, symbol: str) -> dict[str, np.ndarray]:
    df = sl.ScenarioLoader(validate=False).load_bundled([symbol], event=event)
    out = {c: df[c].to_numpy() for c in ("open", "high", "low", "close", "volume")}
    out["ts"] = df["timestamp"].dt.epoch("ms").to_numpy()
    return out


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def measure(event: str, symbol: str) -> dict:
    b = _window(event, symbol)
    ts, h, low, c, v = b["ts"], b["high"], b["low"], b["close"], b["volume"]
    n = ts.size
    # 24h crash: for each peak bar, the lowest low of the bars opening less than 24 h later
    fall, i, j = 0.0, 0, 0
    for p in range(n):
        end = int(np.searchsorted(ts, ts[p] + 24 * HOUR))
        t = p + int(np.argmin(low[p:end]))
        if low[t] / h[p] - 1 < fall:
            fall, i, j = low[t] / h[p] - 1, p, t
    step_ok = np.diff(ts) == HOUR
    hourly = np.where(step_ok, c[1:] / c[:-1] - 1, np.nan)  # hourly[k - 1] is bar k's return
    k = i + int(np.nanargmin(hourly[i:j]))
    rng = np.log(h / low)
    base, seg = slice(0, i), slice(i, j + 1)
    after = int(np.searchsorted(ts, ts[j] + 24 * HOUR))
    retrace = (c[after] - low[j]) / (h[i] - low[j]) if after < n and ts[after] == ts[j] + 24 * HOUR else math.nan
    hot = np.convolve(rng, np.ones(12) / 12, mode="same") >= 2 * rng[base].mean()
    a = z = j
    while a > 0 and hot[a - 1]:
        a -= 1
    while z < n - 1 and hot[z + 1]:
        z += 1
    lr = np.log(c[1:] / c[:-1])
    outside_crash = [q for q in range(a, z) if not i <= q < j]
    usd = c * v
    return {
        "window_start": _iso(ts[0]),
        "first_open": b["open"][0],
        "peak": _iso(ts[i]),
        "drop_pct": -fall,
        "duration_bars": j - i,
        "worst_hour_pct": hourly[k],
        "worst_hour": _iso(ts[k + 1]),
        "volume_mult": v[seg].mean() / v[base].mean(),
        "volume_peak_mult": v[seg].max() / v[base].mean(),
        "range_mult": rng[seg].mean() / rng[base].mean(),
        "usd_volume_mult": usd[seg].mean() / usd[base].mean(),
        "retrace_pct": retrace,
        "stress_start": _iso(ts[a]),
        "stress_bars": z - a + 1,
        "stress_vol_mult": lr[a:z].std() / lr[:i].std(),
        "aftershock_vol_mult": lr[outside_crash].std() / lr[:i].std(),
        "_bars": (i, j, a, z),
        "_prices": (h[i], low[j]),
    }


def measure_correlation(event: str, symbols: tuple[str, ...]) -> tuple[float, float]:
    i, _, a, z = measure(event, symbols[0])["_bars"]
    returns = []
    for s in symbols:
        c = _window(event, s)["close"]
        returns.append(np.log(c[1:] / c[:-1]))
    r = np.stack(returns)
    upper = np.triu_indices(len(symbols), 1)
    return float(np.corrcoef(r[:, :i])[upper].mean()), float(np.corrcoef(r[:, a:z])[upper].mean())


@pytest.fixture(scope="module")
def measured() -> dict[tuple[str, str], dict]:
    return {key: measure(*key) for key in CRASH_ANCHORS}


# REALISM.md "Crash library anchors" (shared crash_windows_1h.csv): 24h P2T %, hours, worst hour %, retrace %
REALISM_24H = {
    ("covid_2020-03", "BTCUSDT"): (-50.9, 23, -18.2, 45),
    ("may_2021", "BTCUSDT"): (-31.6, 20, -8.9, 85),
    ("may_2021", "ETHUSDT"): (-45.5, 16, -13.1, 64),
    ("may_2021", "SOLUSDT"): (-54.6, 20, -19.3, 53),
    ("terra_luna_2022-05", "BTCUSDT"): (-17.0, 19, -7.0, 70),
    ("terra_luna_2022-05", "ETHUSDT"): (-26.6, 19, -9.8, 47),
    ("ftx_2022-11", "SOLUSDT"): (-51.5, 23, -13.0, 34),
    ("ftx_2022-11", "BTCUSDT"): (-18.3, 23, -5.1, 17),
    ("ftx_2022-11", "ETHUSDT"): (-28.1, 18, -7.0, 10),
    ("aug_2024", "BTCUSDT"): (-19.8, 18, -3.4, 56),
}


# ------------------------------------------------------------------------------------------------
# calibration


def test_btc_may_2021_crash_is_minus_31_6_percent_in_20_hours(measured):
    m = measured[("may_2021", "BTCUSDT")]
    peak_high, trough_low = m["_prices"]
    assert round(peak_high) == 43_826 and trough_low == 30_000  # REALISM: 43,826 -> 30,000
    assert m["drop_pct"] == pytest.approx(1 - trough_low / peak_high, abs=1e-12)
    # "about -31.6%": REALISM's table rounds 31.547% up
    assert abs(m["drop_pct"] * 100 - 31.6) < 0.06 and m["duration_bars"] == 20
    sc = ScenarioLibrary.btc_flash_crash_2021()
    assert sc.parameters["drop_pct"] == pytest.approx(m["drop_pct"], abs=1e-4)
    assert sc.parameters["duration_bars"] == 20
    assert sc.parameters["at"] == m["peak"] == "2021-05-18T17:00:00Z"


@pytest.mark.parametrize("key", list(CRASH_ANCHORS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_anchor_matches_a_remeasurement_of_the_bundled_data(measured, key):
    stored, m = CRASH_ANCHORS[key], measured[key]
    for field in ("window_start", "peak", "worst_hour", "stress_start", "duration_bars", "stress_bars"):
        assert getattr(stored, field) == m[field], field
    assert stored.first_open == m["first_open"]
    # stored with 4 decimals: fractions within 5e-5, multiples within 1e-4 relative
    for field in ("drop_pct", "worst_hour_pct", "retrace_pct"):
        assert getattr(stored, field) == pytest.approx(m[field], abs=5e-5), field
    for field in (
        "volume_mult",
        "volume_peak_mult",
        "range_mult",
        "usd_volume_mult",
        "stress_vol_mult",
        "aftershock_vol_mult",
    ):
        assert getattr(stored, field) == pytest.approx(m[field], rel=1e-4), field


@pytest.mark.parametrize("key", list(REALISM_24H), ids=lambda k: f"{k[0]}-{k[1]}")
def test_anchor_agrees_with_realism_table(key):
    drop, hours, worst, retrace = REALISM_24H[key]
    a = CRASH_ANCHORS[key]
    assert abs(-a.drop_pct * 100 - drop) <= 0.06  # the table has one decimal (31.547% shows as 31.6%)
    assert a.duration_bars == hours
    assert abs(a.worst_hour_pct * 100 - worst) <= 0.051
    assert abs(a.retrace_pct * 100 - retrace) <= 0.51


@pytest.mark.parametrize("event", list(CORRELATION_ANCHORS))
def test_correlation_anchor_matches_a_remeasurement(event):
    stored = CORRELATION_ANCHORS[event]
    calm, stress = measure_correlation(event, stored.symbols)
    assert stored.calm_corr == pytest.approx(calm, abs=5e-5)
    assert stored.stress_corr == pytest.approx(stress, abs=5e-5)


def test_data_fault_base_rate_matches_the_bundled_window():
    for sym in ("BTCUSDT", "ETHUSDT"):
        ts = _window("covid_2020-03", sym)["ts"]
        assert ts.size == BARS_COVID
        assert int((np.diff(ts) // HOUR - 1).sum()) == MISSING_HOURS_COVID
    rate = MISSING_HOURS_COVID / BARS_COVID
    pct = ScenarioLibrary.data_corruption_shock().parameters["corruption_pct"]
    assert 10 * rate < pct < 20 * rate  # "about 15 times" the real rate, as documented


def _median(xs):
    return float(np.median(xs))


def test_parameters_follow_from_the_remeasured_anchors(measured):
    lib = ScenarioLibrary
    btc21 = measured[("may_2021", "BTCUSDT")]
    p = lib.btc_flash_crash_2021().parameters
    assert p["recovery_pct"] == pytest.approx(btc21["retrace_pct"], abs=1e-4)
    assert p["volume_mult"] == pytest.approx(btc21["volume_mult"], abs=0.006)
    assert p["spread_mult"] == pytest.approx(btc21["range_mult"] ** 1.5, abs=0.006)

    eth21 = measured[("may_2021", "ETHUSDT")]
    p = lib.eth_liquidity_collapse().parameters
    impact = eth21["range_mult"] / math.sqrt(eth21["usd_volume_mult"])
    assert p["drop_pct"] == pytest.approx(1 - 1 / impact**2, abs=1e-4)
    # the transform's spread factor at that drop equals the measured spread multiple
    assert (1 - p["drop_pct"]) ** -p["spread_elasticity"] == pytest.approx(eth21["range_mult"] ** 1.5, rel=1e-3)
    assert (p["duration_bars"], p["at"]) == (eth21["duration_bars"], eth21["peak"])

    sol22 = measured[("ftx_2022-11", "SOLUSDT")]
    p = lib.sol_volatility_explosion().parameters
    assert p["multiplier"] == pytest.approx(sol22["stress_vol_mult"], abs=0.006)
    assert (p["duration_bars"], p["at"]) == (sol22["stress_bars"], sol22["stress_start"])

    terra = [measured[("terra_luna_2022-05", s)] for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")]
    p = lib.mixed_regime_chaos().parameters
    assert p["flash_crash_drop_pct"] == pytest.approx(_median([m["drop_pct"] for m in terra]), abs=1e-4)
    assert p["flash_crash_recovery_pct"] == pytest.approx(_median([m["retrace_pct"] for m in terra]), abs=1e-4)
    assert p["volatility_multiplier"] == pytest.approx(np.mean([m["aftershock_vol_mult"] for m in terra]), abs=0.006)
    assert p["correlation_target"] == pytest.approx(
        measure_correlation("terra_luna_2022-05", ("BTCUSDT", "ETHUSDT", "SOLUSDT"))[1], abs=6e-4
    )
    total_spread = _median([m["range_mult"] ** 1.5 for m in terra])
    from_liquidity = (1 - p["liquidity_drop_pct"]) ** -DEFAULT_SPREAD_ELASTICITY
    assert p["spread_mult"] * from_liquidity == pytest.approx(total_spread, rel=2e-3)

    aug = measured[("aug_2024", "BTCUSDT")]
    p = lib.model_failure_simulation().parameters
    assert p["model_failure_rate"] == 0.10
    assert p["volatility_multiplier"] == pytest.approx(aug["stress_vol_mult"], abs=0.006)

    p = lib.execution_crisis().parameters
    assert p["flash_crash_drop_pct"] == pytest.approx(btc21["drop_pct"], abs=1e-4)
    assert p["outage_at"] == btc21["worst_hour"] and p["outage_bars"] >= 1
    assert p["failure_rate"] > 0 and p["latency_multiplier"] > 1 and p["latency_spike_prob"] > 0

    covid = measured[("covid_2020-03", "BTCUSDT")]
    p = lib.black_swan_combo().parameters
    assert p["flash_crash_drop_pct"] == pytest.approx(covid["drop_pct"], abs=1e-4)
    assert p["liquidity_drop_pct"] == pytest.approx(1 - covid["usd_volume_mult"] / covid["range_mult"] ** 2, abs=1e-4)
    from_liquidity = (1 - p["liquidity_drop_pct"]) ** -DEFAULT_SPREAD_ELASTICITY
    assert p["spread_mult"] * from_liquidity == pytest.approx(covid["range_mult"] ** 1.5, rel=2e-3)
    assert p["volatility_multiplier"] == pytest.approx(covid["aftershock_vol_mult"], abs=0.006)
    assert p["outage_at"] == covid["worst_hour"]


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("btc_flash_crash_2021", ("may_2021", "BTCUSDT")),
        ("eth_liquidity_collapse", ("may_2021", "ETHUSDT")),
        ("sol_volatility_explosion", ("ftx_2022-11", "SOLUSDT")),
        ("execution_crisis", ("may_2021", "BTCUSDT")),
        ("black_swan_combo", ("covid_2020-03", "BTCUSDT")),
        ("model_failure_simulation", ("aug_2024", "BTCUSDT")),
    ],
)
def test_docstring_states_the_measured_crash(measured, method, key):
    doc = " ".join(getattr(ScenarioLibrary, method).__doc__.split())
    m = measured[key]
    assert f"-{m['drop_pct'] * 100:.1f}%" in doc
    assert f"in {m['duration_bars']} h" in doc


# ------------------------------------------------------------------------------------------------
# validity, offline loading, types, names


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


_WINDOWS = {  # position parameter -> the parameters giving the length of what starts there
    "at": ("duration_bars", "recovery_bars"),
    "flash_crash_at": ("flash_crash_duration_bars", "flash_crash_recovery_bars"),
    "volatility_at": ("volatility_duration_bars",),
    "liquidity_at": ("liquidity_duration_bars",),
    "spread_at": ("spread_duration_bars",),
    "correlation_at": ("correlation_duration_bars",),
    "outage_at": ("outage_bars",),
}


@pytest.mark.parametrize("name", ScenarioLibrary.names())
def test_every_scenario_validates_and_loads_offline(offline, name):
    sc = getattr(ScenarioLibrary, name)()
    assert sc.name == name
    assert set(sc.parameters) <= set(PARAMETER_SPECS[sc.type])
    assert sl.Scenario.from_dict(sc.to_dict()) == sc  # re-validates every field
    df = sl.ScenarioLoader().load_market(sc)
    assert sorted(df["symbol"].unique().to_list()) == sorted(sc.symbols)
    per_symbol = df.group_by("symbol").len()["len"].to_list()
    assert len(set(per_symbol)) == 1 and per_symbol[0] >= 289
    ts = df["timestamp"]
    assert (df["low"] > 0).all() and (df["high"] >= df["low"]).all()
    if sc.type is ScenarioType.HISTORIC_REPLAY:
        assert ts.min() == sc.start and ts.max() < sc.end
        return
    assert per_symbol[0] == sc.bar_count and ts.min() == sc.start
    # every stress window starts and ends inside the market it is applied to
    last = ts.max()
    for pos, lengths in _WINDOWS.items():
        if pos in sc.parameters:
            begin = datetime.fromisoformat(sc.parameters[pos].replace("Z", "+00:00"))
            bars = sum(sc.resolved_parameters().get(k, 0) for k in lengths)
            assert ts.min() <= begin and begin + timedelta(hours=bars - 1) <= last, pos
    # synthetic markets open at the real first price of their event window
    first = df.sort("timestamp").group_by("symbol", maintain_order=True).first()
    for sym, price in zip(first["symbol"], first["open"], strict=True):
        assert price == pytest.approx(sc.initial_prices[sym])


def test_get_all_names_are_unique_and_seeds_fixed():
    first, second = ScenarioLibrary.get_all(), ScenarioLibrary.get_all()
    names = [s.name for s in first]
    assert len(names) == len(set(names)) == 12
    assert names == ScenarioLibrary.names()
    assert first == second  # same seeds and parameters on every call
    assert len({s.seed for s in first}) == len(first)  # no two scenarios share a random stream seed
    historic = [s.name for s in first if s.type is ScenarioType.HISTORIC_REPLAY]
    assert historic == ["covid_crash_2020", "may_2021_crash", "luna_collapse_2022", "ftx_collapse_2022"]


@pytest.mark.parametrize("stype", list(ScenarioType))
def test_get_by_type_returns_only_that_type(stype):
    got = ScenarioLibrary.get_by_type(stype)
    assert all(s.type is stype for s in got)
    expected = [s.name for s in ScenarioLibrary.get_all() if s.type is stype]
    assert [s.name for s in got] == expected
    assert [s.name for s in ScenarioLibrary.get_by_type(stype.name)] == expected


def test_get_by_type_counts_and_bad_type():
    counts = {t: len(ScenarioLibrary.get_by_type(t)) for t in ScenarioType}
    assert counts[ScenarioType.HISTORIC_REPLAY] == 4
    assert counts[ScenarioType.MIXED_CUSTOM] == 4
    assert sum(counts.values()) == len(ScenarioLibrary.get_all())
    with pytest.raises(ScenarioValidationError, match="unknown scenario type"):
        ScenarioLibrary.get_by_type("meltdown")


def test_json_and_toml_round_trip_of_get_all(tmp_path):
    scenarios = ScenarioLibrary.get_all()
    for s in scenarios:
        assert sl.Scenario.from_json(s.to_json()) == s
    path = tmp_path / "library.json"
    save_suite(scenarios, path)
    assert json.loads(path.read_text())["scenarios"][0]["name"] == "btc_flash_crash_2021"
    assert load_suite(path) == scenarios
    toml_path = tmp_path / "library.toml"
    save_suite(scenarios, toml_path)
    assert load_suite(toml_path) == scenarios


def test_library_exported_from_the_package():
    assert sl.ScenarioLibrary is ScenarioLibrary
    assert "ScenarioLibrary" in sl.__all__
