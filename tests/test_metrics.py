"""Metrics: cross-checked against an independent numpy implementation (empyrical / quantstats /
vectorbt-style formulas written here), plus the NaN/flag cases and bad input."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import stresslab as sl
from stresslab.errors import InvalidParameterError
from stresslab.metrics import FLAG_REASONS, METRIC_NAMES, METRIC_UNITS

RTOL = 1e-9
ANN = 8760.0


# --------------------------------------------------------------------------- numpy reference
def _drawdown_durations(underwater: np.ndarray) -> tuple[int, bool]:
    """Longest peak-to-recovery span from the runs of underwater bars.

    A run of underwater bars s..t starts right after its peak bar s-1 (-1 = the initial equity):
    recovered at t+1 it spans t+1-(s-1) = len+1 bars; still open at the end it spans len bars.
    """
    n = len(underwater)
    padded = np.concatenate([[False], underwater, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # run = [start, end)
    best, best_open = 0, False
    for s, e in zip(starts, ends, strict=True):
        is_open = e == n
        span = (e - s) if is_open else (e - s + 1)
        if span > best or (is_open and span == best and span > 0):
            best, best_open = int(span), bool(is_open)
    return best, best_open


def reference(
    equity: np.ndarray,
    e0: float,
    pnls: np.ndarray,
    held: np.ndarray,
    exposure: np.ndarray,
    turnover: np.ndarray,
    fees: float,
    slippage: float,
    ppy: float = ANN,
    levels: tuple[float, float] = (0.95, 0.99),
    ruin: float = 0.5,
) -> dict[str, float]:
    e = np.asarray(equity, dtype=float)
    n = len(e)
    r = e / np.concatenate([[e0], e[:-1]]) - 1.0
    peak = np.maximum.accumulate(np.concatenate([[e0], e]))[1:]
    dd = 1.0 - e / peak
    duration, is_open = _drawdown_durations(e < peak)
    cagr = (e[-1] / e0) ** (ppy / n) - 1.0
    mdd = 100.0 * dd.max()
    sd = r.std(ddof=1)
    out: dict[str, float] = {
        "n_bars": n,
        "initial_equity": e0,
        "final_equity": e[-1],
        "min_equity": min(e0, e.min()),
        "total_return": e[-1] / e0 - 1.0,
        "total_return_pct": 100.0 * (e[-1] / e0 - 1.0),
        "cagr": cagr,
        "max_drawdown": mdd,
        "max_dd_duration": duration,
        "max_dd_duration_open": is_open,
        "final_drawdown": 100.0 * dd[-1],
        "volatility": sd * math.sqrt(ppy),
        "sharpe_ratio": r.mean() / sd * math.sqrt(ppy),
        "sortino": r.mean() / math.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) * math.sqrt(ppy),
        "calmar": cagr / (mdd / 100.0),
    }
    for level in levels:
        key = f"{level * 100:g}"
        out[f"var_{key}"] = -np.quantile(r, 1.0 - level)  # empyrical value_at_risk
        k = int((n - 1) * (1.0 - level))  # empyrical conditional_value_at_risk
        out[f"es_{key}"] = -np.mean(np.partition(r, k)[: k + 1])
    wins, losses = pnls[pnls > 0], pnls[pnls < 0]
    out.update(
        total_trades=len(pnls),
        winning_trades=len(wins),
        losing_trades=len(losses),
        winrate=100.0 * len(wins) / len(pnls),
        profit_factor=wins.sum() / -losses.sum(),
        gross_profit=wins.sum(),
        gross_loss=-losses.sum(),
        avg_trade_pnl=pnls.mean(),
        avg_win=wins.mean(),
        avg_loss=losses.mean(),
        best_trade=pnls.max(),
        worst_trade=pnls.min(),
        avg_bars_held=held.mean(),
        exposure=np.mean(exposure / e),
        time_in_market=np.mean(exposure > 0),
        max_leverage=np.max(exposure / e),
        turnover=turnover.sum() / e.mean(),
        fees_paid=fees,
        slippage_paid=slippage,
        ruined=bool(min(e0, e.min()) <= ruin * e0),
    )
    return out


def random_case(seed: int) -> dict:
    """A random equity path (Gaussian or fat-tailed returns, flat out-of-market stretches, a crash)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 4000))
    if seed % 2:
        r = rng.standard_t(3, n) * 0.006 + 0.0001
    else:
        r = rng.normal(0.0002, 0.01, n)
    flat = rng.random(n) < 0.2
    r[flat] = 0.0
    if seed % 3 == 0:
        r[n // 2] = -0.3
    e0 = float(rng.uniform(1e3, 1e6))
    equity = e0 * np.cumprod(1.0 + r)
    exposure = np.where(flat, 0.0, equity * rng.uniform(0.2, 3.0, n))
    turnover = np.where(rng.random(n) < 0.1, equity * rng.uniform(0, 2, n), 0.0)
    n_trades = int(rng.integers(3, 300))
    pnls = rng.normal(5.0, 100.0, n_trades)
    held = rng.integers(1, 200, n_trades).astype(float)
    return dict(
        equity=equity,
        e0=e0,
        pnls=pnls,
        held=held,
        exposure=exposure,
        turnover=turnover,
        fees=float(rng.uniform(0, 500)),
        slippage=float(rng.uniform(0, 300)),
    )


def run(case: dict, **kw) -> dict:
    return sl.compute_metrics(
        case["equity"],
        case["pnls"],
        initial_equity=case["e0"],
        exposure=case["exposure"],
        turnover=case["turnover"],
        trade_bars_held=case["held"],
        fees=case["fees"],
        slippage=case["slippage"],
        **kw,
    )


def assert_matches(got: dict, want: dict) -> None:
    for key, w in want.items():
        g = got[key]
        if isinstance(w, (bool, np.bool_)) or key in ("n_bars", "max_dd_duration") or key.endswith("_trades"):
            assert g == w, f"{key}: {g} != {w}"
            assert type(g) is (bool if isinstance(w, (bool, np.bool_)) else int), key
        else:
            assert math.isclose(g, float(w), rel_tol=RTOL, abs_tol=0.0), f"{key}: {g!r} != {float(w)!r}"


# --------------------------------------------------------------------------- cross-checks
@pytest.mark.parametrize("seed", range(24))
def test_every_metric_matches_numpy_reference(seed: int) -> None:
    case = random_case(seed)
    got = run(case)
    want = reference(
        case["equity"],
        case["e0"],
        case["pnls"],
        case["held"],
        case["exposure"],
        case["turnover"],
        case["fees"],
        case["slippage"],
    )
    assert set(want) == set(METRIC_NAMES)
    assert_matches(got, want)
    assert got["flags"] == [] and got["undefined"] == {}


@pytest.mark.parametrize("seed", range(4))
def test_custom_levels_and_periods_match_reference(seed: int) -> None:
    case = random_case(100 + seed)
    got = run(case, periods_per_year=252.0, var_levels=(0.9, 0.975), ruin_threshold=0.9)
    want = reference(
        case["equity"],
        case["e0"],
        case["pnls"],
        case["held"],
        case["exposure"],
        case["turnover"],
        case["fees"],
        case["slippage"],
        ppy=252.0,
        levels=(0.9, 0.975),
        ruin=0.9,
    )
    assert "var_97.5" in got and "es_90" in got and "var_95" not in got
    assert_matches(got, want)


def test_drawdown_duration_reference_agrees_on_hand_cases() -> None:
    # the run-length reference itself, on the cases derived by hand in the Rust tests
    for equity, expect in [
        ([100, 80, 90, 100, 110], (3, False)),
        ([100, 120, 90, 100], (2, True)),
        ([90, 95, 99, 100, 120, 110], (4, False)),
        ([90, 100, 120, 110, 115], (2, True)),
    ]:
        e = np.array(equity, dtype=float)
        peak = np.maximum.accumulate(np.concatenate([[100.0], e]))[1:]
        assert _drawdown_durations(e < peak) == expect
        got = sl.compute_metrics(e, initial_equity=100.0)
        assert (got["max_dd_duration"], got["max_dd_duration_open"]) == expect


def test_initial_equity_none_takes_the_first_value_as_start() -> None:
    case = random_case(3)
    full = np.concatenate([[case["e0"]], case["equity"]])
    a = sl.compute_metrics(full, case["pnls"], exposure=case["exposure"], turnover=case["turnover"])
    b = sl.compute_metrics(
        case["equity"],
        case["pnls"],
        initial_equity=case["e0"],
        exposure=case["exposure"],
        turnover=case["turnover"],
    )
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])), k


def test_btc_hourly_tail_risk_matches_realism_doc() -> None:
    """REALISM.md: BTC hourly historical VaR/ES 95% 1.13%/2.08%, 99% 2.54%/3.89% (merged file)."""
    path = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    path = path / "binance_BTCUSDT_1h_2017-08_2023-12_merged.csv.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    import polars as pl

    close = pl.read_csv(path, columns=["close"])["close"].to_numpy().astype(float)
    m = sl.compute_metrics(close)
    got = [round(100 * m[k], 2) for k in ("var_95", "es_95", "var_99", "es_99")]
    assert got == [1.13, 2.08, 2.54, 3.89]


# --------------------------------------------------------------------------- undefined values
def assert_nan_explained(m: dict) -> None:
    nan_keys = {k for k, v in m.items() if isinstance(v, float) and math.isnan(v)}
    assert nan_keys == set(m["undefined"]), (nan_keys, m["undefined"])
    assert set(m["undefined"].values()) <= set(FLAG_REASONS.values())
    assert set(m["flags"]) <= set(FLAG_REASONS)


def test_constant_growth_has_zero_variance_not_a_huge_sharpe() -> None:
    g, n, e0 = 0.0005, 1000, 1e5
    equity = e0 * (1 + g) ** np.arange(1, n + 1)
    m = sl.compute_metrics(equity, initial_equity=e0)
    # rounding leaves ~1e-16 of noise in the returns; a naive mean/std would be ~1e13
    naive = np.diff(np.concatenate([[e0], equity])) / np.concatenate([[e0], equity])[:-1]
    assert naive.std(ddof=1) > 0  # the trap is real
    assert math.isnan(m["sharpe_ratio"]) and "zero_variance" in m["flags"]
    assert m["volatility"] == 0.0
    assert math.isnan(m["sortino"]) and "no_downside" in m["flags"]
    assert math.isnan(m["calmar"]) and "no_drawdown" in m["flags"]
    assert m["max_drawdown"] == 0.0 and m["max_dd_duration"] == 0
    assert math.isclose(m["total_return"], (1 + g) ** n - 1, rel_tol=1e-12)
    assert math.isclose(m["cagr"], (1 + g) ** 8760 - 1, rel_tol=1e-9)
    assert m["undefined"]["sharpe_ratio"] == FLAG_REASONS["zero_variance"]
    assert_nan_explained(m)


def test_no_losing_trade_gives_nan_profit_factor_not_infinity() -> None:
    m = sl.compute_metrics([100.0, 101.0, 102.5], [1.0, 0.5], initial_equity=100.0)
    assert math.isnan(m["profit_factor"]) and not math.isinf(m["profit_factor"])
    assert "no_losing_trades" in m["flags"] and m["winrate"] == 100.0
    assert m["undefined"]["profit_factor"] == FLAG_REASONS["no_losing_trades"]
    assert_nan_explained(m)


def test_no_trades_gives_nan_trade_metrics() -> None:
    for pnls in (None, [], np.array([])):
        m = sl.compute_metrics([100.0, 99.0, 101.0], pnls, initial_equity=100.0)
        assert m["total_trades"] == 0 and "no_trades" in m["flags"]
        for k in ("winrate", "profit_factor", "avg_trade_pnl", "best_trade", "worst_trade"):
            assert math.isnan(m[k]) and m["undefined"][k] == FLAG_REASONS["no_trades"]
        assert_nan_explained(m)


def test_missing_exposure_and_turnover_are_undefined_not_zero() -> None:
    m = sl.compute_metrics([100.0, 101.0], initial_equity=100.0)
    assert math.isnan(m["exposure"]) and math.isnan(m["turnover"]) and math.isnan(m["time_in_market"])
    assert {"no_exposure_input", "no_turnover_input"} <= set(m["flags"])
    assert_nan_explained(m)


def test_bust_account_voids_return_statistics() -> None:
    m = sl.compute_metrics([50.0, 0.0, 20.0], initial_equity=100.0)
    assert m["ruined"] and m["min_equity"] == 0.0
    assert math.isclose(m["max_drawdown"], 100.0)
    for k in ("sharpe_ratio", "sortino", "volatility", "var_95", "es_99", "exposure"):
        assert math.isnan(m[k]), k
    assert "returns_undefined" in m["flags"]
    assert_nan_explained(m)


def test_one_bar_and_open_drawdown() -> None:
    m = sl.compute_metrics([90.0], initial_equity=100.0)
    assert m["n_bars"] == 1 and "too_few_returns" in m["flags"] and math.isnan(m["sharpe_ratio"])
    assert (m["max_dd_duration"], m["max_dd_duration_open"]) == (1, True)
    assert math.isclose(m["var_99"], 0.1) and math.isclose(m["final_drawdown"], 10.0)
    assert_nan_explained(m)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "field", "pattern"),
    [
        (dict(equity=[100.0, 101.0], initial_equity=float("nan")), "initial_equity", "finite"),
        (dict(equity=[100.0, 101.0], initial_equity=0.0), "initial_equity", "> 0"),
        (dict(equity=[100.0, 101.0], initial_equity=-5.0), "initial_equity", "> 0"),
        (dict(equity=[-1.0, 101.0]), "equity", "starting equity"),
        (dict(equity=[100.0, float("nan"), 101.0]), "equity", "value 1 .*finite"),
        (dict(equity=[100.0, 101.0, float("inf")], initial_equity=100.0), "equity", "value 2 .*finite"),
        (dict(equity=[100.0]), "equity", "at least 2"),
        (dict(equity=[], initial_equity=100.0), "equity", "at least one"),
        (dict(equity=[[100.0, 101.0]]), "equity", "1-D"),
        (dict(equity=["a", "b"]), "equity", "numbers"),
        (dict(equity=[100.0, 101.0], trade_pnls=[1.0, float("nan")]), "trade_pnls", "value 1"),
        (dict(equity=[100.0, 101.0, 102.0], exposure=[1.0]), "exposure", "one value per bar: 2"),
        (dict(equity=[100.0, 101.0], exposure=[-1.0]), "exposure", ">= 0"),
        (dict(equity=[100.0, 101.0], turnover=[float("nan")]), "turnover", "finite"),
        (dict(equity=[100.0, 101.0], trade_pnls=[1.0], trade_bars_held=[1.5]), "trade_bars_held", "whole"),
        (dict(equity=[100.0, 101.0], periods_per_year=0.0), "periods_per_year", "> 0"),
        (dict(equity=[100.0, 101.0], ruin_threshold=50.0), "ruin_threshold", "fraction"),
        (dict(equity=[100.0, 101.0], var_levels=(95, 99)), "var_levels", "not 95"),
        (dict(equity=[100.0, 101.0], var_levels=(0.99, 0.95)), "var_levels", "increasing"),
        (dict(equity=[100.0, 101.0], var_levels=(0.95,)), "var_levels", "two"),
        (dict(equity=[100.0, 101.0], fees=float("inf")), "fees", "finite"),
        (dict(equity=[100.0, 101.0], fees="x"), "fees", "number"),
    ],
)
def test_bad_input_raises_naming_the_field(kwargs: dict, field: str, pattern: str) -> None:
    with pytest.raises(InvalidParameterError, match=pattern) as err:
        sl.compute_metrics(**kwargs)
    assert err.value.field == field
    assert isinstance(err.value, ValueError)


# --------------------------------------------------------------------------- documentation
def test_docstring_table_lists_every_metric_with_its_unit() -> None:
    lines = (sl.metrics.__doc__ or "").splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("====")]
    assert len(rules) == 3  # top, under the header, bottom
    rows = [re.match(r"(\w+)\s+(\w+)\s+\S", line) for line in lines[rules[1] + 1 : rules[2]]]
    table = {r.group(1): r.group(2) for r in rows if r}
    assert len(table) == rules[2] - rules[1] - 1
    assert table == METRIC_UNITS
    m = sl.compute_metrics([100.0, 101.0, 99.0], [1.0, -1.0], initial_equity=100.0)
    assert [k for k in m if k not in ("flags", "undefined")] == list(METRIC_NAMES)
