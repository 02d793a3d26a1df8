"""`python -m stresslab`: generate a multi-symbol synthetic scenario and print its statistics."""

from __future__ import annotations

import argparse
import sys
import time

import polars as pl


def main(argv: list[str] | None = None) -> int:
    import stresslab as sl

    ap = argparse.ArgumentParser(prog="stresslab", description=__doc__)
    ap.add_argument("--symbols", default="BTCUSDT,ETHUSDT,SOLUSDT", help="comma-separated symbols")
    ap.add_argument("--bars", type=int, default=3 * 8760, help="bars per symbol (default 3 years of hours)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--model", default="realistic", choices=["realistic", "gbm"])
    args = ap.parse_args(argv)

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
        )
    )
    with pl.Config(tbl_cols=-1, tbl_width_chars=200, float_precision=4, tbl_hide_dataframe_shape=True):
        print(stats)
    wide = df.pivot(on="symbol", index="timestamp", values="close").sort("timestamp")
    rets = wide.select([pl.col(s).log().diff().alias(s) for s in symbols]).drop_nulls()
    if len(symbols) > 1:
        corr = rets.corr()
        print("hourly return correlation:")
        with pl.Config(float_precision=3, tbl_hide_dataframe_shape=True):
            print(corr.insert_column(0, pl.Series("symbol", symbols)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
