//! Selection: at every merge step, whose counts choose the merge, from every column's cost.
//!
//! Hard selection picks one column (the highest cost) or the global counts:
//! - the first `global_merges` merges are global (the paper's hybrid);
//! - with a `tolerance`, the merge is global whenever every cost is within `1 + tolerance`;
//! - with a window of `W` merges, a column already picked `⌊alpha · W / n⌋` times among the last
//!   `W` waits;
//! - a column whose best pair fell below the minimum frequency is exhausted and never picked
//!   again.
//!
//! Soft selection (`strength`) always merges by the global counts, but every `reweight_every`
//! merges it multiplies each column's language factor by `cost ^ strength`.

use std::collections::VecDeque;

use super::columns::Target;
use super::{ParityConfig, Pick};

/// A moving window that caps how often one language is picked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Number of most recent merges looked at.
    pub size: usize,
    /// A language may take at most `alpha / n_languages` of the window.
    pub alpha: f64,
}

/// The selection rules of [`ParityConfig`] and what they have picked so far.
#[derive(Clone, Debug)]
pub struct Selector {
    /// What each column is balanced by.
    targets: Vec<Target>,
    global_merges: usize,
    tolerance: Option<f64>,
    /// `(size, cap)`.
    window: Option<(usize, usize)>,
    /// The last merges' picks (`None` = plain), when a window is set.
    recent: VecDeque<Option<usize>>,
    /// Columns with no pair left at the minimum frequency.
    exhausted: Vec<bool>,
    strength: Option<f64>,
    reweight_every: usize,
    reweighted_at: Option<usize>,
    /// Merges picked for each column.
    pub picks: Vec<u64>,
    /// Merges picked by global counts.
    pub global_picks: u64,
    step: usize,
}

impl Selector {
    pub fn new(targets: Vec<Target>, config: &ParityConfig) -> Selector {
        let n = targets.len();
        let window = config.window.map(|w| {
            let cap = ((w.alpha * w.size as f64) / n.max(1) as f64).floor() as usize;
            (w.size, cap.max(1))
        });
        Selector {
            targets,
            global_merges: config.global_merges,
            tolerance: config.tolerance,
            window,
            recent: VecDeque::new(),
            exhausted: vec![false; n],
            strength: config.strength,
            reweight_every: if config.reweight_every == 0 { 100 } else { config.reweight_every },
            reweighted_at: None,
            picks: vec![0; n],
            global_picks: 0,
            step: 0,
        }
    }

    /// Soft selection: every merge is chosen by the reweighted global counts.
    pub fn is_soft(&self) -> bool {
        self.strength.is_some()
    }

    /// The cost of every column (see [`super`]) from its dev tokens, training bytes and current
    /// training tokens; `None` for exhausted and free columns.
    pub fn costs(&self, dev_tokens: &[u64], train_bytes: &[u64], train_tokens: &[u64]) -> Vec<Option<f64>> {
        let dev_tokens_of = || self.targets.iter().enumerate().filter(|(_, t)| **t == Target::Dev).map(|(i, _)| dev_tokens[i]);
        // Hard picks compare with the best language (parity = 1); soft weights with the mean,
        // so the best languages weigh less than 1 and free languages (weight 1) keep their place.
        let reference = match self.strength {
            None => dev_tokens_of().min().unwrap_or(0) as f64,
            Some(_) => dev_tokens_of().sum::<u64>() as f64 / dev_tokens_of().count().max(1) as f64,
        }
        .max(1.0);
        self.targets
            .iter()
            .enumerate()
            .map(|(i, target)| {
                if self.exhausted[i] {
                    return None;
                }
                match *target {
                    Target::Dev => Some(dev_tokens[i] as f64 / reference),
                    Target::Ratio(target) => Some(target * train_tokens[i] as f64 / train_bytes[i].max(1) as f64),
                    Target::Free => None,
                }
            })
            .collect()
    }

    /// Whose counts choose the next merge.
    pub fn pick(&self, dev_tokens: &[u64], train_bytes: &[u64], train_tokens: &[u64]) -> Pick {
        if self.step < self.global_merges || self.strength.is_some() {
            return Pick::Global;
        }
        let costs = self.costs(dev_tokens, train_bytes, train_tokens);
        let mut best: Option<(usize, f64)> = None;
        for (i, cost) in costs.iter().enumerate() {
            let Some(cost) = *cost else { continue };
            if let Some((_, cap)) = self.window {
                if self.recent.iter().filter(|&&p| p == Some(i)).count() >= cap {
                    continue;
                }
            }
            // Ties go to the lower column index (columns are sorted by language code).
            if best.is_none_or(|(_, b)| cost > b) {
                best = Some((i, cost));
            }
        }
        match best {
            Some((i, cost)) if self.tolerance.is_none_or(|t| cost > 1.0 + t) => Pick::Column(i),
            _ => Pick::Global,
        }
    }

    /// Soft selection: every `reweight_every` merges (from the end of the global merges on),
    /// the factor of each column, `cost ^ strength` clamped to [1/64, 64] (1 for free columns).
    /// `None` when it is not time.
    pub fn reweight(&mut self, dev_tokens: &[u64], train_bytes: &[u64], train_tokens: &[u64]) -> Option<Vec<f64>> {
        let strength = self.strength?;
        if self.step < self.global_merges
            || !(self.step - self.global_merges).is_multiple_of(self.reweight_every)
            || self.reweighted_at == Some(self.step)
        {
            return None;
        }
        self.reweighted_at = Some(self.step);
        let costs = self.costs(dev_tokens, train_bytes, train_tokens);
        Some(costs.iter().map(|c| c.map_or(1.0, |c| c.powf(strength).clamp(1.0 / 64.0, 64.0))).collect())
    }

    /// A column's best pair fell below the minimum frequency: stop picking it.
    pub fn exhaust(&mut self, column: usize) {
        self.exhausted[column] = true;
    }

    /// Records a merge taken for `pick`.
    pub fn record(&mut self, pick: Pick) {
        self.step += 1;
        match pick {
            Pick::Global => self.global_picks += 1,
            Pick::Column(c) => self.picks[c] += 1,
        }
        if let Some((size, _)) = self.window {
            if self.step > self.global_merges {
                self.recent.push_back(match pick {
                    Pick::Global => None,
                    Pick::Column(c) => Some(c),
                });
                if self.recent.len() > size {
                    self.recent.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_merges_come_first_and_tolerance_stops_at_parity() {
        let dev_tokens = [40, 50];
        let config = ParityConfig { global_merges: 1, tolerance: Some(0.3), ..ParityConfig::default() };
        let mut s = Selector::new(vec![Target::Dev; 2], &config);
        assert_eq!(s.pick(&dev_tokens, &[0, 0], &[0, 0]), Pick::Global);
        s.record(Pick::Global);
        // 50 vs 40 tokens: cost 1.25 is within the tolerance of 0.3.
        assert_eq!(s.pick(&dev_tokens, &[0, 0], &[0, 0]), Pick::Global);
        let strict = ParityConfig { tolerance: Some(0.2), ..config };
        assert_eq!(Selector::new(vec![Target::Dev; 2], &ParityConfig { global_merges: 0, ..strict }).pick(&dev_tokens, &[0, 0], &[0, 0]), Pick::Column(1));
    }

    #[test]
    fn ratio_mode_picks_the_language_furthest_below_target() {
        let s = Selector::new(vec![Target::Ratio(4.0), Target::Ratio(3.0)], &ParityConfig::default());
        // Column 0: 300 bytes in 100 tokens = 3.0 bytes/token, cost 4/3; column 1: 2.0, cost 1.5.
        assert_eq!(s.pick(&[0, 0], &[300, 200], &[100, 100]), Pick::Column(1));
        // Column 1 at 2.9 bytes/token (cost 1.03) is now closer to its target than column 0.
        assert_eq!(s.pick(&[0, 0], &[300, 290], &[100, 100]), Pick::Column(0));
    }

    #[test]
    fn window_caps_each_language_share() {
        // Column 0 stays the longest by far, so only the cap lets the others in.
        let dev_tokens = [100, 10, 10];
        let config = ParityConfig { window: Some(Window { size: 10, alpha: 1.5 }), ..ParityConfig::default() };
        let mut s = Selector::new(vec![Target::Dev; 3], &config);
        let cap = 5; // ⌊1.5 · 10 / 3⌋
        let mut picks = Vec::new();
        for _ in 0..200 {
            let pick = s.pick(&dev_tokens, &[0; 3], &[0; 3]);
            picks.push(pick);
            s.record(pick);
        }
        for window in picks.windows(10) {
            for c in 0..3 {
                let n = window.iter().filter(|&&p| p == Pick::Column(c)).count();
                assert!(n <= cap, "column {c} picked {n} times in a window of 10");
            }
        }
        // The longest language still takes most picks, up to its cap; the others get the rest.
        let counts: Vec<usize> = (0..3).map(|c| picks.iter().filter(|&&p| p == Pick::Column(c)).count()).collect();
        assert!(counts[0] > 80 && counts[0] <= 100, "{counts:?}");
        assert!(counts[1] > 0 && counts[2] > 0, "{counts:?}");
        assert_eq!(s.picks.iter().sum::<u64>() + s.global_picks, 200);
        // Without the window, the longest language takes every pick.
        let s = Selector::new(vec![Target::Dev; 2], &ParityConfig::default());
        assert_eq!(s.pick(&[100, 10], &[0; 2], &[0; 2]), Pick::Column(0));
    }

    #[test]
    fn soft_selection_reweights_by_cost_against_the_mean() {
        let config = ParityConfig { strength: Some(2.0), global_merges: 1, reweight_every: 3, ..ParityConfig::default() };
        let mut s = Selector::new(vec![Target::Dev, Target::Dev, Target::Free, Target::Ratio(2.0)], &config);
        let (dev, bytes, tokens) = ([30, 10, 0, 0], [0, 0, 0, 100], [0, 0, 0, 100]);
        // The global merges come first, then a reweighting every third merge, once per step.
        assert_eq!(s.reweight(&dev, &bytes, &tokens), None);
        s.record(Pick::Global);
        // Dev costs against the mean of 20: 1.5 and 0.5; the free column keeps 1; the ratio
        // column is at half its target, cost 2.
        assert_eq!(s.reweight(&dev, &bytes, &tokens), Some(vec![2.25, 0.25, 1.0, 4.0]));
        assert_eq!(s.reweight(&dev, &bytes, &tokens), None);
        assert_eq!(s.pick(&dev, &bytes, &tokens), Pick::Global);
        for _ in 0..3 {
            s.record(Pick::Global);
        }
        // Factors are clamped to [1/64, 64]: dev costs 0.002 and 1.998, ratio cost 20.
        let factors = s.reweight(&[1, 999, 0, 0], &bytes, &[0, 0, 0, 1000]).unwrap();
        assert_eq!((factors[0], factors[2], factors[3]), (1.0 / 64.0, 1.0, 64.0));
        assert!((factors[1] - 1.998 * 1.998).abs() < 1e-9, "{factors:?}");
    }
}
