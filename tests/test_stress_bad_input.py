"""Bad input to the stress transforms: clear exceptions naming the field and the allowed range."""

from __future__ import annotations

import inspect

import polars as pl
import pytest
import stresslab as sl
from stress_helpers import gbm_frame

DF = gbm_frame(100, ["AAA", "BBB", "CCC"])


def raises(field: str, fn, *args, match: str | None = None, **kw) -> str:
    with pytest.raises(sl.InvalidParameterError) as e:
        fn(*args, **kw)
    assert e.value.field == field, (e.value.field, str(e.value))
    assert isinstance(e.value, ValueError)
    if match is not None:
        assert match in str(e.value), str(e.value)
    return str(e.value)


@pytest.mark.parametrize(
    ("field", "fn", "kw", "match"),
    [
        ("drop_pct", sl.apply_flash_crash, {"drop_pct": 1.0}, "(0, 1)"),
        ("drop_pct", sl.apply_flash_crash, {"drop_pct": 20}, "write 0.2 for 20%"),
        ("volume_mult", sl.apply_flash_crash, {"volume_mult": -2.0}, "> 0"),
        ("spread_mult", sl.apply_flash_crash, {"spread_mult": 0.0}, "> 0"),
        ("recovery_pct", sl.apply_flash_crash, {"recovery_pct": 1.5}, "[0, 1]"),
        ("duration_bars", sl.apply_flash_crash, {"duration_bars": 101}, "only 100"),
        ("duration_bars", sl.apply_flash_crash, {"duration_bars": 0}, ">= 1"),
        ("at", sl.apply_flash_crash, {"at": 90}, "past the end"),
        ("at", sl.apply_flash_crash, {"at": -1}, None),
        ("at", sl.apply_flash_crash, {"at": "2030-01-01T00:00:00Z"}, "past the end"),
        ("at", sl.apply_flash_crash, {"at": "yesterday"}, "ISO"),
        ("multiplier", sl.apply_volatility_spike, {"multiplier": -3.0}, "> 0"),
        ("multiplier", sl.apply_volatility_spike, {"multiplier": 1000.0}, "(0, 100]"),
        ("duration_bars", sl.apply_volatility_spike, {"duration_bars": 500}, "only 100"),
        ("drop_pct", sl.apply_liquidity_drop, {"drop_pct": 1.0}, "(0, 1)"),
        ("spread_elasticity", sl.apply_liquidity_drop, {"spread_elasticity": -1.0}, ">= 0"),
        ("spread_mult", sl.apply_spread_explosion, {"spread_mult": -10.0}, "> 0"),
        ("corruption_pct", sl.apply_data_corruption, {"corruption_pct": 1.2}, "[0, 1]"),
        ("corruption_pct", sl.apply_data_corruption, {"corruption_pct": -0.1}, "[0, 1]"),
        ("corruption_types", sl.apply_data_corruption, {"corruption_types": ["nan", "meteor"]}, "meteor"),
        ("target_correlation", sl.apply_correlation_breakdown, {"target_correlation": 1.5}, "[-1, 1]"),
        ("target_correlation", sl.apply_correlation_breakdown, {"target_correlation": -0.9}, "-1/(k-1)"),
        ("mode", sl.apply_correlation_breakdown, {"mode": "scramble"}, "decorrelate"),
        ("duration_bars", sl.apply_correlation_breakdown, {"duration_bars": 3}, "more than 3"),
        ("pump_pct", sl.apply_pump_and_dump, {"pump_pct": 0.0}, "(0, 10]"),
        ("dump_pct", sl.apply_pump_and_dump, {"dump_pct": 1.0}, "(0, 1)"),
        ("pump_bars", sl.apply_pump_and_dump, {"pump_bars": 95}, "only 100"),
        ("symbols", sl.apply_spread_explosion, {"symbols": ["XRPUSDT"]}, "not in the data"),
        ("seed", sl.apply_spread_explosion, {"seed": -1}, "2**64"),
    ],
)
def test_out_of_range_parameters_name_the_field(field, fn, kw, match):
    raises(field, fn, DF, match=match, **kw)


def test_correlation_needs_two_symbols():
    raises("symbols", sl.apply_correlation_breakdown, DF, symbols=["AAA"], match="at least 2")


def test_mixed_errors_use_the_seed_names():
    def run(params):
        sc = sl.Scenario("m", "MIXED_CUSTOM", params, symbols=["AAA", "BBB", "CCC"])
        return sl.ScenarioTransformer().apply(DF, sc)

    raises("flash_crash_drop_pct", run, {"flash_crash_drop_pct": 1.5}, match="0.015")
    raises("spread_duration_bars", run, {"spread_mult": 3.0, "spread_duration_bars": 500}, match="only 100")
    raises("correlation_target", run, {"correlation_target": -0.8}, match="valid correlation")
    raises("volatility_at", run, {"volatility_multiplier": 2.0, "volatility_at": 99}, match="past the end")
    raises("corruption_types", run, {"corruption_pct": 0.1, "corruption_types": ["bogus"]})


def test_bad_frames_are_data_errors():
    with pytest.raises(sl.DataError, match="missing column"):
        sl.apply_spread_explosion(DF.drop("close"))
    with pytest.raises(sl.DataError, match="polars DataFrame"):
        sl.apply_spread_explosion(DF.to_dicts())
    with pytest.raises(sl.DataError, match="timestamp"):
        sl.apply_spread_explosion(DF.with_columns(pl.col("timestamp").cast(pl.String)))
    bad = DF.with_columns(pl.when(pl.int_range(pl.len()) == 40).then(-1.0).otherwise(pl.col("low")).alias("low"))
    with pytest.raises(sl.DataError, match="bar 40"):
        sl.apply_flash_crash(bad, at=35, symbols=["AAA"])
    # volume and spread stresses do not need clean prices
    out = sl.apply_spread_explosion(bad, at=35, symbols=["AAA"])
    assert out.height == bad.height


def test_function_defaults_match_the_scenario_specs():
    """The per-transform functions document the same defaults as PARAMETER_SPECS."""
    pairs = {
        sl.apply_flash_crash: sl.ScenarioType.FLASH_CRASH,
        sl.apply_volatility_spike: sl.ScenarioType.VOLATILITY_SPIKE,
        sl.apply_liquidity_drop: sl.ScenarioType.LIQUIDITY_DROP,
        sl.apply_spread_explosion: sl.ScenarioType.SPREAD_EXPLOSION,
        sl.apply_correlation_breakdown: sl.ScenarioType.CORRELATION_BREAKDOWN,
        sl.apply_pump_and_dump: sl.ScenarioType.PUMP_AND_DUMP,
        sl.apply_data_corruption: sl.ScenarioType.DATA_CORRUPTION,
    }
    for fn, stype in pairs.items():
        specs = sl.PARAMETER_SPECS[stype]
        for name, p in inspect.signature(fn).parameters.items():
            if name in specs and name not in ("symbols", "at", "corruption_types"):
                assert p.default == specs[name].default, (fn.__name__, name)
