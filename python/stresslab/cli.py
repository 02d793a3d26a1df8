"""The ``stresslab`` command (also ``python -m stresslab``).

    stresslab                      run the scenario library against the reference strategy (the main job)
    stresslab library [--type T]   same, optionally only one scenario type
    stresslab run SUITE.toml       run a suite file (TOML, JSON or YAML)
    stresslab sweep SUITE.toml --paths 1000 [--grid drop_pct=0.1,0.2]
    stresslab list                 list the library's scenarios
    stresslab market               generate a synthetic market and print its statistics

Common options: ``--strategy sma|buy_and_hold|momentum|mean_reversion``, ``--risk none|default``, ``--capital``,
``--workers``, ``--parquet FILE`` / ``--json FILE`` to save the per-scenario (or per-path) table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import polars as pl

STRATEGIES = {
    "sma": lambda: _strategies().SmaCross(24, 96),
    "buy_and_hold": lambda: _strategies().BuyAndHold(),
    "momentum": lambda: _strategies().Momentum(24, 0.01),
    "mean_reversion": lambda: _strategies().MeanReversion(48, 2.0, 0.5),
}


def _strategies():
    from . import strategies

    return strategies


def _results_table(results: dict) -> pl.DataFrame:
    return pl.DataFrame([r.summary() for r in results.values()])


def _save(df: pl.DataFrame, args: argparse.Namespace) -> None:
    if args.parquet:
        df.write_parquet(args.parquet)
        print(f"wrote {df.height} rows to {args.parquet}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                df.to_dicts(), f, indent=2, default=lambda x: None if isinstance(x, float) and math.isnan(x) else str(x)
            )
        print(f"wrote {df.height} rows to {args.json}")


def _run_scenarios(scenarios: list, args: argparse.Namespace) -> int:
    import stresslab as sl

    stack = sl.risk.default_stack() if args.risk == "default" else {}
    ex = sl.ScenarioExecutor(STRATEGIES[args.strategy](), initial_capital=args.capital, **stack)
    runner = sl.StressTestRunner(ex, max_workers=args.workers)
    t0 = time.perf_counter()
    results = runner.run_batch(scenarios)
    runner.print_summary(results)
    print(f"{len(scenarios)} scenarios in {time.perf_counter() - t0:.1f} s; strategy {args.strategy}")
    _save(_results_table(results), args)
    return 0 if all(r.success for r in results.values()) else 1


def _library(args: argparse.Namespace) -> list:
    from .library import ScenarioLibrary
    from .scenarios import ScenarioType

    if getattr(args, "type", None):
        return ScenarioLibrary.get_by_type(ScenarioType.parse(args.type))
    return ScenarioLibrary.get_all()


def cmd_library(args: argparse.Namespace) -> int:
    return _run_scenarios(_library(args), args)


def cmd_run(args: argparse.Namespace) -> int:
    from .scenarios import load_suite

    return _run_scenarios(load_suite(args.suite), args)


def _grid(items: list[str] | None) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--grid expects name=v1,v2,..., got {item!r}")
        name, values = item.split("=", 1)
        parsed: list[Any] = []
        for v in values.split(","):
            try:
                parsed.append(int(v) if v.isdigit() else float(v))
            except ValueError:
                parsed.append(v)
        grid[name.strip()] = parsed
    return grid


def cmd_sweep(args: argparse.Namespace) -> int:
    import stresslab as sl

    from .scenarios import load_suite

    scenarios = (
        load_suite(args.suite) if args.suite else [s for s in _library(args) if s.type.name != "HISTORIC_REPLAY"]
    )
    mc = sl.monte_carlo(
        scenarios,
        STRATEGIES[args.strategy](),
        n_paths=args.paths,
        seed=args.seed,
        grid=_grid(args.grid),
        initial_capital=args.capital,
        max_workers=args.workers,
        parquet_path=args.parquet,
        risk=sl.risk.default_stack() if args.risk == "default" else None,
    )
    with pl.Config(tbl_cols=-1, tbl_width_chars=220, float_precision=2, tbl_hide_dataframe_shape=True):
        print(
            mc.summary.select(
                "scenario",
                *[c for c in mc.summary.columns if c.startswith("param_")],
                "paths",
                "max_drawdown_p50",
                "max_drawdown_p95",
                "total_return_pct_p5",
                "total_return_pct_p50",
                "prob_ruin",
                "expected_shortfall_pct_5",
                "emergency_stop_frequency",
            )
        )
    print(
        f"{mc.table.height} paths, {mc.bars:,} bars in {mc.elapsed_s:.1f} s "
        f"({mc.bars_per_second / 1e6:.1f} M bars/s){' [interrupted]' if mc.interrupted else ''}"
    )
    if args.json:
        args.parquet = None
        _save(mc.table, args)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rows = [
        {"name": s.name, "type": s.type.name, "symbols": ",".join(s.symbols), "bars": s.bar_count, "seed": s.seed}
        for s in _library(args)
    ]
    with pl.Config(tbl_rows=-1, tbl_width_chars=160, tbl_hide_dataframe_shape=True):
        print(pl.DataFrame(rows))
    return 0


def cmd_market(args: argparse.Namespace) -> int:
    import stresslab as sl

    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    t0 = time.perf_counter()
    df = sl.synthetic_market(symbols, n_bars=args.bars, seed=args.seed, model=args.model)
    dt = time.perf_counter() - t0
    print(
        f"stresslab {sl.__version__}: {args.model} market, {len(symbols)} symbols x {args.bars} hourly bars, "
        f"seed {args.seed}: {df.height:,} rows in {dt * 1000:.0f} ms"
    )
    stats = (
        sl.market_statistics(df)
        .with_columns(
            (pl.col("ret_sd") * 100).alias("hourly_sd_%"),
            (pl.col("ret_sd") * (8760**0.5) * 100).alias("annual_vol_%"),
        )
        .select(
            "symbol",
            "bars",
            "first_close",
            "last_close",
            "min_low",
            "max_high",
            "hourly_sd_%",
            "annual_vol_%",
            "excess_kurtosis",
            "acf1_r",
            "acf1_abs_r",
            "mean_volume",
            "median_spread_bps",
        )  # fmt: skip
    )
    with pl.Config(tbl_cols=-1, tbl_width_chars=200, float_precision=4, tbl_hide_dataframe_shape=True):
        print(stats)
        if len(symbols) > 1:
            wide = df.pivot(on="symbol", index="timestamp", values="close").sort("timestamp")
            rets = wide.select([pl.col(s).log().diff().alias(s) for s in symbols]).drop_nulls()
            print("hourly return correlation:")
            print(rets.corr().insert_column(0, pl.Series("symbol", symbols)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="stresslab", description="Scenario and stress testing for trading systems.")
    sub = ap.add_subparsers(dest="command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--strategy", default="sma", choices=sorted(STRATEGIES))
        p.add_argument("--capital", type=float, default=100_000.0)
        p.add_argument(
            "--risk",
            default="none",
            choices=["none", "default"],
            help="risk stack: none, or stresslab.risk.default_stack()",
        )
        p.add_argument("--workers", type=int, default=None, help="threads (default: all cores)")
        p.add_argument("--parquet", default=None, help="save the results table as Parquet")
        p.add_argument("--json", default=None, help="save the results table as JSON")

    p = sub.add_parser("library", help="run the scenario library (the default command)")
    p.add_argument("--type", default=None, help="only scenarios of this ScenarioType")
    common(p)
    p.set_defaults(func=cmd_library)
    p = sub.add_parser("run", help="run a suite file (TOML, JSON or YAML)")
    p.add_argument("suite")
    common(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("sweep", help="Monte Carlo sweep of a suite file (or the synthetic library)")
    p.add_argument("suite", nargs="?", default=None)
    p.add_argument("--paths", type=int, default=1000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--grid", action="append", help="parameter=v1,v2 (repeatable)")
    p.add_argument("--type", default=None)
    common(p)
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("list", help="list the library's scenarios")
    p.add_argument("--type", default=None)
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("market", help="generate a synthetic market and print its statistics")
    p.add_argument("--symbols", default="BTCUSDT,ETHUSDT,SOLUSDT")
    p.add_argument("--bars", type=int, default=3 * 8760)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--model", default="realistic", choices=["realistic", "gbm"])
    p.set_defaults(func=cmd_market)
    return ap


def main(argv: list[str] | None = None) -> int:
    from .errors import StresslabError

    ap = build_parser()
    args = ap.parse_args(argv)
    if args.command is None:
        args = ap.parse_args(["library", *(argv or [])])
    try:
        return args.func(args)
    except (StresslabError, ValueError, FileNotFoundError) as exc:
        print(f"stresslab: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
