//! Generates 1-symbol paths: a target for `valgrind --tool=callgrind` or `perf`.
//!
//! `synth_profile [realistic|gbm|reference] [n_paths]`: the realistic model (default), the GBM
//! option, or the bench's reference loop (a copy of `reference_gbm_path` in benches/synth.rs), so that the
//! instructions per bar of the models can be compared with the reference's.
//!
//! `synth_profile time`: a quick single-thread timing on a busy machine: the best of 15
//! interleaved rounds of the reference, the GBM and the realistic model (64 paths into reused
//! buffers each), as bars per second and as ratios to the reference. The criterion bench
//! (benches/synth.rs) is the measurement of record.
use stresslab_benches::gbm::reference_gbm_path;
use stresslab_core::synth::{MarketParams, MarketSpec, Model, SymbolProfile};

const N_BARS: usize = 8760;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "realistic".into());
    let n_paths: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(4);
    if mode == "time" {
        time_models();
        return;
    }
    if mode == "reference" {
        let mut buf = vec![0.0; N_BARS];
        let mut total = 0.0;
        for p in 0..n_paths {
            reference_gbm_path(p as u64, &mut buf);
            total += buf.iter().sum::<f64>();
        }
        println!("{total}");
        return;
    }
    let model = if mode == "gbm" { Model::Gbm } else { Model::Realistic };
    let spec = MarketSpec::new(
        model,
        vec![SymbolProfile::btc()],
        N_BARS,
        0,
        3_600_000,
        1,
        2,
        MarketParams::default(),
        None,
        None,
    )
    .expect("spec");
    let p = spec.generate(n_paths).expect("gen");
    println!("{}", p.close.iter().sum::<f64>());
}

fn time_models() {
    use std::time::Instant;
    use stresslab_core::synth::PathView;
    let n_paths = 64;
    let specs: Vec<MarketSpec> = [Model::Gbm, Model::Realistic]
        .into_iter()
        .map(|m| {
            let profile = vec![SymbolProfile::btc()];
            MarketSpec::new(m, profile, N_BARS, 0, 3_600_000, 1, 2, MarketParams::default(), None, None).expect("spec")
        })
        .collect();
    let mut bufs = vec![0.0; 6 * N_BARS];
    let mut best = [f64::INFINITY; 3];
    for _ in 0..15 {
        let t = Instant::now();
        for p in 0..n_paths {
            reference_gbm_path(p as u64, &mut bufs[..N_BARS]);
        }
        best[0] = best[0].min(t.elapsed().as_secs_f64());
        for (k, spec) in specs.iter().enumerate() {
            let t = Instant::now();
            for p in 0..n_paths {
                let (open, rest) = bufs.split_at_mut(N_BARS);
                let (high, rest) = rest.split_at_mut(N_BARS);
                let (low, rest) = rest.split_at_mut(N_BARS);
                let (close, rest) = rest.split_at_mut(N_BARS);
                let (volume, spread) = rest.split_at_mut(N_BARS);
                spec.generate_path(p as u64, &mut PathView { open, high, low, close, volume, spread });
            }
            best[k + 1] = best[k + 1].min(t.elapsed().as_secs_f64());
        }
    }
    let bars = (n_paths * N_BARS) as f64;
    for (name, secs) in ["reference", "gbm", "realistic"].iter().zip(best) {
        println!("{name:>10}: {:6.1} M bars/s, ratio {:.3}", bars / secs / 1e6, best[0] / secs);
    }
}
