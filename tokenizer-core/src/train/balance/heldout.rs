//! Held-out text: per-language text that training never reads, scored once the vocabulary is
//! learned.
//!
//! Compression is judged here, not on the training text: bytes/token on the training text is
//! what plain BPE greedily maximizes, so any other selection loses there by construction, while
//! users meet new text. A held-out directory holds `<lang>.txt` files (one document per line);
//! when it is line-aligned parallel text, the spread of its per-language token totals (the Gini)
//! measures parity on text the dev set did not fit.
//!
//! The held-out text must be apart from what training reads: a held-out file may not be, or lie
//! under, a training input, and held-out lines of the dev directory may not overlap the dev lines.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::dev::LineRange;
use super::ParityConfig;
use crate::corpus::parallel::read_language_dir;
use crate::tokenizer::{AllowedSpecial, Tokenizer};
use crate::{Error, Result};

/// Where the held-out text is: a directory of `<lang>.txt` files, and which of their lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldOut {
    pub dir: PathBuf,
    /// Lines to score, 1-based inclusive (all by default).
    pub lines: Option<LineRange>,
}

/// Held-out text read and checked against the training inputs and the dev set.
#[derive(Clone, Debug)]
pub struct HeldOutText {
    spec: HeldOut,
    /// Per language (sorted by code): its selected non-empty lines.
    languages: Vec<(String, Vec<String>)>,
}

impl HeldOut {
    /// Reads the held-out lines, refusing text that training reads: a held-out file that is (or
    /// lies under) one of `inputs`, or held-out lines of the dev directory that overlap the dev
    /// lines of `parity`.
    pub fn read(&self, inputs: &[PathBuf], parity: Option<&ParityConfig>) -> Result<HeldOutText> {
        let dir = canonical(&self.dir)?;
        if let Some((dev, dev_lines)) = parity.and_then(|p| p.dev.as_ref().map(|d| (d, p.dev_lines))) {
            if canonical(dev).is_ok_and(|dev| dev == dir) && overlap(self.lines, dev_lines) {
                return Err(Error::config(format!(
                    "held-out lines {} of {} overlap the dev lines {}: held-out text must never be a dev line (set heldout_lines past the dev range)",
                    range_text(self.lines),
                    self.dir.display(),
                    range_text(dev_lines)
                )));
            }
        }
        let texts = read_language_dir(&self.dir, None)?;
        let inputs: Vec<PathBuf> = inputs.iter().filter_map(|p| p.canonicalize().ok()).collect();
        let mut languages = Vec::with_capacity(texts.len());
        for text in texts {
            let file = dir.join(format!("{}.txt", text.lang));
            if let Some(input) = inputs.iter().find(|input| file.starts_with(input)) {
                return Err(Error::config(format!(
                    "held-out file {} is a training input ({}): held-out text must never be trained on",
                    file.display(),
                    input.display()
                )));
            }
            let selected = match self.lines {
                Some(range) => range.select(&text.lines),
                None => &text.lines[..],
            };
            let lines: Vec<String> = selected.iter().filter(|l| !l.is_empty()).cloned().collect();
            if lines.is_empty() {
                return Err(Error::config(format!(
                    "{}: no held-out lines selected from {}.txt (lines {})",
                    self.dir.display(),
                    text.lang,
                    range_text(self.lines)
                )));
            }
            languages.push((text.lang, lines));
        }
        Ok(HeldOutText { spec: self.clone(), languages })
    }
}

impl HeldOutText {
    /// Encodes every held-out line with `tokenizer` (special-token text counts as text).
    pub fn score(&self, tokenizer: &Tokenizer) -> Result<HeldOutScore> {
        let mut languages = Vec::with_capacity(self.languages.len());
        for (lang, lines) in &self.languages {
            let tokens = lines
                .par_iter()
                .map(|line| tokenizer.encode(line, AllowedSpecial::None).map(|ids| ids.len() as u64))
                .collect::<Result<Vec<u64>>>()?
                .iter()
                .sum();
            let bytes = lines.iter().map(|l| l.len() as u64).sum();
            languages.push(HeldOutLanguage { lang: lang.clone(), lines: lines.len() as u64, bytes, tokens });
        }
        Ok(HeldOutScore { dir: self.spec.dir.clone(), lines: self.spec.lines, languages })
    }
}

/// How a vocabulary compresses each held-out language.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldOutScore {
    pub dir: PathBuf,
    pub lines: Option<LineRange>,
    /// Sorted by language code.
    pub languages: Vec<HeldOutLanguage>,
}

/// One held-out language's text and its tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldOutLanguage {
    pub lang: String,
    /// Non-empty lines scored.
    pub lines: u64,
    pub bytes: u64,
    pub tokens: u64,
}

impl HeldOutLanguage {
    pub fn bytes_per_token(&self) -> f64 {
        self.bytes as f64 / self.tokens.max(1) as f64
    }
}

impl HeldOutScore {
    /// Bytes/token over all held-out languages together.
    pub fn pooled_bytes_per_token(&self) -> f64 {
        let bytes: u64 = self.languages.iter().map(|l| l.bytes).sum();
        let tokens: u64 = self.languages.iter().map(|l| l.tokens).sum();
        bytes as f64 / tokens.max(1) as f64
    }

    /// The Gini coefficient of the per-language token totals, `Σ_i Σ_j |t_i − t_j| / (2 n² mean)`:
    /// 0 when every language takes as many tokens. It measures parity when the held-out files are
    /// line-aligned translations.
    pub fn token_gini(&self) -> f64 {
        gini(&self.languages.iter().map(|l| l.tokens as f64).collect::<Vec<_>>())
    }

    /// A language's score, by code.
    pub fn language(&self, lang: &str) -> Option<&HeldOutLanguage> {
        self.languages.iter().find(|l| l.lang == lang)
    }
}

/// `Σ_i Σ_j |v_i − v_j| / (2 n² mean)` (0 for fewer than two values or a zero mean).
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    if values.len() < 2 || mean <= 0.0 {
        return 0.0;
    }
    let spread: f64 = values.iter().map(|a| values.iter().map(|b| (a - b).abs()).sum::<f64>()).sum();
    spread / (2.0 * n * n * mean)
}

fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize().map_err(|e| Error::io(path, e))
}

/// Whether two line ranges (all lines when `None`) share a line.
fn overlap(a: Option<LineRange>, b: Option<LineRange>) -> bool {
    let bounds = |r: Option<LineRange>| r.map_or((1, usize::MAX), |r| (r.first, r.last.unwrap_or(usize::MAX)));
    let ((a0, a1), (b0, b1)) = (bounds(a), bounds(b));
    a0 <= b1 && b0 <= a1
}

fn range_text(range: Option<LineRange>) -> String {
    match range {
        None => "(all)".to_string(),
        Some(r) => format!("{}:{}", r.first, r.last.map_or(String::new(), |l| l.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_overlap_when_they_share_a_line() {
        let r = |t: &str| Some(LineRange::parse(t).unwrap());
        assert!(overlap(r("1:1000"), r("1000:")));
        assert!(!overlap(r("1:1000"), r("1001:")));
        assert!(overlap(None, r("5:6")));
        assert!(!overlap(r(":4"), r("5:6")));
    }

    /// A corpus, a dev set and held-out text, each with a marker word of its own: held-out
    /// scoring reads exactly the held-out lines (no dev line), and training never counts them.
    #[test]
    fn heldout_text_is_never_trained_on_nor_a_dev_line() {
        use crate::train::{Recipe, Silent, Trainer};
        let root = tempfile::tempdir().unwrap();
        let (train, parallel) = (root.path().join("train"), root.path().join("parallel"));
        std::fs::create_dir_all(&train).unwrap();
        std::fs::create_dir_all(&parallel).unwrap();
        let body = "the cat sat on the mat and the dog ran far away\n".repeat(50);
        std::fs::write(train.join("en.txt"), format!("{body}trainmarker trainmarker\n")).unwrap();
        std::fs::write(train.join("fr.txt"), "le chat est sur le tapis et le chien court loin\n".repeat(50)).unwrap();
        // Lines 1-2 are dev, lines 3-4 held out; the held-out marker is frequent enough that
        // training would merge it whole if it were counted.
        let held = "zqxjheld zqxjheld zqxjheld zqxjheld";
        std::fs::write(parallel.join("en.txt"), format!("devmarker the cat\nthe dog ran\n{held}\nthe mat\n")).unwrap();
        std::fs::write(parallel.join("fr.txt"), format!("devmarker le chat\nle chien\n{held}\nle tapis\n")).unwrap();
        // Recipe paths are relative to its data root: the training folder here.
        let recipe = format!(
            "data_root = {train:?}\nvocab_size = 400\nspecial_tokens = \"none\"\nheldout = \"../parallel\"\nheldout_lines = \"3:\"\n[parity]\ndev = \"../parallel\"\ndev_lines = \"1:2\""
        );
        let plan = Recipe::parse(&recipe).unwrap().resolve(std::slice::from_ref(&train)).unwrap();
        let trainer = Trainer::for_plan(&plan).unwrap();
        let (tokenizer, report) = trainer.train_files(&plan.inputs, &plan.corpus, &Silent).unwrap();
        let score = report.heldout.as_ref().unwrap();
        for (lang, line4) in [("en", "the mat"), ("fr", "le tapis")] {
            let l = score.language(lang).unwrap();
            assert_eq!((l.lines, l.bytes), (2, (held.len() + line4.len()) as u64), "{lang}");
            let tokens = tokenizer.encode(held, AllowedSpecial::None).unwrap().len() + tokenizer.encode(line4, AllowedSpecial::None).unwrap().len();
            assert_eq!(l.tokens, tokens as u64, "{lang}");
        }
        // Training counted the training marker, never the held-out one.
        let spelled: Vec<Vec<u8>> = (0..tokenizer.vocab_size() as u32).filter_map(|id| tokenizer.id_to_bytes(id).map(<[u8]>::to_vec)).collect();
        let has = |piece: &str| spelled.iter().any(|t| t.windows(piece.len()).any(|w| w == piece.as_bytes()));
        assert!(has("trainmarker"), "the training marker should have been merged");
        assert!(!has("zqxj"), "a held-out word was trained on");
        assert!(report.to_string().contains("held-out text"), "{report}");

        // Held-out lines that overlap the dev lines, or held-out text that is an input, are refused.
        let overlapping = recipe.replace("heldout_lines = \"3:\"", "heldout_lines = \"2:\"");
        let plan = Recipe::parse(&overlapping).unwrap().resolve(std::slice::from_ref(&train)).unwrap();
        let err = Trainer::for_plan(&plan).unwrap_err().to_string();
        assert!(err.contains("overlap the dev lines 1:2"), "{err}");
        let trained_on = recipe.replace("heldout = \"../parallel\"", "heldout = \".\"").replace("heldout_lines = \"3:\"\n", "");
        let plan = Recipe::parse(&trained_on).unwrap().resolve(std::slice::from_ref(&train)).unwrap();
        let err = Trainer::for_plan(&plan).unwrap_err().to_string();
        assert!(err.contains("is a training input"), "{err}");
    }

    #[test]
    fn gini_of_equal_and_unequal_totals() {
        assert_eq!(gini(&[3.0, 3.0, 3.0]), 0.0);
        // |1-3| twice over 2 * 4 * 2.
        assert!((gini(&[1.0, 3.0]) - 0.25).abs() < 1e-12);
        assert_eq!(gini(&[5.0]), 0.0);
    }
}
