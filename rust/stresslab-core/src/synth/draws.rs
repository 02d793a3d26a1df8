//! One block's worth of a symbol's (or the market's) frequent draws (normals, exponentials and
//! uniforms, a fixed number of each per bar), made in bulk so that the generator, the uniforms and their transforms all vectorise:
//! [`StreamX4`] for the raw bits, Box-Muller for the normals, -ln U for the exponentials, with
//! the branch-free [`fastmath`] functions. Rare draws (jump times and sizes) stay on the scalar
//! [`crate::rng::Stream`].

use super::fastmath;
use crate::rng::{open01, unit01, StreamX4};

/// Bars per block.
pub(super) const BLOCK: usize = 256;

pub(super) struct BlockDraws {
    raw: Vec<u64>,
    /// Standard normals, BLOCK per kind (e.g. [innovation, volume noise, spread noise]).
    pub normal: Vec<f64>,
    /// Standard exponentials, BLOCK per kind.
    pub exp1: Vec<f64>,
    /// Uniforms in (0, 1), BLOCK per kind.
    pub uniform: Vec<f64>,
}

impl BlockDraws {
    /// Room for `normals`, `exps` and `uniforms` draws of each kind per bar.
    pub fn new(normals: usize, exps: usize, uniforms: usize) -> Self {
        let len = |k: usize| k * BLOCK;
        Self {
            raw: vec![0; len(normals + exps + uniforms)],
            normal: vec![0.0; len(normals)],
            exp1: vec![0.0; len(exps)],
            uniform: vec![0.0; len(uniforms)],
        }
    }

    /// Draw the next block (always a full block, so the streams advance the same way whatever
    /// the path length).
    pub fn fill(&mut self, rng: &mut StreamX4, simd: Simd) {
        match simd {
            // SAFETY: `Simd::detect` returns these levels only when the running CPU has them.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { fill_avx512(self, rng) },
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { fill_avx2(self, rng) },
            _ => fill_body(self, rng),
        }
    }
}

/// Which vector instructions the block passes are compiled for. The passes are branch-free IEEE
/// arithmetic without FMA, so every level performs the same operations lane by lane and gives
/// bit-identical results; only the number of lanes (2, 4 or 8 f64) differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Simd {
    Baseline,
    Avx2,
    Avx512,
}

impl Simd {
    /// The widest level the running CPU supports (std caches the CPUID answers).
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx2") {
                return Simd::Avx512;
            }
            if has!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    }

    /// Every level the running CPU supports, narrowest first (for tests).
    #[cfg(test)]
    pub fn available() -> Vec<Self> {
        let best = Self::detect();
        [Simd::Baseline, Simd::Avx2, Simd::Avx512].into_iter().filter(|s| *s as u8 <= best as u8).collect()
    }
}

/// Define `$name_avx2` and `$name_avx512`: `$body(args)` compiled with those target features.
macro_rules! simd_variants {
    ($avx2:ident, $avx512:ident, $body:path, ($($arg:ident: $ty:ty),*)) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2($($arg: $ty),*) {
            $body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,avx512f,avx512dq,avx512vl")]
        unsafe fn $avx512($($arg: $ty),*) {
            $body($($arg),*)
        }
    };
}
pub(super) use simd_variants;

#[inline(always)]
fn fill_body(d: &mut BlockDraws, rng: &mut StreamX4) {
    rng.fill(&mut d.raw);
    let n_normal = d.normal.len();
    let (raw_normal, rest) = d.raw.split_at(n_normal);
    let (raw_exp, raw_uniform) = rest.split_at(d.exp1.len());
    // Box-Muller: (u1, u2) -> sqrt(-2 ln u1) (cos, sin)(2 pi u2); the pairs are split between the
    // two halves of the buffer so that both loops are plain element-wise loops.
    let (u1s, u2s) = raw_normal.split_at(n_normal / 2);
    let (cos_half, sin_half) = d.normal.split_at_mut(n_normal / 2);
    for (((a, b), u1), u2) in cos_half.iter_mut().zip(sin_half.iter_mut()).zip(u1s).zip(u2s) {
        let radius = (-2.0 * fastmath::ln(open01(*u1))).sqrt();
        let (s, c) = fastmath::sincos_2pi(unit01(*u2));
        *a = radius * c;
        *b = radius * s;
    }
    for (e, u) in d.exp1.iter_mut().zip(raw_exp) {
        *e = -fastmath::ln(open01(*u));
    }
    for (e, u) in d.uniform.iter_mut().zip(raw_uniform) {
        *e = open01(*u);
    }
}

simd_variants!(fill_avx2, fill_avx512, fill_body, (d: &mut BlockDraws, rng: &mut StreamX4));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    #[test]
    fn draws_have_the_right_distributions_and_match_across_code_paths() {
        let mut a = StreamX4::from_stream(&mut Stream::from_u64(5));
        let mut b = a.clone();
        let (mut da, mut db) = (BlockDraws::new(3, 2, 1), BlockDraws::new(3, 2, 1));
        let (mut normals, mut exps, mut unis) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..400 {
            db.fill(&mut b, Simd::Baseline);
            // every SIMD level gives the baseline's draws bit for bit
            for simd in Simd::available() {
                let mut a2 = a.clone();
                da.fill(&mut a2, simd);
                assert_eq!((&da.normal, &da.exp1, &da.uniform), (&db.normal, &db.exp1, &db.uniform), "{simd:?}");
            }
            da.fill(&mut a, Simd::detect());
            normals.extend_from_slice(&da.normal);
            exps.extend_from_slice(&da.exp1);
            unis.extend_from_slice(&da.uniform);
        }
        let moments = |x: &[f64]| {
            let n = x.len() as f64;
            let m = x.iter().sum::<f64>() / n;
            let v = x.iter().map(|y| (y - m).powi(2)).sum::<f64>() / n;
            let k = x.iter().map(|y| (y - m).powi(4)).sum::<f64>() / n / (v * v);
            (m, v, k)
        };
        let (m, v, k) = moments(&normals); // 307,200 normals
        assert!(m.abs() < 0.01 && (v - 1.0).abs() < 0.01 && (k - 3.0).abs() < 0.05, "{m} {v} {k}");
        // tail frequency: P(|Z| > 3) = 0.0026998
        let tail = normals.iter().filter(|z| z.abs() > 3.0).count() as f64 / normals.len() as f64;
        assert!((tail / 0.0027 - 1.0).abs() < 0.08, "{tail}");
        // the two halves of a Box-Muller pair are uncorrelated
        let pairs: Vec<(f64, f64)> = normals
            .chunks_exact(3 * BLOCK)
            .flat_map(|blk| blk[..3 * BLOCK / 2].iter().copied().zip(blk[3 * BLOCK / 2..].iter().copied()))
            .collect();
        let corr = pairs.iter().map(|(x, y)| x * y).sum::<f64>() / pairs.len() as f64;
        assert!(corr.abs() < 0.01, "{corr}");
        let (m, v, _) = moments(&exps);
        assert!((m - 1.0).abs() < 0.01 && (v - 1.0).abs() < 0.02, "{m} {v}");
        assert!(exps.iter().all(|e| *e > 0.0 && e.is_finite()));
        let (m, v, _) = moments(&unis);
        assert!((m - 0.5).abs() < 0.003 && (v - 1.0 / 12.0).abs() < 0.002, "{m} {v}");
        assert!(unis.iter().all(|u| *u > 0.0 && *u < 1.0));
    }
}
