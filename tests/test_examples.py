"""The seed's usage examples and the CLI run offline and produce sensible values."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import stresslab as sl
from stresslab import Scenario, ScenarioExecutor, ScenarioLibrary, ScenarioType, StressTestRunner
from stresslab.examples import (
    example_custom_mixed,
    example_historical_replay,
    example_monte_carlo,
    example_single_scenario,
)
from stresslab.strategies import BuyAndHold


def test_every_library_scenario_validates_and_runs():
    scenarios = ScenarioLibrary.get_all()
    results = StressTestRunner(ScenarioExecutor(), max_workers=2).run_batch(scenarios)
    bad = {n: r.notes for n, r in results.items() if not r.success}
    assert not bad
    for r in results.values():
        assert math.isfinite(r.max_drawdown) and r.max_drawdown >= 0
        assert len(r.equity_curve) > 0


def test_get_by_type_returns_only_that_type():
    for t in ScenarioType:
        got = ScenarioLibrary.get_by_type(t)
        assert all(s.type is t for s in got)


def test_flash_crash_suite_draws_down_more_than_calm_baseline():
    # same strategy, 40 scenario seeds each: the crash suite's average drawdown is larger
    ex = ScenarioExecutor(BuyAndHold())
    calm = [Scenario(f"calm{i}", "mixed_custom", n_bars=1000, seed=i) for i in range(40)]
    crash = [Scenario(f"crash{i}", "flash_crash", {"drop_pct": 0.3}, n_bars=1000, seed=i) for i in range(40)]
    runner = StressTestRunner(ex, max_workers=2)
    calm_dd = runner.generate_summary(runner.run_batch(calm))["avg_max_drawdown"]
    crash_dd = runner.generate_summary(runner.run_batch(crash))["avg_max_drawdown"]
    assert crash_dd > calm_dd + 10


def test_seed_examples_produce_sensible_values():
    r1 = example_single_scenario()
    assert r1.success and r1.max_drawdown > 0 and r1.total_trades > 0
    r3 = example_custom_mixed()
    assert r3.success and r3.slippage_paid > 0
    r4 = example_historical_replay()
    assert r4.success and len(r4.symbols) >= 1
    # real May 2021 bars: BTC fell ~50% peak to trough in the window
    mc = example_monte_carlo()
    s = mc.summary.sort("param_drop_pct")
    assert s["max_drawdown_p50"][1] > s["max_drawdown_p50"][0]
    assert np.all(s["paths"].to_numpy() == 500)


def test_examples_module_and_cli_run():
    out = subprocess.run([sys.executable, "-m", "stresslab.examples"], capture_output=True, text=True, check=True)
    assert "all examples ran" in out.stdout
    out = subprocess.run([sys.executable, "-m", "stresslab", "list"], capture_output=True, text=True, check=True)
    assert "btc_flash_crash_2021" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "stresslab", "library", "--risk", "default"], capture_output=True, text=True, check=True
    )
    stops = int(out.stdout.split("emergency stops ")[1].split(";")[0])
    assert stops > 0  # the default stack's governor fires in the library's crashes


def test_cli_runs_a_suite_file_and_reports_a_typo(tmp_path):
    good = tmp_path / "suite.toml"
    sl.save_suite([Scenario("c", "flash_crash", {"drop_pct": 0.2}, n_bars=500)], good)
    out = subprocess.run(
        [sys.executable, "-m", "stresslab", "run", str(good), "--json", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "r.json").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("drop_pct", "drop_pcct"))
    out = subprocess.run([sys.executable, "-m", "stresslab", "run", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "drop_pcct" in out.stderr and "line" in out.stderr
