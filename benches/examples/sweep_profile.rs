//! Runs the sweep bench's pipeline (`--risk`: with the default native risk stack) on a few paths:
//! a target for `valgrind --tool=callgrind`.
use stresslab_benches::stacks::default_stack;
use stresslab_benches::sweep::sweep_spec;
use stresslab_core::strategy::SmaCross;
use stresslab_core::sweep::{run_paths, SweepSpec};

fn main() {
    let risk = std::env::args().any(|a| a == "--risk").then(default_stack);
    let spec = SweepSpec { risk, ..sweep_spec(8760) };
    let sma = SmaCross::new(24, 96, 1, None, false).expect("sma");
    let rows = run_paths(&spec, &sma, 0, 4, &[]).expect("sweep");
    println!("{}", rows.len());
}
