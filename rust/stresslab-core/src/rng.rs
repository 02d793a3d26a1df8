//! Deterministic random streams.
//!
//! # The scheme
//! Every random draw in stresslab comes from a [`Stream`] (xoshiro256++) whose 256-bit state is
//! derived by hashing the tuple
//!
//! ```text
//!     (domain, seed, scenario_key, path, symbol)
//! ```
//!
//! with a SplitMix64 chain ([`stream_state`]). `domain` separates the consumers (synthetic market,
//! stress transforms, exchange simulator, ...), `scenario_key` is [`scenario_key`] of the scenario
//! name (FNV-1a, stable across platforms and runs), `path` is the Monte Carlo path index and
//! `symbol` the symbol's index in the scenario (or [`MARKET`] for draws shared by all symbols,
//! such as the regime and the common fat-tail mixing variable).
//!
//! Because a stream depends only on that tuple and never on which thread runs it or on what ran
//! before, results are bit-identical on 1 or N threads and in any order, and any single path can
//! be regenerated alone. Streams are never shared between threads. Bulk draws use a
//! [`StreamX4`] (four xoshiro256++ lanes for SIMD) seeded from such a stream, so they are keyed by
//! the same tuple.
//!
//! xoshiro256++ is used rather than `StdRng` because its output is fixed by its specification
//! (value-stable across crate versions) and it is fast (about 1 ns per `u64`).

use core::convert::Infallible;
use rand_core::TryRng;

/// Symbol index used for draws shared by every symbol of a path (regime, common shocks).
pub const MARKET: u64 = u64::MAX;

/// Consumers of randomness; each gets independent streams for the same (seed, scenario, path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Domain {
    Market = 1,
    Stress = 2,
    Exchange = 3,
    Strategy = 4,
    Bootstrap = 5,
}

/// SplitMix64 step: the standard seeding hash for xoshiro generators.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a 64-bit hash of a scenario name: the scenario's identity in the stream derivation.
pub fn scenario_key(name: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Hash (domain, seed, scenario, path, symbol) into a xoshiro256++ state.
///
/// Each component is absorbed by xoring it into the SplitMix64 state and stepping, so that
/// swapping two components gives a different stream.
pub fn stream_state(domain: Domain, seed: u64, scenario: u64, path: u64, symbol: u64) -> [u64; 4] {
    // Each component goes through the full SplitMix64 output mix before the next is absorbed, so
    // the state is a non-linear function of every component: no two tuples that differ in any
    // component collide (short of a 64-bit hash collision). Absorbing by xor and advancing the
    // SplitMix64 counter alone would be linear, and e.g. (seed 1, path 0) could equal (seed 0, path 1).
    let mut st: u64 = 0x5354_5245_5353_4C42; // "STRESSLB"
    for part in [domain as u64, seed, scenario, path, symbol] {
        let mut x = st ^ part;
        st = splitmix64(&mut x);
    }
    let mut s = [0u64; 4];
    for x in s.iter_mut() {
        *x = splitmix64(&mut st);
    }
    if s == [0; 4] {
        s[0] = 1; // the all-zero state is the one fixed point of xoshiro
    }
    s
}

/// xoshiro256++ random stream. Implements `rand_core::TryRng` (hence `rand::Rng`) so the
/// `rand_distr` distributions can sample from it.
#[derive(Clone, Debug)]
pub struct Stream {
    s: [u64; 4],
}

impl Stream {
    /// The stream for (domain, seed, scenario, path, symbol); see the module docs.
    pub fn new(domain: Domain, seed: u64, scenario: u64, path: u64, symbol: u64) -> Self {
        Self { s: stream_state(domain, seed, scenario, path, symbol) }
    }

    /// A stream from a raw 64-bit seed (tests and references).
    pub fn from_u64(seed: u64) -> Self {
        let mut st = seed;
        let mut s = [0u64; 4];
        for x in s.iter_mut() {
            *x = splitmix64(&mut st);
        }
        Self { s }
    }

    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[0].wrapping_add(self.s[3]).rotate_left(23).wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in the open interval (0, 1): safe to take the logarithm of.
    #[inline(always)]
    pub fn uniform_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, 1).
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (ziggurat, via rand_distr).
    #[inline(always)]
    pub fn normal(&mut self) -> f64 {
        use rand_distr::Distribution;
        rand_distr::StandardNormal.sample(self)
    }

    /// Standard exponential Exp(1) (ziggurat, via rand_distr): `-ln U` without the logarithm.
    #[inline(always)]
    pub fn exp1(&mut self) -> f64 {
        use rand_distr::Distribution;
        rand_distr::Exp1.sample(self)
    }

    /// Uniform integer in [0, n) (n > 0), by Lemire's multiply-shift (bias < 2^-64 * n).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Number of Bernoulli(p) failures before the next success: geometric waiting time.
    ///
    /// Rare events (regime switches, jumps) are scheduled by waiting times instead of one
    /// uniform per bar, which is the same process at a fraction of the draws.
    #[inline]
    pub fn geometric(&mut self, p: f64) -> u64 {
        if p <= 0.0 {
            return u64::MAX;
        }
        if p >= 1.0 {
            return 0;
        }
        let k = self.uniform_open().ln() / (-p).ln_1p();
        if k >= u64::MAX as f64 {
            u64::MAX
        } else {
            k as u64
        }
    }
}

impl TryRng for Stream {
    type Error = Infallible;

    #[inline(always)]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    #[inline(always)]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

/// Four xoshiro256++ generators stepped in lock-step, to fill buffers of raw 64-bit draws with
/// SIMD (about a quarter of the instructions per draw of a single [`Stream`]).
///
/// Seeded from a [`Stream`] (so still keyed by (domain, seed, scenario, path, symbol)): lane j's
/// state is the SplitMix64 expansion of the parent's j-th output, the standard way of seeding
/// xoshiro from 64 bits. The parent stream can go on being used for other draws.
#[derive(Clone, Debug)]
pub struct StreamX4 {
    /// `s[k][lane]`: state word k of each lane (structure of arrays, so the step vectorises).
    s: [[u64; 4]; 4],
}

impl StreamX4 {
    pub fn from_stream(parent: &mut Stream) -> Self {
        let mut s = [[0u64; 4]; 4];
        for lane in 0..4 {
            let mut st = parent.next_u64();
            for word in s.iter_mut() {
                word[lane] = splitmix64(&mut st);
            }
            if s.iter().all(|w| w[lane] == 0) {
                s[0][lane] = 1; // the all-zero state is the one fixed point of xoshiro
            }
        }
        Self { s }
    }

    /// Fill `out` (its length rounded down to a multiple of 4) with lane outputs interleaved:
    /// `out[4 i + j]` is lane j's i-th output. Uses AVX2 when the CPU has it (integer operations:
    /// the same values either way).
    pub fn fill(&mut self, out: &mut [u64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU reports AVX2.
            unsafe { self.fill_avx2(out) };
            return;
        }
        self.fill_scalar(out);
    }

    fn fill_scalar(&mut self, out: &mut [u64]) {
        let mut lanes = self.lanes();
        for chunk in out.chunks_exact_mut(4) {
            for (o, lane) in chunk.iter_mut().zip(lanes.iter_mut()) {
                *o = lane.next_u64();
            }
        }
        for (l, lane) in lanes.iter().enumerate() {
            for (k, word) in self.s.iter_mut().enumerate() {
                word[l] = lane.s[k];
            }
        }
    }

    /// The four lanes as scalar streams.
    fn lanes(&self) -> [Stream; 4] {
        std::array::from_fn(|l| Stream { s: [self.s[0][l], self.s[1][l], self.s[2][l], self.s[3][l]] })
    }

    /// xoshiro256++ on four 64-bit lanes of a 256-bit register (AVX2 has no 64-bit rotate: shifts).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fill_avx2(&mut self, out: &mut [u64]) {
        use std::arch::x86_64::*;
        #[inline(always)]
        unsafe fn rotl<const L: i32, const R: i32>(x: __m256i) -> __m256i {
            _mm256_or_si256(_mm256_slli_epi64::<L>(x), _mm256_srli_epi64::<R>(x))
        }
        let load = |w: &[u64; 4]| _mm256_loadu_si256(w.as_ptr().cast());
        let (mut s0, mut s1, mut s2, mut s3) = (load(&self.s[0]), load(&self.s[1]), load(&self.s[2]), load(&self.s[3]));
        for chunk in out.chunks_exact_mut(4) {
            let result = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0, s3)), s0);
            _mm256_storeu_si256(chunk.as_mut_ptr().cast(), result);
            let t = _mm256_slli_epi64::<17>(s1);
            s2 = _mm256_xor_si256(s2, s0);
            s3 = _mm256_xor_si256(s3, s1);
            s1 = _mm256_xor_si256(s1, s2);
            s0 = _mm256_xor_si256(s0, s3);
            s2 = _mm256_xor_si256(s2, t);
            s3 = rotl::<45, 19>(s3);
        }
        for (w, v) in self.s.iter_mut().zip([s0, s1, s2, s3]) {
            _mm256_storeu_si256(w.as_mut_ptr().cast(), v);
        }
    }
}

/// Uniform in the open interval (0, 1) from 52 random bits: 2^-53 ... 1 - 2^-53, branch-free and
/// without an integer-to-float conversion (which has no packed 64-bit form before AVX-512).
#[inline(always)]
pub fn open01(bits: u64) -> f64 {
    f64::from_bits((bits >> 12) | 0x3FF0_0000_0000_0000) - (1.0 - f64::EPSILON / 2.0)
}

/// Uniform in [0, 1) from 52 random bits (see [`open01`]).
#[inline(always)]
pub fn unit01(bits: u64) -> f64 {
    f64::from_bits((bits >> 12) | 0x3FF0_0000_0000_0000) - 1.0
}

/// Chi-square(nu) draw (nu > 0): 2 Gamma(nu/2), by Marsaglia and Tsang's method ("A simple
/// method for generating gamma variables", ACM TOMS 26(3), 2000).
///
/// Written out here rather than taken from `rand_distr::Gamma`, which is not inlined and costs
/// about twice as many instructions per draw (the generator takes one draw per bar). Same method:
/// d = a - 1/3, c = 1/sqrt(9d); draw x ~ N(0,1), v = (1 + c x)^3 > 0, accept d v with the squeeze
/// u < 1 - 0.0331 x^4 (about 98% of draws for a = 3) or the exact test
/// ln u < x^2/2 + d (1 - v + ln v). Shapes below 1 use Gamma(a) = Gamma(a + 1) U^(1/a).
#[derive(Clone, Debug)]
pub struct ChiSquared {
    d: f64,
    c: f64,
    /// 1/a for shapes a < 1 (the U^(1/a) boost), 0 otherwise.
    inv_shape: f64,
}

impl ChiSquared {
    pub fn new(nu: f64) -> Option<Self> {
        if !(nu > 0.0 && nu.is_finite()) {
            return None;
        }
        let a = 0.5 * nu;
        let (shape, inv_shape) = if a < 1.0 { (a + 1.0, 1.0 / a) } else { (a, 0.0) };
        let d = shape - 1.0 / 3.0;
        Some(Self { d, c: 1.0 / (9.0 * d).sqrt(), inv_shape })
    }

    #[inline(always)]
    pub fn sample(&self, rng: &mut Stream) -> f64 {
        let (x, u) = (rng.normal(), rng.uniform_open());
        self.sample_from(x, u, rng)
    }

    /// The draw from the first attempt (normal `x`, uniform `u` in (0, 1)) when the cheap squeeze
    /// accepts it, NaN otherwise (then [`Self::sample_from`] with the same `x`, `u` completes the
    /// draw). Branch-free, so that a block of first attempts vectorises; where it is not NaN it
    /// equals `sample_from(x, u, _)` bit for bit.
    #[inline(always)]
    pub fn squeeze_first(&self, x: f64, u: f64) -> f64 {
        let v = 1.0 + self.c * x;
        let v3 = v * v * v;
        let x2 = x * x;
        let accept = v > 0.0 && u < 1.0 - 0.0331 * x2 * x2 && self.inv_shape == 0.0;
        if accept {
            2.0 * (self.d * v3)
        } else {
            f64::NAN
        }
    }

    /// A draw whose first attempt uses the given standard normal `x` and uniform `u` in (0, 1)
    /// (drawn in bulk by the caller); the rare further attempts draw from `rng`.
    #[inline(always)]
    pub fn sample_from(&self, mut x: f64, mut u: f64, rng: &mut Stream) -> f64 {
        let g = loop {
            let v = 1.0 + self.c * x;
            if v > 0.0 {
                let v = v * v * v;
                let x2 = x * x;
                if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + self.d * (1.0 - v + v.ln()) {
                    break self.d * v;
                }
            }
            x = rng.normal();
            u = rng.uniform_open();
        };
        if self.inv_shape > 0.0 {
            2.0 * g * rng.uniform_open().powf(self.inv_shape)
        } else {
            2.0 * g
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference_values() {
        // Reference output of xoshiro256++ for state [1, 2, 3, 4] (from the authors' C code).
        let mut r = Stream { s: [1, 2, 3, 4] };
        let expect = [41943041u64, 58720359, 3588806011781223, 3591011842654386];
        for e in expect {
            assert_eq!(r.next_u64(), e);
        }
    }

    #[test]
    fn streams_differ_by_every_component() {
        let base = stream_state(Domain::Market, 1, 2, 3, 4);
        assert_ne!(base, stream_state(Domain::Stress, 1, 2, 3, 4));
        assert_ne!(base, stream_state(Domain::Market, 2, 2, 3, 4));
        assert_ne!(base, stream_state(Domain::Market, 1, 3, 3, 4));
        assert_ne!(base, stream_state(Domain::Market, 1, 2, 4, 4));
        assert_ne!(base, stream_state(Domain::Market, 1, 2, 3, 5));
        // swapping path and symbol must not collide
        assert_ne!(stream_state(Domain::Market, 1, 2, 3, 4), stream_state(Domain::Market, 1, 2, 4, 3));
        // nor shifting a unit between neighbouring components (a linear absorption would)
        let mut seen = std::collections::HashSet::new();
        for seed in 0..64u64 {
            for path in 0..64u64 {
                assert!(seen.insert(stream_state(Domain::Market, seed, 7, path, 0)), "collision at {seed} {path}");
            }
        }
        assert_eq!(base, stream_state(Domain::Market, 1, 2, 3, 4));
    }

    #[test]
    fn uniform_open_moments_and_bounds() {
        let mut r = Stream::from_u64(9);
        let n = 200_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = r.uniform_open();
            assert!(u > 0.0 && u < 1.0);
            sum += u;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.005);
    }

    #[test]
    fn geometric_mean_matches() {
        let mut r = Stream::from_u64(5);
        let p = 0.01;
        let n = 100_000;
        let mean: f64 = (0..n).map(|_| r.geometric(p) as f64).sum::<f64>() / n as f64;
        let expect = (1.0 - p) / p; // 99
        assert!((mean - expect).abs() < 2.0, "mean {mean}");
    }

    #[test]
    fn stream_x4_lanes_are_xoshiro() {
        let mut parent = Stream::from_u64(21);
        let mut x4 = StreamX4::from_stream(&mut parent);
        let mut lanes: Vec<Stream> =
            (0..4).map(|l| Stream { s: [x4.s[0][l], x4.s[1][l], x4.s[2][l], x4.s[3][l]] }).collect();
        let mut buf = vec![0u64; 4 * 50];
        let mut scalar = x4.clone();
        x4.fill(&mut buf);
        x4.fill(&mut buf[..8]); // continues where it stopped
                                // the portable path gives the same values as the AVX2 one
        let mut buf_scalar = vec![0u64; 4 * 50];
        scalar.fill_scalar(&mut buf_scalar);
        scalar.fill_scalar(&mut buf_scalar[..8]);
        assert_eq!(buf, buf_scalar);
        let mut expect = vec![0u64; 4 * 50];
        for i in 0..50 {
            for (l, lane) in lanes.iter_mut().enumerate() {
                expect[4 * i + l] = lane.next_u64();
            }
        }
        for i in 0..2 {
            for (l, lane) in lanes.iter_mut().enumerate() {
                expect[4 * i + l] = lane.next_u64();
            }
        }
        assert_eq!(buf, expect);
        // lanes are distinct streams
        assert!(buf[..4].iter().collect::<std::collections::HashSet<_>>().len() == 4);
        assert!(open01(0) > 0.0 && open01(u64::MAX) < 1.0 && unit01(0) == 0.0 && unit01(u64::MAX) < 1.0);
    }

    #[test]
    fn chi_squared_moments() {
        // mean nu, variance 2 nu, and E[1/W] = 1/(nu - 2): the last one is what makes the
        // Student-t innovations z sqrt((nu - 2)/W) unit-variance in the generator.
        for nu in [1.0, 3.0, 5.5, 6.0, 13.0] {
            let chi = ChiSquared::new(nu).unwrap();
            let mut r = Stream::from_u64(17);
            let n = 400_000;
            let w: Vec<f64> = (0..n).map(|_| chi.sample(&mut r)).collect();
            assert!(w.iter().all(|x| *x > 0.0 && x.is_finite()));
            let mean = w.iter().sum::<f64>() / n as f64;
            let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!((mean - nu).abs() < 4.0 * (2.0 * nu / n as f64).sqrt(), "nu {nu} mean {mean}");
            assert!((var / (2.0 * nu) - 1.0).abs() < 0.03, "nu {nu} var {var}");
            if nu > 4.0 {
                let inv = w.iter().map(|x| 1.0 / x).sum::<f64>() / n as f64;
                assert!((inv * (nu - 2.0) - 1.0).abs() < 0.01, "nu {nu} E[1/W] {inv}");
            }
            // the squeeze's first attempts are the full draws wherever it accepts (~98%)
            let mut r2 = Stream::from_u64(18);
            let mut accepted = 0;
            for _ in 0..10_000 {
                let (x, u) = (r2.normal(), r2.uniform_open());
                let w = chi.squeeze_first(x, u);
                if !w.is_nan() {
                    accepted += 1;
                    assert_eq!(w.to_bits(), chi.sample_from(x, u, &mut r2.clone()).to_bits());
                }
            }
            assert!(nu < 2.0 || accepted > 9_000, "nu {nu}: {accepted}");
            // P(W <= median of chi2(nu)) = 1/2; for nu = 6 the median is 5.348120627
            if nu == 6.0 {
                let below = w.iter().filter(|x| **x <= 5.348_120_627).count() as f64 / n as f64;
                assert!((below - 0.5).abs() < 0.004, "{below}");
            }
        }
        assert!(ChiSquared::new(0.0).is_none() && ChiSquared::new(f64::NAN).is_none());
    }

    #[test]
    fn fnv_known_value() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (published test vector).
        assert_eq!(scenario_key("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
