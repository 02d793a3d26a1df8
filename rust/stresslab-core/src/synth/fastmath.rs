//! Branch-free `exp` and `ln` written so that loops over slices vectorise (two f64 lanes on
//! baseline x86-64 SSE2, more where the target allows).
//!
//! Why not libm: a libm call is opaque to the vectoriser, so the generator paid one scalar call per
//! exp (three per bar) and per ln; evaluated over a block of bars these cost a fraction of that.
//! They are plain IEEE-754 arithmetic (no FMA contraction in Rust, no tables, no platform
//! library), so the results are bit-identical on every machine and thread count, which libm does
//! not promise across platforms.
//!
//! Accuracy (checked against libm in the tests): [`exp`] is within about 1 ulp over its whole
//! range, good enough for prices (libm's own error is about half an ulp); [`ln`] is within 3e-16
//! absolute (about an ulp) on the GARCH variances it is used for (only volume and spread depend
//! on it).

/// ln 2 split for Cody-Waite reduction (fdlibm): `k * LN2_HI` is exact for |k| < 2^11.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000); // 6.93147180369123816490e-01
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76); // 1.90821492927058770002e-10
/// 1.5 * 2^52: adding it rounds a double of magnitude < 2^51 to an integer, which then sits in
/// the low bits of the sum's representation.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
const EXP_BITS_OFFSET: u64 = 0x4330_0000_0000_0000; // bits of 2^52
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// e^x for any x, like libm except that results below e^-708 (about 3.3e-308) are flushed to 0
/// (libm returns those as tiny normal or subnormal numbers); overflows to infinity above
/// ln(f64::MAX) and returns NaN for NaN.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Selects rather than f64::max/min so the clamp is one compare-and-blend per bound.
    let xc = if x < -708.0 { -708.0 } else { x };
    let xc = if xc > 709.8 { 709.8 } else { xc };
    // x = k ln2 + r, |r| <= ln2 / 2, k = round(x / ln2)
    let t = xc * std::f64::consts::LOG2_E + SHIFTER;
    let k = t - SHIFTER;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    // e^r by its Taylor series to degree 13: truncation error 0.35^14 / 14! < 5e-18 relative.
    let p = 1.0 / 6_227_020_800.0;
    let p = 1.0 / 479_001_600.0 + r * p;
    let p = 1.0 / 39_916_800.0 + r * p;
    let p = 1.0 / 3_628_800.0 + r * p;
    let p = 1.0 / 362_880.0 + r * p;
    let p = 1.0 / 40_320.0 + r * p;
    let p = 1.0 / 5_040.0 + r * p;
    let p = 1.0 / 720.0 + r * p;
    let p = 1.0 / 120.0 + r * p;
    let p = 1.0 / 24.0 + r * p;
    let p = 1.0 / 6.0 + r * p;
    let p = 0.5 + r * p;
    let p = 1.0 + r * p;
    let er = 1.0 + r * p;
    // 2^(k-1) from the low bits of t (k - 1 + 1023 lies in [1, 2046] after the clamp), times 2
    // last so that e^x just below f64::MAX is exact and anything above overflows to infinity.
    let half_scale = f64::from_bits(t.to_bits().wrapping_add(1022) << 52);
    let y = er * half_scale * 2.0;
    if x < -708.0 {
        0.0
    } else {
        y
    }
}

/// Natural logarithm of a positive, finite, normal x.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    const MANTISSA: u64 = 0x000F_FFFF_FFFF_FFFF;
    const ONE: u64 = 0x3FF0_0000_0000_0000;
    let bits = x.to_bits();
    // x = 2^e m with m in [1, 2); the exponent converted to f64 without an int->float instruction
    // (which has no packed 64-bit form on SSE2).
    let e = f64::from_bits(EXP_BITS_OFFSET | (bits >> 52)) - TWO_52 - 1023.0;
    let m = f64::from_bits((bits & MANTISSA) | ONE);
    // Recentre m to [sqrt(1/2), sqrt(2)) so that |s| <= 0.172 below.
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { 0.5 * m } else { m };
    let e = if big { e + 1.0 } else { e };
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1): 2 (s + s^3/3 + ... + s^21/21), truncation < 1e-17.
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let p = 2.0 / 21.0;
    let p = 2.0 / 19.0 + s2 * p;
    let p = 2.0 / 17.0 + s2 * p;
    let p = 2.0 / 15.0 + s2 * p;
    let p = 2.0 / 13.0 + s2 * p;
    let p = 2.0 / 11.0 + s2 * p;
    let p = 2.0 / 9.0 + s2 * p;
    let p = 2.0 / 7.0 + s2 * p;
    let p = 2.0 / 5.0 + s2 * p;
    let p = 2.0 / 3.0 + s2 * p;
    let ln_m = f - s * (f - s2 * p);
    e * LN2_HI + (e * LN2_LO + ln_m)
}

/// (sin 2 pi u, cos 2 pi u) for u in [0, 1), branch-free: u is split into a quarter turn
/// q = round(4u) and a remainder angle |phi| <= pi/4, whose sine and cosine are Taylor series
/// (to phi^15 and phi^16: truncation below 1e-16), then rotated by q quarter turns.
#[inline(always)]
pub fn sincos_2pi(u: f64) -> (f64, f64) {
    let x = 4.0 * u;
    let t = x + SHIFTER;
    let q = t - SHIFTER; // round(4u) in 0..=4
    let quarter = t.to_bits() & 3;
    let phi = (x - q) * std::f64::consts::FRAC_PI_2;
    let p2 = phi * phi;
    let sp = -1.0 / 1_307_674_368_000.0;
    let sp = 1.0 / 6_227_020_800.0 + p2 * sp;
    let sp = -1.0 / 39_916_800.0 + p2 * sp;
    let sp = 1.0 / 362_880.0 + p2 * sp;
    let sp = -1.0 / 5_040.0 + p2 * sp;
    let sp = 1.0 / 120.0 + p2 * sp;
    let sp = -1.0 / 6.0 + p2 * sp;
    let sin = phi + phi * p2 * sp;
    let cp = 1.0 / 20_922_789_888_000.0;
    let cp = -1.0 / 87_178_291_200.0 + p2 * cp;
    let cp = 1.0 / 479_001_600.0 + p2 * cp;
    let cp = -1.0 / 3_628_800.0 + p2 * cp;
    let cp = 1.0 / 40_320.0 + p2 * cp;
    let cp = -1.0 / 720.0 + p2 * cp;
    let cp = 1.0 / 24.0 + p2 * cp;
    let cp = -0.5 + p2 * cp;
    let cos = 1.0 + p2 * cp;
    // angle = q pi/2 + phi: odd q swaps sine and cosine; the signs follow the quadrant.
    let odd = quarter & 1 == 1;
    let (s, c) = if odd { (cos, sin) } else { (sin, cos) };
    let s = if quarter & 2 == 2 { -s } else { s };
    let c = if quarter == 1 || quarter == 2 { -c } else { c };
    (s, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs() / f64::EPSILON
    }

    #[test]
    fn exp_within_about_one_ulp_of_libm() {
        let mut r = crate::rng::Stream::from_u64(11);
        let mut worst: f64 = 0.0;
        for i in 0..400_000 {
            // dense near 0 (returns, jumps), then the whole range (volumes, spreads, tails)
            let x = match i % 4 {
                0 => 0.05 * r.normal(),
                1 => 0.5 * r.normal(),
                2 => 20.0 * (r.uniform() - 0.5),
                _ => 1400.0 * (r.uniform() - 0.5),
            };
            let (a, b) = (exp(x), x.exp());
            if x >= -708.0 && b < f64::MAX {
                worst = worst.max(ulps(a, b));
            } else if x < -708.0 {
                assert_eq!(a, 0.0);
            } else {
                assert_eq!(a, f64::INFINITY, "{x}");
            }
        }
        // libm is itself within ~0.5 ulp of e^x, so 1.5 ulp from libm means ~1 ulp from e^x
        assert!(worst <= 1.5, "worst {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert!(ulps(exp(1.0), std::f64::consts::E) <= 1.0);
        assert_eq!((exp(-1000.0), exp(f64::NEG_INFINITY)), (0.0, 0.0));
        assert_eq!((exp(710.0), exp(f64::INFINITY)), (f64::INFINITY, f64::INFINITY));
        assert!(ulps(exp(709.7), 709.7f64.exp()) <= 1.5 && exp(709.78).is_finite());
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn sincos_matches_libm() {
        let mut r = crate::rng::Stream::from_u64(13);
        for i in 0..200_000 {
            let u = if i < 4000 { i as f64 / 4000.0 } else { r.uniform() };
            let (s, c) = sincos_2pi(u);
            let (es, ec) = (std::f64::consts::TAU * u).sin_cos();
            assert!((s - es).abs() < 1e-15 && (c - ec).abs() < 1e-15, "u={u} {s} {es} {c} {ec}");
        }
    }

    #[test]
    fn ln_matches_libm() {
        let mut r = crate::rng::Stream::from_u64(12);
        for i in 0..400_000 {
            let x = match i % 3 {
                0 => 0.01 + 10.0 * r.uniform(),
                1 => exp(40.0 * (r.uniform() - 0.5)),
                _ => 1.0 + 1e-6 * r.normal(),
            };
            let (a, b) = (ln(x), x.ln());
            assert!((a - b).abs() <= 1.5 * f64::EPSILON * b.abs().max(1.0), "x={x} {a} {b}");
        }
        assert_eq!(ln(1.0), 0.0);
        assert!((ln(2.0) - std::f64::consts::LN_2).abs() < 1e-16);
        assert!((ln(f64::MIN_POSITIVE) - f64::MIN_POSITIVE.ln()).abs() < 1e-12);
    }
}
