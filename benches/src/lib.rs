//! Criterion benchmarks for stresslab live in `benches/benches/`.
