//! Generates realistic 1-symbol paths: a target for `valgrind --tool=callgrind`.
use stresslab_core::synth::{MarketParams, MarketSpec, Model, SymbolProfile};

fn main() {
    let model = if std::env::args().any(|a| a == "gbm") { Model::Gbm } else { Model::Realistic };
    let spec = MarketSpec::new(
        model,
        vec![SymbolProfile::btc()],
        8760,
        0,
        3_600_000,
        1,
        2,
        MarketParams::default(),
        None,
        None,
    )
    .expect("spec");
    let p = spec.generate(4).expect("gen");
    println!("{}", p.close.iter().sum::<f64>());
}
