//! Stress-transform throughput (rows per second; criterion's "elements" are rows = bars x symbols
//! x paths) for each transform and the full MIXED_CUSTOM chain on a realistic synthetic market,
//! next to generating the same market (the bar: transforms must cost less than generation)
//! and a plain copy of its columns (the floor every binding call pays), all in the same run, on 1
//! and 2 threads.
//!
//! Two routes per case: `<name>` works on a fresh copy of the columns (copy excluded: criterion's
//! batched setup), applies the steps in place and assembles the output rows (`finalize`);
//! `<name>_single_pass` is what the Python binding runs (`StressRun::apply_single_pass`): it reads
//! the borrowed input columns and writes each output column once, so it includes the one copy
//! that the first route leaves out (compare it with `reference_copy_columns`).
//!
//! Run: `cargo bench -p stresslab-benches --bench stress`

use std::collections::HashMap;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use stresslab_core::rng::scenario_key;
use stresslab_core::stress::plan::finalize;
use stresslab_core::stress::{Columns, Layout, Position, Source, Sources, Step, StressRun};
use stresslab_core::synth::{MarketParams, MarketSpec, Model, SymbolProfile};

const N_PATHS: usize = 16;
const N_BARS: usize = 8760;
const SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

fn spec() -> MarketSpec {
    let profs = SYMBOLS.iter().map(|s| SymbolProfile::for_symbol(s)).collect();
    MarketSpec::new(
        Model::Realistic,
        profs,
        N_BARS,
        0,
        3_600_000,
        42,
        scenario_key("bench"),
        MarketParams::default(),
        None,
        None,
    )
    .expect("valid spec")
}

/// The generated market as long-table columns plus its layout.
fn market(spec: &MarketSpec) -> (Columns, Vec<i64>, Layout) {
    let m = spec.generate(N_PATHS).expect("generate");
    let rows = m.close.len();
    let mut path = Vec::with_capacity(rows);
    let mut symbol = Vec::with_capacity(rows);
    let mut timestamp = Vec::with_capacity(rows);
    for p in 0..N_PATHS {
        for s in 0..SYMBOLS.len() {
            for t in 0..N_BARS {
                path.push(p as u32);
                symbol.push(s as u32);
                timestamp.push(spec.timestamp(t));
            }
        }
    }
    let layout = Layout::from_rows(&path, &symbol, &timestamp).expect("sorted");
    let cols = Columns {
        open: m.open,
        high: m.high,
        low: m.low,
        close: m.close,
        volume: m.volume,
        spread: m.spread,
        flags: vec![0; rows],
    };
    (cols, timestamp, layout)
}

fn step(name: &str, params: &[(&str, f64)], choices: &[&str]) -> Step {
    let params: HashMap<String, f64> = params.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let choices: Vec<String> = choices.iter().map(|s| s.to_string()).collect();
    Step::from_params(name, &params, &choices, None, Position::Random, vec![]).expect("valid step")
}

/// The seven transforms with the scenario defaults (data corruption at 1%, all kinds).
fn steps() -> Vec<(&'static str, Step)> {
    let all = ["nan", "spike", "duplicate", "gap", "stale", "out_of_order", "zero_volume", "negative"];
    vec![
        ("correlation_breakdown", step("correlation_breakdown", &[("duration_bars", 72.0)], &["decorrelate"])),
        ("volatility_spike", step("volatility_spike", &[("multiplier", 3.0), ("duration_bars", 48.0)], &[])),
        (
            "flash_crash",
            step(
                "flash_crash",
                &[
                    ("drop_pct", 0.2),
                    ("duration_bars", 6.0),
                    ("recovery_bars", 24.0),
                    ("recovery_pct", 0.5),
                    ("volume_mult", 8.0),
                    ("spread_mult", 5.0),
                ],
                &[],
            ),
        ),
        (
            "pump_and_dump",
            step(
                "pump_and_dump",
                &[("pump_pct", 0.5), ("pump_bars", 12.0), ("dump_pct", 0.6), ("dump_bars", 6.0), ("volume_mult", 10.0)],
                &[],
            ),
        ),
        (
            "liquidity_drop",
            step("liquidity_drop", &[("drop_pct", 0.7), ("duration_bars", 24.0), ("spread_elasticity", 0.5)], &[]),
        ),
        ("spread_explosion", step("spread_explosion", &[("spread_mult", 10.0), ("duration_bars", 12.0)], &[])),
        ("data_corruption", step("data_corruption", &[("corruption_pct", 0.01)], &all)),
    ]
}

/// The columns as the single pass borrows them.
fn sources(c: &Columns) -> Sources<'_> {
    Sources {
        values: [&c.open, &c.high, &c.low, &c.close, &c.volume, &c.spread].map(|v| Source::Values(v)),
        flags: Some(&c.flags),
        // as the binding does for a timestamp column in ms: moved timestamps written by the pass
        carry_timestamps: true,
    }
}

fn bench_stress(c: &mut Criterion) {
    let spec = spec();
    let (cols, ts, layout) = market(&spec);
    let rows = cols.len() as u64;
    let key = scenario_key("bench");
    let mut g = c.benchmark_group("stress");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        g.bench_with_input(BenchmarkId::new("reference_generate_market", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| spec.generate(N_PATHS).expect("generate")))
        });
        g.bench_with_input(BenchmarkId::new("reference_copy_columns", threads), &threads, |b, _| {
            b.iter(|| cols.clone())
        });
        let mut all = Vec::new();
        for (name, s) in steps() {
            all.push(s.clone());
            let run = StressRun::new(vec![s], 7, key);
            g.bench_with_input(BenchmarkId::new(format!("{name}_single_pass"), threads), &threads, |b, _| {
                b.iter(|| pool.install(|| run.apply_single_pass(&sources(&cols), &ts, &layout).expect("apply")))
            });
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, _| {
                b.iter_batched(
                    || cols.clone(),
                    |mut c| {
                        pool.install(|| {
                            let events = run.apply(&mut c, &ts, &layout).expect("apply");
                            finalize(c, events)
                        })
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        let chain = StressRun::mixed(all, 7, key);
        g.bench_with_input(BenchmarkId::new("mixed_custom_chain_single_pass", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| chain.apply_single_pass(&sources(&cols), &ts, &layout).expect("apply")))
        });
        g.bench_with_input(BenchmarkId::new("mixed_custom_chain", threads), &threads, |b, _| {
            b.iter_batched(
                || cols.clone(),
                |mut c| {
                    pool.install(|| {
                        let events = chain.apply(&mut c, &ts, &layout).expect("apply");
                        finalize(c, events)
                    })
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench_stress);
criterion_main!(benches);
