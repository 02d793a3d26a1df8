"""Scenario model: validation errors name the field, files round-trip, defaults resolve."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import stresslab as sl
from stresslab import InvalidParameterError, Scenario, ScenarioType, ScenarioValidationError


def test_all_nine_types_exist():
    names = {t.name for t in ScenarioType}
    assert names == {
        "HISTORIC_REPLAY",
        "FLASH_CRASH",
        "VOLATILITY_SPIKE",
        "LIQUIDITY_DROP",
        "SPREAD_EXPLOSION",
        "DATA_CORRUPTION",
        "CORRELATION_BREAKDOWN",
        "PUMP_AND_DUMP",
        "MIXED_CUSTOM",
    }
    assert set(sl.PARAMETER_SPECS) == set(ScenarioType)


def test_seed_style_construction_and_defaults():
    s = Scenario("crash", ScenarioType.FLASH_CRASH, {"drop_pct": 0.3})
    assert s.symbols == ["BTCUSDT"] and s.seed == 42 and s.interval == "1h"
    assert s.bar_count == 8760
    r = s.resolved_parameters()
    assert r["drop_pct"] == 0.3 and r["duration_bars"] == 6  # given + default
    assert Scenario("x", "flash_crash").type is ScenarioType.FLASH_CRASH
    assert Scenario("x", "FLASH_CRASH").type is ScenarioType.FLASH_CRASH


def test_unknown_parameter_lists_allowed_names():
    with pytest.raises(ScenarioValidationError) as e:
        Scenario("c", ScenarioType.FLASH_CRASH, {"drop_percent": 0.2})
    msg = str(e.value)
    assert "drop_percent" in msg and "drop_pct" in msg and "duration_bars" in msg
    assert e.value.field == "drop_percent"


@pytest.mark.parametrize(
    "stype, params, field, fragment",
    [
        (ScenarioType.FLASH_CRASH, {"drop_pct": 1.0}, "drop_pct", "(0, 1)"),
        (ScenarioType.FLASH_CRASH, {"drop_pct": 0.0}, "drop_pct", "(0, 1)"),
        (ScenarioType.FLASH_CRASH, {"drop_pct": float("nan")}, "drop_pct", "(0, 1)"),
        (ScenarioType.FLASH_CRASH, {"drop_pct": 20}, "drop_pct", "0.2 for 20%"),
        (ScenarioType.FLASH_CRASH, {"duration_bars": 0}, "duration_bars", ">= 1"),
        (ScenarioType.FLASH_CRASH, {"duration_bars": 2.5}, "duration_bars", ">= 1"),
        (ScenarioType.VOLATILITY_SPIKE, {"multiplier": -2.0}, "multiplier", "> 0"),
        (ScenarioType.SPREAD_EXPLOSION, {"spread_mult": 0}, "spread_mult", "> 0"),
        (ScenarioType.DATA_CORRUPTION, {"corruption_pct": 1.5}, "corruption_pct", "[0, 1]"),
        (ScenarioType.DATA_CORRUPTION, {"corruption_types": ["nan", "bogus"]}, "corruption_types", "bogus"),
        (ScenarioType.CORRELATION_BREAKDOWN, {"target_correlation": 1.5}, "target_correlation", "[-1, 1]"),
        (ScenarioType.CORRELATION_BREAKDOWN, {"mode": "sideways"}, "mode", "decorrelate"),
        (ScenarioType.PUMP_AND_DUMP, {"pump_pct": 25}, "pump_pct", "(0, 10]"),
        (ScenarioType.FLASH_CRASH, {"at": -3}, "at", "bar index"),
        (ScenarioType.FLASH_CRASH, {"symbols": ["DOGEUSDT"]}, "symbols", "DOGEUSDT"),
    ],
)
def test_out_of_range_names_field_and_range(stype, params, field, fragment):
    with pytest.raises(ValueError) as e:  # ScenarioValidationError is a ValueError
        Scenario("s", stype, params)
    assert isinstance(e.value, ScenarioValidationError)
    assert e.value.field == field
    assert field in str(e.value) and fragment in str(e.value)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"symbols": "BTCUSDT"}, "symbols"),
        ({"symbols": 5}, "symbols"),
        ({"symbols": []}, "symbols"),
        ({"symbols": ["BTCUSDT", "BTCUSDT"]}, "symbols"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"interval": "1 fortnight"}, "interval"),
        ({"n_bars": 0}, "n_bars"),
        ({"start": "2021-05-20", "end": "2021-05-19"}, "start"),
        ({"start": "not a date"}, "start"),
        ({"initial_prices": {"BTCUSDT": -5.0}}, "initial_prices"),
        ({"initial_prices": {"ETHUSDT": 5.0}}, "initial_prices"),
        ({"market_model": "heston"}, "market_model"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_scenario_fields(kwargs, field):
    args = {"name": "s", "type": ScenarioType.MIXED_CUSTOM, **kwargs}
    with pytest.raises(ScenarioValidationError) as e:
        Scenario(**args)
    assert e.value.field == field and field in str(e.value)


def test_start_end_fix_bar_count():
    s = Scenario(
        "r",
        ScenarioType.MIXED_CUSTOM,
        start="2021-05-19T00:00:00Z",
        end="2021-05-20T00:00:00Z",
        interval="15m",
    )
    assert s.bar_count == 96
    assert s.start_time == datetime(2021, 5, 19, tzinfo=timezone.utc)


def _full_scenario() -> Scenario:
    return Scenario(
        name="btc crash",
        type=ScenarioType.MIXED_CUSTOM,
        parameters={
            "flash_crash_drop_pct": 0.3,
            "spread_mult": 8.0,
            "corruption_types": ["nan", "gap"],
            "corruption_pct": 0.01,
            "flash_crash_at": "2024-02-01T00:00:00Z",
        },
        symbols=["BTCUSDT", "ETHUSDT"],
        start="2024-01-01T00:00:00Z",
        seed=7,
        interval="4h",
        n_bars=500,
        initial_prices={"BTCUSDT": 42000.0},
        market_model="gbm",
        market_params={"BTCUSDT": {"sigma": 0.01}, "market": {"p_calm_to_stress": 0.001}},
        description="a test",
        tags=["crash", "nightly"],
    )


def test_json_round_trip():
    s = _full_scenario()
    back = Scenario.from_json(s.to_json())
    assert back == s and back.to_dict() == s.to_dict()
    assert json.loads(s.to_json())["type"] == "MIXED_CUSTOM"


@pytest.mark.parametrize("ext", ["json", "toml", "yaml"])
def test_suite_file_round_trip(tmp_path, ext):
    suite = [
        _full_scenario(),
        Scenario("calm", ScenarioType.MIXED_CUSTOM),
        Scenario("vol", ScenarioType.VOLATILITY_SPIKE, {"multiplier": 4.0, "at": 100}),
    ]
    path = tmp_path / f"suite.{ext}"
    sl.save_suite(suite, path)
    back = sl.load_suite(path)
    assert [s.to_dict() for s in back] == [s.to_dict() for s in suite]


def test_suite_typo_points_at_line_and_field(tmp_path):
    path = tmp_path / "suite.toml"
    path.write_text(
        '[[scenarios]]\nname = "a"\ntype = "FLASH_CRASH"\n\n[scenarios.parameters]\ndrop_pct = 0.2\n\n'
        '[[scenarios]]\nname = "b"\ntype = "FLASH_CRASH"\n\n[scenarios.parameters]\ndrop_pcct = 0.2\n'
    )
    with pytest.raises(ScenarioValidationError) as e:
        sl.load_suite(path)
    msg = str(e.value)
    assert "line 13" in msg and "drop_pcct" in msg and "'b'" in msg


@pytest.mark.parametrize("ext", ["toml", "yaml", "json"])
def test_suite_bad_value_in_second_scenario_points_at_its_line(tmp_path, ext):
    suite = [Scenario("a", "flash_crash", {"drop_pct": 0.2}), Scenario("b", "flash_crash", {"drop_pct": 0.3})]
    path = tmp_path / f"s.{ext}"
    sl.save_suite(suite, path)
    text = path.read_text()
    # corrupt the second scenario's drop_pct only
    idx = text.rindex("0.3")
    path.write_text(text[:idx] + "30" + text[idx + 3 :])
    bad_line = text[:idx].count("\n") + 1
    with pytest.raises(ScenarioValidationError) as e:
        sl.load_suite(path)
    assert f"line {bad_line}" in str(e.value) and "drop_pct" in str(e.value) and "'b'" in str(e.value)


def test_suite_duplicate_names_rejected(tmp_path):
    path = tmp_path / "s.json"
    sl.save_suite([Scenario("a", "mixed_custom"), Scenario("a", "flash_crash")], path)
    with pytest.raises(ScenarioValidationError, match="duplicate scenario name 'a'"):
        sl.load_suite(path)


def test_errors_are_value_errors_and_stresslab_errors():
    assert issubclass(ScenarioValidationError, ValueError)
    assert issubclass(InvalidParameterError, sl.StresslabError)
    assert issubclass(sl.InsufficientMemoryError, MemoryError)
