//! Language weighting: how much each language's word counts count when choosing merges.
//!
//! A weighting fixes a target share `q_l` of the corpus for every language:
//! - `proportional`: `q_l ∝ n_l`, the corpus as read (plain BPE);
//! - `uniform`: `q_l ∝ 1`, every language weighs the same;
//! - `temperature α`: `q_l ∝ n_l^α` (XLM-R and mT5 use α = 0.3; α = 1 is proportional, α = 0
//!   uniform);
//!
//! where `n_l` is the number of word occurrences of language `l`. Explicit per-language
//! multipliers then scale the shares (`q_l ∝ base_l · m_l`), so "uniform, historical ×2" or
//! "proportional, code ×0.5" are one setting; a multiplier of 0 keeps a language out of the
//! merge counts.
//!
//! Each word's weight is `Σ_l count_l · w_l` with the per-language factor
//! `w_l = q_l · N / n_l` (`N = Σ n_l`, so the weighted corpus keeps its size). Factors are
//! fixed-point integers in units of 1/65,536 ([`WEIGHT_ONE`]), computed once from `f64`; all
//! counting afterwards is exact integer arithmetic, so results do not depend on summation order
//! or thread count. Plain proportional weighting uses factor 1 and scale 1: its counts are the
//! raw occurrence counts and its merges exactly those of unweighted BPE.

use crate::{Error, Result};

/// Fixed-point 1.0 of a language factor.
pub const WEIGHT_ONE: u64 = 1 << 16;

/// How the base share of each language is set.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Weighting {
    /// As read: each language weighs its number of word occurrences.
    #[default]
    Proportional,
    /// Every language weighs the same.
    Uniform,
    /// `q_l ∝ n_l^α`.
    Temperature(f64),
}

impl Weighting {
    /// Parses `proportional`, `uniform`, `temperature` (α = 0.3) or `temperature=α`.
    pub fn parse(text: &str) -> Result<Weighting> {
        let lower = text.trim().to_ascii_lowercase();
        let weighting = match lower.as_str() {
            "proportional" | "plain" | "none" => Weighting::Proportional,
            "uniform" => Weighting::Uniform,
            "temperature" => Weighting::Temperature(0.3),
            other => match other.strip_prefix("temperature=").or_else(|| other.strip_prefix("temperature:")) {
                Some(alpha) => Weighting::Temperature(alpha.parse().map_err(|_| {
                    Error::config(format!("weighting {text:?}: the temperature exponent {alpha:?} is not a number"))
                })?),
                None => {
                    return Err(Error::config(format!(
                        "unknown weighting {text:?}: expected proportional, uniform, temperature or temperature=ALPHA"
                    )))
                }
            },
        };
        weighting.validate()?;
        Ok(weighting)
    }

    /// Checks the temperature exponent (0 ≤ α ≤ 1), however the weighting was made.
    pub fn validate(&self) -> Result<()> {
        if let Weighting::Temperature(alpha) = *self {
            if !(0.0..=1.0).contains(&alpha) {
                return Err(Error::config(format!("temperature exponent {alpha} must be between 0 and 1")));
            }
        }
        Ok(())
    }
}

/// A weighting and explicit multipliers by language code.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LanguageWeights {
    pub weighting: Weighting,
    /// `(language, multiplier)`: scales that language's share; languages not named keep 1.
    pub multipliers: Vec<(String, f64)>,
}

/// Per-language factors resolved against a corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedWeights {
    /// Fixed-point factor per language (index = language id), in units of `1/scale`.
    pub factors: Vec<u64>,
    /// What a factor of 1.0 is: 1 for plain proportional weighting, else [`WEIGHT_ONE`].
    pub scale: u64,
    /// Target share of each language (sums to 1 over languages with text).
    pub shares: Vec<f64>,
}

impl LanguageWeights {
    /// True when this is plain BPE: proportional, no multipliers other than 1.
    pub fn is_plain(&self) -> bool {
        self.weighting == Weighting::Proportional && self.multipliers.iter().all(|&(_, m)| m == 1.0)
    }

    /// Checks the weighting and the multipliers (finite, not negative, each language once).
    pub fn validate(&self) -> Result<()> {
        self.weighting.validate()?;
        for (i, (lang, m)) in self.multipliers.iter().enumerate() {
            if !m.is_finite() || *m < 0.0 {
                return Err(Error::config(format!("weight of {lang:?} is {m}: weights must be finite and not negative")));
            }
            if self.multipliers[..i].iter().any(|(other, _)| other == lang) {
                return Err(Error::config(format!("language {lang:?} is weighted twice")));
            }
        }
        Ok(())
    }

    /// Factors for `languages`, whose word occurrences are `occurrences`.
    pub fn resolve(&self, languages: &[String], occurrences: &[u64]) -> Result<ResolvedWeights> {
        self.validate()?;
        for (lang, _) in &self.multipliers {
            if !languages.contains(lang) {
                return Err(Error::config(format!(
                    "a weight names language {lang:?}, which the corpus does not have (it has {})",
                    languages.join(", ")
                )));
            }
        }
        let total: u64 = occurrences.iter().sum();
        let plain_shares = || occurrences.iter().map(|&n| n as f64 / total.max(1) as f64).collect();
        if self.is_plain() {
            return Ok(ResolvedWeights { factors: vec![1; languages.len()], scale: 1, shares: plain_shares() });
        }
        let base: Vec<f64> = languages
            .iter()
            .zip(occurrences)
            .map(|(lang, &n)| {
                if n == 0 {
                    return 0.0;
                }
                let multiplier = self.multipliers.iter().find(|(l, _)| l == lang).map_or(1.0, |&(_, m)| m);
                let base = match self.weighting {
                    Weighting::Proportional => n as f64,
                    Weighting::Uniform => 1.0,
                    Weighting::Temperature(alpha) => (n as f64).powf(alpha),
                };
                base * multiplier
            })
            .collect();
        let sum: f64 = base.iter().sum();
        if sum <= 0.0 {
            return Err(Error::config("every language has weight 0: nothing is left to learn merges from"));
        }
        let shares: Vec<f64> = base.iter().map(|b| b / sum).collect();
        let factors = shares
            .iter()
            .zip(occurrences)
            .map(|(&q, &n)| {
                if q == 0.0 || n == 0 {
                    return 0;
                }
                let factor = (q * total as f64 / n as f64 * WEIGHT_ONE as f64).round();
                // A language with a non-zero share never rounds away entirely.
                (factor as u64).max(1)
            })
            .collect();
        Ok(ResolvedWeights { factors, scale: WEIGHT_ONE, shares })
    }
}

impl ResolvedWeights {
    /// A word's weight from its per-language counts (saturating: a count beyond 2^64 / factor
    /// cannot come from a real corpus).
    pub fn word_weight(&self, counts: &[(u16, u64)]) -> u64 {
        counts
            .iter()
            .map(|&(lang, c)| c.saturating_mul(self.factors[lang as usize]))
            .fold(0u64, u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parse_weightings() {
        assert_eq!(Weighting::parse("uniform").unwrap(), Weighting::Uniform);
        assert_eq!(Weighting::parse("temperature").unwrap(), Weighting::Temperature(0.3));
        assert_eq!(Weighting::parse("temperature=0.5").unwrap(), Weighting::Temperature(0.5));
        assert!(Weighting::parse("temperature=2").unwrap_err().to_string().contains("between 0 and 1"));
        assert!(Weighting::parse("zipf").unwrap_err().to_string().contains("unknown weighting"));
        let direct = LanguageWeights { weighting: Weighting::Temperature(-0.5), multipliers: vec![] };
        assert!(direct.validate().unwrap_err().to_string().contains("between 0 and 1"));
    }

    #[test]
    fn proportional_is_plain_counts() {
        let w = LanguageWeights::default().resolve(&langs(&["fr", "en"]), &[100, 300]).unwrap();
        assert_eq!(w.factors, vec![1, 1]);
        assert_eq!(w.scale, 1);
        assert_eq!(w.word_weight(&[(0, 3), (1, 4)]), 7);
    }

    #[test]
    fn uniform_equalizes_language_totals() {
        // n = 100 and 300, N = 400: each language gets 200 weighted occurrences,
        // factors 2 and 2/3.
        let w = LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![] }
            .resolve(&langs(&["fr", "en"]), &[100, 300])
            .unwrap();
        assert_eq!(w.factors, vec![2 * WEIGHT_ONE, (WEIGHT_ONE as f64 * 2.0 / 3.0).round() as u64]);
        assert_eq!(w.shares, vec![0.5, 0.5]);
        let fr_total = 100 * w.factors[0];
        let en_total = 300 * w.factors[1];
        assert!(fr_total.abs_diff(en_total) <= 300, "{fr_total} vs {en_total}");
    }

    #[test]
    fn temperature_shares_follow_n_to_the_alpha() {
        let n = [100u64, 400, 1600];
        let w = LanguageWeights { weighting: Weighting::Temperature(0.5), multipliers: vec![] }
            .resolve(&langs(&["a", "b", "c"]), &n)
            .unwrap();
        // sqrt: 10, 20, 40 → shares 1/7, 2/7, 4/7.
        for (q, expected) in w.shares.iter().zip([1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0]) {
            assert!((q - expected).abs() < 1e-12);
        }
        // Weighted totals are in the same proportions, up to fixed-point rounding.
        let totals: Vec<f64> = n.iter().zip(&w.factors).map(|(&n, &f)| (n * f) as f64).collect();
        assert!((totals[1] / totals[0] - 2.0).abs() < 1e-4);
        assert!((totals[2] / totals[0] - 4.0).abs() < 1e-4);
    }

    #[test]
    fn multipliers_scale_shares_and_zero_excludes() {
        let w = LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![("b".into(), 3.0), ("c".into(), 0.0)] }
            .resolve(&langs(&["a", "b", "c"]), &[10, 10, 10])
            .unwrap();
        assert_eq!(w.shares, vec![0.25, 0.75, 0.0]);
        assert_eq!(w.factors, vec![30 * WEIGHT_ONE / 40, 90 * WEIGHT_ONE / 40, 0]);
        assert_eq!(w.word_weight(&[(2, 1000)]), 0);
    }

    #[test]
    fn bad_multipliers_name_the_language() {
        let unknown = LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![("xx".into(), 2.0)] };
        let err = unknown.resolve(&langs(&["fr"]), &[1]).unwrap_err().to_string();
        assert!(err.contains("\"xx\"") && err.contains("it has fr"), "{err}");
        let negative = LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![("fr".into(), -1.0)] };
        assert!(negative.resolve(&langs(&["fr"]), &[1]).is_err());
        let all_zero = LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![("fr".into(), 0.0)] };
        assert!(all_zero.resolve(&langs(&["fr"]), &[1]).unwrap_err().to_string().contains("weight 0"));
    }
}
