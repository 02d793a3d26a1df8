//! The plain GBM generation loop the synth bench measures as its speed reference (issue 3), like
//! the std-only generator of ../shared/bench/w1/sol: xoshiro256++ seeded by SplitMix64, Box-Muller
//! normals, one exp per bar. Shared by the bench and `examples/synth_profile.rs`.

/// The reference: the smallest useful GBM loop (one normal and one exp per bar, closes only).
pub fn reference_gbm_path(path: u64, out: &mut [f64]) {
    let mut s = splitmix_state(7 ^ path.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let vs = 0.8 * (1.0f64 / 8760.0).sqrt();
    let drift = -0.5 * vs * vs;
    let mut prev = 30_000.0;
    let mut spare: Option<f64> = None;
    for c in out.iter_mut() {
        let z = match spare.take() {
            Some(z) => z,
            None => {
                let u1 = uniform(&mut s);
                let u2 = uniform(&mut s);
                let r = (-2.0 * u1.ln()).sqrt();
                let (sn, cs) = (std::f64::consts::TAU * u2).sin_cos();
                spare = Some(r * sn);
                r * cs
            }
        };
        prev *= (drift + vs * z).exp();
        *c = prev;
    }
}

fn splitmix_state(mut x: u64) -> [u64; 4] {
    let mut s = [0; 4];
    for v in s.iter_mut() {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        *v = z ^ (z >> 31);
    }
    s
}

#[inline(always)]
fn uniform(s: &mut [u64; 4]) -> f64 {
    let r = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    ((r >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}
