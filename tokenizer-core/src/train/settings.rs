//! Training settings: the one owner of every setting's name, default, precedence, path rule and
//! check.
//!
//! A user writes settings in three places — a recipe file, `vocab` flags, `polybpe.train`
//! keyword arguments — and all three are a [`Recipe`]: every field optional, spelled as the
//! recipe key. Layers combine with [`Recipe::overlay`] (recipe < flags / kwargs), and
//! [`Recipe::resolve`] applies the defaults and path rules once, giving a [`TrainPlan`]: the
//! [`TrainSettings`] (counting apart from merging) plus the inputs and how to read them.
//! [`TrainSettings::validate`] checks what does not depend on the corpus; the training entry
//! points ([`super::Counting`], [`super::Trainer`]) run it once, when they are built.
//!
//! The counting half, [`CountSettings`], is what a word-count file records in its header
//! (serialized as is), so counts made with other settings can be refused by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::count::{WordCounter, MAX_PIECE_BYTES};
use super::balance::{HeldOut, LanguageWeights, LineRange, ParityConfig, Weighting, Window};
use super::superword::{SuperwordConfig, SuperwordPattern, Transition, DEFAULT_MAX_SUPERWORD_WORDS};
use crate::corpus::CorpusOptions;
use crate::normalize::Normalization;
use crate::pretokenize::{Pattern, PreTokenizer};
use crate::special::{check_special_tokens, special_token_count, special_token_list, SpecialPreset};
use crate::{Error, Result};

/// Total vocabulary size when none is set: special tokens + 256 bytes + merges.
pub const DEFAULT_VOCAB_SIZE: usize = 65_536;
/// Pairs seen fewer times are never merged.
pub const DEFAULT_MIN_FREQUENCY: u64 = 2;
/// The special-token preset of recipes, `vocab` and `polybpe.train` (the library's bare
/// [`CountSettings::default`] has none, so unit tests see 256 + merges).
pub const DEFAULT_SPECIAL_PRESET: &str = "pleias-rag";
/// A parity window's share factor when only its size is given.
pub const DEFAULT_WINDOW_ALPHA: f64 = 2.0;

/// How text becomes counted words. Everything here changes the counts, so a count file's
/// header is this struct serialized, and counts made with other values are refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountSettings {
    #[serde(with = "normalization_name")]
    pub normalization: Normalization,
    /// Serialized as its regex, so a renamed built-in pattern still matches its counts.
    #[serde(with = "pattern_regex")]
    pub pattern: Pattern,
    /// Special tokens in id order (see [`crate::special::special_token_list`]); their text is
    /// cut out of documents before splitting.
    pub special_tokens: Vec<String>,
    /// Pieces longer than this are counted in chunks ([`MAX_PIECE_BYTES`]); absent from files
    /// written before pieces were cut, which counted them whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_piece_bytes: Option<u64>,
    /// Keep at most this many distinct words while counting (the rarest are pruned; see
    /// [`WordCounter::with_max_words`]). None: keep all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_words: Option<usize>,
}

impl Default for CountSettings {
    fn default() -> Self {
        CountSettings {
            normalization: Normalization::Nfc,
            pattern: Pattern::Default,
            special_tokens: Vec::new(),
            max_piece_bytes: Some(MAX_PIECE_BYTES as u64),
            max_words: None,
        }
    }
}

impl CountSettings {
    /// Checks what does not depend on the corpus.
    pub fn validate(&self) -> Result<()> {
        if self.pattern.regex().is_empty() {
            return Err(Error::config("pattern is empty: give a pattern name (default, gpt2, cl100k, o200k) or a regex"));
        }
        crate::pretokenize::compile(self.pattern.regex())?;
        if self.max_words == Some(0) {
            return Err(Error::config("max_words is 0: it must keep at least one word"));
        }
        if self.max_piece_bytes != Some(MAX_PIECE_BYTES as u64) {
            return Err(Error::config(format!(
                "max_piece_bytes is {:?}: this version counts long pieces in {MAX_PIECE_BYTES}-byte chunks",
                self.max_piece_bytes
            )));
        }
        check_special_tokens(&self.special_tokens)
    }

    /// A counter that normalizes, splits and cuts special tokens as these settings say,
    /// capped at `max_words`.
    pub fn word_counter(&self) -> Result<WordCounter> {
        let pre = PreTokenizer::from_pattern(self.pattern.clone())?;
        Ok(WordCounter::new(self.normalization, pre, &self.special_tokens).with_max_words(self.max_words))
    }

    /// Refuses counts made with other settings, naming the first difference. `max_words` is
    /// not compared: each shard may prune on its own.
    pub fn check_same_counting(&self, expected: &CountSettings, origin: &Path) -> Result<()> {
        let differ = |field: &str, got: &str, want: &str| {
            Err(Error::format(
                origin,
                format!("counted with {field} {got}, but these counts are for {field} {want}: count every shard with the same settings"),
            ))
        };
        if self.normalization != expected.normalization {
            return differ("normalization", self.normalization.name(), expected.normalization.name());
        }
        if self.pattern.regex() != expected.pattern.regex() {
            return differ("pattern", &format!("{:?}", self.pattern.regex()), &format!("{:?}", expected.pattern.regex()));
        }
        if self.special_tokens != expected.special_tokens {
            return differ(
                "special tokens",
                &format!("[{} tokens]", self.special_tokens.len()),
                &format!("[{} tokens]", expected.special_tokens.len()),
            );
        }
        if self.max_piece_bytes != expected.max_piece_bytes {
            let limit = |l: Option<u64>| l.map_or("none (pieces counted whole)".to_string(), |l| format!("{l} bytes"));
            return differ("long-piece cut", &limit(self.max_piece_bytes), &limit(expected.max_piece_bytes));
        }
        Ok(())
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "normalization": self.normalization.name(),
            "pattern": self.pattern.name(),
            "special_tokens": self.special_tokens,
            "max_piece_bytes": self.max_piece_bytes,
            "max_words": self.max_words,
        })
    }
}

/// How counted words become merges.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeSettings {
    /// Total vocabulary size: special tokens + 256 bytes + merges.
    pub vocab_size: usize,
    /// Pairs seen fewer times than this are never merged.
    pub min_frequency: u64,
    /// Longest token, in bytes (none by default).
    pub max_token_bytes: Option<usize>,
    /// How much each language's counts weigh (proportional: as read).
    pub weights: LanguageWeights,
    /// Parity-aware merge selection (off: every merge by the weighted global counts).
    pub parity: Option<ParityConfig>,
    /// Superword merges after a transition point (off: every merge within stage-1 pieces).
    pub superword: Option<SuperwordConfig>,
}

impl Default for MergeSettings {
    fn default() -> Self {
        MergeSettings {
            vocab_size: DEFAULT_VOCAB_SIZE,
            min_frequency: DEFAULT_MIN_FREQUENCY,
            max_token_bytes: None,
            weights: LanguageWeights::default(),
            parity: None,
            superword: None,
        }
    }
}

impl MergeSettings {
    /// Checks that the vocabulary holds `n_special` special tokens and the 256 byte tokens.
    pub fn check_room(&self, n_special: usize) -> Result<()> {
        let floor = n_special.saturating_add(256);
        if self.vocab_size < floor {
            return Err(Error::config(format!(
                "vocab size {} is too small: it must hold {n_special} special tokens + 256 byte tokens = {floor}",
                self.vocab_size
            )));
        }
        Ok(())
    }

    /// Checks what does not depend on the corpus; `n_special` tokens come before the bytes.
    pub fn validate(&self, n_special: usize) -> Result<()> {
        self.check_room(n_special)?;
        let floor = n_special + 256;
        if self.vocab_size > u32::MAX as usize {
            return Err(Error::config(format!("vocab size {} does not fit 32-bit ids", self.vocab_size)));
        }
        if self.max_token_bytes.is_some_and(|m| m < 2) {
            return Err(Error::config(format!(
                "max_token_bytes is {}: a merged token has at least 2 bytes, so no merge could be learned",
                self.max_token_bytes.unwrap_or(0)
            )));
        }
        self.weights.validate()?;
        if let Some(parity) = &self.parity {
            parity.validate()?;
        }
        if let Some(superword) = &self.superword {
            validate_superword(superword, self.vocab_size - floor)?;
        }
        Ok(())
    }

    fn to_json(&self) -> serde_json::Value {
        let weighting = match self.weights.weighting {
            Weighting::Proportional => "proportional".to_string(),
            Weighting::Uniform => "uniform".to_string(),
            Weighting::Temperature(alpha) => format!("temperature={alpha}"),
        };
        let parity = self.parity.as_ref().map(|p| {
            serde_json::json!({
                "dev": p.dev,
                "dev_lines": p.dev_lines.map(|r| format!("{}:{}", r.first, r.last.map_or(String::new(), |l| l.to_string()))),
                "ratio": p.ratio,
                "exclude": p.exclude,
                "global_merges": p.global_merges,
                "tolerance": p.tolerance,
                "window": p.window.map(|w| (w.size, w.alpha)),
                "strength": p.strength,
                "reweight_every": p.reweight_every,
                "byte_premium": p.byte_premium,
            })
        });
        let mut json = serde_json::json!({
            "vocab_size": self.vocab_size,
            "min_frequency": self.min_frequency,
            "max_token_bytes": self.max_token_bytes,
            "weighting": weighting,
            "weights": self.weights.multipliers,
            "parity": parity,
        });
        // Only when set, so plans without superwords print as they always have.
        if let Some(superword) = &self.superword {
            json["superword"] = serde_json::json!({
                "transition": superword.transition,
                "pattern": superword.pattern.name(),
                "max_words": superword.max_words,
            });
        }
        json
    }
}

/// Checks the superword settings against the `max_merges` the vocabulary holds.
fn validate_superword(superword: &SuperwordConfig, max_merges: usize) -> Result<()> {
    match superword.transition {
        Transition::Share(share) if !(share > 0.0 && share < 1.0) => {
            return Err(Error::config(format!(
                "superword_transition {share} is not a share between 0 and 1 (exclusive); give a share such as 0.8 or a number of merges"
            )));
        }
        Transition::Merges(n) if n >= max_merges => {
            return Err(Error::config(format!(
                "superword_transition {n} leaves no merges for superwords: the vocabulary holds {max_merges} merges"
            )));
        }
        _ => {}
    }
    if superword.max_words < 2 {
        return Err(Error::config(format!("max_superword_words is {}: a superword spans at least 2 words", superword.max_words)));
    }
    if let SuperwordPattern::Custom(regex) = &superword.pattern {
        if regex.is_empty() {
            return Err(Error::config("superword_pattern is empty: give `superbpe` or a regex"));
        }
        crate::pretokenize::compile(regex).map_err(|e| Error::config(format!("superword_pattern: {e}")))?;
    }
    Ok(())
}

/// Everything that decides what a training run learns: counting, then merging.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainSettings {
    pub count: CountSettings,
    pub merge: MergeSettings,
}

impl TrainSettings {
    /// Checks both halves before any work is done.
    pub fn validate(&self) -> Result<()> {
        self.count.validate()?;
        self.merge.validate(self.count.special_tokens.len())
    }

    /// How many merges fit.
    pub fn max_merges(&self) -> usize {
        self.merge.vocab_size.saturating_sub(self.count.special_tokens.len() + 256)
    }

    /// The settings as JSON (part of [`TrainPlan::to_json`]).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "count": self.count.to_json(), "merge": self.merge.to_json() })
    }
}

/// Training settings as a user writes them: a recipe file (`vocab/recipes/*.toml`), the flags
/// of `vocab train` / `vocab count`, or the keyword arguments of `polybpe.train` / `count`.
/// Every field is optional; unknown keys are errors, so a typo cannot silently fall back to a
/// default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Short name, used for the default output file name.
    pub name: Option<String>,
    pub description: Option<String>,

    // Counting.
    /// `pleias-rag` (default) or `none`.
    pub special_tokens: Option<String>,
    /// Extra special tokens after the preset.
    pub extra_special_tokens: Option<Vec<String>>,
    /// Number of `<|reserved_N|>` placeholders after the specials.
    pub reserved: Option<usize>,
    /// A pattern name (`default`, `gpt2`, `cl100k`, `o200k`) or a regex.
    pub pattern: Option<String>,
    /// `nfc` (default), `none` or `nfkc`.
    pub normalization: Option<String>,
    pub max_words: Option<usize>,

    // Reading.
    pub doc_per_file: Option<bool>,
    pub skip_invalid: Option<bool>,
    /// JSONL field / Parquet column of the text (default `text`).
    pub text_field: Option<String>,
    /// JSONL field / Parquet column of the language (default `language`).
    pub lang_field: Option<String>,
    /// Language of a file's documents when records carry none, by file name, stem or path.
    pub lang: Option<BTreeMap<String, String>>,
    /// Input files or directories (or `hf://` Hub corpora), relative to the corpus directory
    /// when one is given, else to `data_root`.
    pub inputs: Option<Vec<RecipeInput>>,
    /// Where a recipe's relative paths point when no corpus directory is given: its `inputs`,
    /// and always its `[parity] dev`. Relative to the recipe file's folder; default: that
    /// folder.
    pub data_root: Option<PathBuf>,
    /// Languages to keep: `{ TAG = [LABEL, …] }`; a document whose language (record field or
    /// file language) is one of the labels, compared without case, is kept as TAG, any other
    /// dropped. For corpora such as Common Corpus that label records `English`, `French`, ….
    pub keep_languages: Option<BTreeMap<String, Vec<String>>>,
    /// Bytes of text taken per language, in reading order (a Hub corpus is fetched only that
    /// far).
    pub max_bytes_per_lang: Option<u64>,
    /// Hub sources used instead of the local inputs and dev set when those are absent.
    pub fallback: Option<FallbackTable>,
    /// The folder of the recipe file this layer was loaded from (set by [`Recipe::load`]).
    #[serde(skip)]
    pub recipe_dir: Option<PathBuf>,

    // Merging.
    pub vocab_size: Option<usize>,
    pub min_frequency: Option<u64>,
    pub max_token_bytes: Option<usize>,
    /// Language weighting.
    pub balance: Option<BalanceTable>,
    /// Parity-aware merge selection.
    pub parity: Option<ParityTable>,
    /// Superword merges start after this many merges (an integer) or this share of them (a
    /// number between 0 and 1).
    pub superword_transition: Option<Transition>,
    /// The stage-2 split: `superbpe` (default) or a regex.
    pub superword_pattern: Option<String>,
    /// Most words a superword token may span (default 4).
    pub max_superword_words: Option<usize>,

    // Scoring.
    /// Directory of `<lang>.txt` text never trained on, scored after training (relative to the
    /// data root, like `dev`).
    pub heldout: Option<PathBuf>,
    /// Lines of the held-out files to score: `"FIRST:LAST"`, 1-based inclusive.
    pub heldout_lines: Option<String>,
}

/// `[balance]`: how much each language's counts weigh.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceTable {
    /// `proportional`, `uniform`, `temperature` or `temperature=ALPHA`.
    pub weighting: Option<String>,
    /// The exponent of `temperature` (default 0.3).
    pub temperature: Option<f64>,
    /// Multipliers of language shares.
    pub weights: Option<BTreeMap<String, f64>>,
}

/// `[parity]`: parity-aware merge selection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParityTable {
    /// Directory of line-aligned `<lang>.txt` dev files, relative to the recipe's data root
    /// (never to the corpus).
    pub dev: Option<PathBuf>,
    /// Lines of the dev files to use: `"FIRST:LAST"`, 1-based inclusive.
    pub dev_lines: Option<String>,
    /// Target bytes/token per language without dev text.
    pub ratio: Option<BTreeMap<String, f64>>,
    /// Dev languages trained on but not balanced.
    pub exclude: Option<Vec<String>>,
    pub global_merges: Option<usize>,
    pub tolerance: Option<f64>,
    pub window: Option<usize>,
    pub alpha: Option<f64>,
    /// Soft selection: weigh each language's counts by cost^strength.
    pub strength: Option<f64>,
    pub reweight_every: Option<usize>,
    /// Byte-premium ratio targets: dev languages are balanced by a bytes/token target on their
    /// training text, this reference times their mean bytes per dev line over the mean.
    pub byte_premium: Option<f64>,
}

/// `[fallback]`: where a recipe's text comes from on a machine without its local sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackTable {
    /// The Hub corpus (`hf://datasets/…`) read instead of the inputs.
    pub corpus: PathBuf,
    /// Its language labels to keep, as the top-level `keep_languages`.
    pub keep_languages: BTreeMap<String, Vec<String>>,
    /// Text bytes taken per language from it.
    pub max_bytes_per_lang: u64,
    /// A Hub parallel set (`hf://datasets/…`) read instead of `[parity] dev`.
    pub dev: Option<PathBuf>,
    /// `{ TAG = FOLDER }`: the folder of the parallel set holding each language's lines.
    pub dev_languages: Option<BTreeMap<String, String>>,
}

/// A recipe switched to its `[fallback]` sources: what [`Recipe::fall_back`] tells the user.
#[derive(Clone, Debug, PartialEq)]
pub struct FallbackUse {
    /// The local input found absent.
    pub missing: PathBuf,
    pub corpus: PathBuf,
    pub max_bytes_per_lang: u64,
    pub languages: Vec<String>,
    /// The Hub parallel set and its folder per language, when the dev set comes from it.
    pub dev: Option<(PathBuf, BTreeMap<String, String>)>,
}

impl std::fmt::Display for FallbackUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is absent: training on {} (at most {:.1} MB of text for each of {})",
            self.missing.display(),
            self.corpus.display(),
            self.max_bytes_per_lang as f64 / 1e6,
            self.languages.join(", ")
        )?;
        if let Some((dev, folders)) = &self.dev {
            write!(f, ", parity dev lines from {} ({} languages)", dev.display(), folders.len())?;
        }
        Ok(())
    }
}

/// One input of a recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeInput {
    /// Path relative to the corpus directory (or the data root), or an `hf://` Hub corpus.
    pub path: PathBuf,
    /// Language of the file's documents when records carry none (default: the file stem).
    pub lang: Option<String>,
}

/// What [`Recipe::resolve`] gives: the settings, and what to read with which options.
#[derive(Clone, Debug)]
pub struct TrainPlan {
    pub settings: TrainSettings,
    /// Files or directories to count (empty when the caller brings its own text or counts).
    pub inputs: Vec<PathBuf>,
    pub corpus: CorpusOptions,
    /// Text never trained on, scored after training.
    pub heldout: Option<HeldOut>,
}

impl TrainPlan {
    /// The plan as JSON (`vocab train --dry-run`, `polybpe.resolve_settings`): equal plans
    /// print equal text.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "settings": self.settings.to_json(),
            "inputs": self.inputs,
            "doc_per_file": self.corpus.doc_per_file,
            "skip_invalid": self.corpus.skip_invalid,
            "lang": self.corpus.lang_map,
            "text_field": self.corpus.text_field_name(),
            "lang_field": self.corpus.lang_field_name(),
            "keep_languages": self.corpus.keep_languages,
            "max_bytes_per_lang": self.corpus.max_bytes_per_lang,
            "heldout": self.heldout.as_ref().map(|h| serde_json::json!({
                "dir": h.dir,
                "lines": h.lines.map(|r| format!("{}:{}", r.first, r.last.map_or(String::new(), |l| l.to_string()))),
            })),
        })
    }
}

/// Takes `top` where it is set, else `base`.
fn pick<T>(base: &mut Option<T>, top: Option<T>) {
    if top.is_some() {
        *base = top;
    }
}

impl Recipe {
    /// Reads and parses a recipe; errors name the file and the offending key or line.
    pub fn load(path: &Path) -> Result<Recipe> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let recipe = Recipe::parse(&text).map_err(|e| Error::format(path, e.to_string()))?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Ok(Recipe { recipe_dir: Some(dir.to_path_buf()), ..recipe })
    }

    /// The folder relative recipe paths point to when no corpus directory is given: `data_root`
    /// under the recipe's folder (each as set; the working directory for a recipe not read
    /// from a file).
    pub fn data_root(&self) -> PathBuf {
        let dir = self.recipe_dir.clone().unwrap_or_default();
        match &self.data_root {
            Some(root) => dir.join(root),
            None => dir,
        }
    }

    /// Parses recipe text; errors name the offending key or line.
    pub fn parse(text: &str) -> Result<Recipe> {
        toml::from_str(text).map_err(|e| Error::config(e.to_string().trim_end().to_string()))
    }

    /// With no corpus directory given (`corpus` empty) and the first of its local inputs
    /// absent, this recipe reading its `[fallback]` Hub sources instead: the Hub corpus with
    /// its language labels and byte budget replaces the inputs, and the Hub parallel set (to be
    /// fetched into a folder, see [`crate::corpus::hub::fetch_parallel`]) the dev set; the
    /// `[parity] ratio` targets of languages the Hub corpus lacks are dropped. Settings the
    /// recipe sets itself (flags) keep precedence over the table's. `None` when the local
    /// sample is there or there is no fallback.
    pub fn fall_back(&self, corpus: &[PathBuf]) -> Option<(Recipe, FallbackUse)> {
        let fallback = self.fallback.as_ref()?;
        let first = self.inputs.as_ref()?.first()?;
        if !corpus.is_empty() || is_hub_spec(&first.path) {
            return None;
        }
        let missing = self.data_root().join(&first.path);
        if missing.exists() {
            return None;
        }
        let mut recipe = self.clone();
        recipe.inputs = Some(vec![RecipeInput { path: fallback.corpus.clone(), lang: None }]);
        recipe.keep_languages.get_or_insert_with(|| fallback.keep_languages.clone());
        recipe.max_bytes_per_lang.get_or_insert(fallback.max_bytes_per_lang);
        let languages: Vec<String> = recipe.keep_languages.iter().flatten().map(|(tag, _)| tag.clone()).collect();
        let dev = fallback.dev.clone().zip(fallback.dev_languages.clone());
        if let Some(parity) = &mut recipe.parity {
            if let Some(ratio) = &mut parity.ratio {
                ratio.retain(|lang, _| languages.contains(lang));
            }
        }
        let notice = FallbackUse {
            missing,
            corpus: fallback.corpus.clone(),
            max_bytes_per_lang: recipe.max_bytes_per_lang.unwrap_or(fallback.max_bytes_per_lang),
            languages,
            dev,
        };
        Some((recipe, notice))
    }

    /// Drops the `[balance]` and `[parity]` tables (`--no-balance`).
    pub fn without_balance(mut self) -> Recipe {
        self.balance = None;
        self.parity = None;
        self
    }

    /// This layer with `top` over it: each setting `top` sets replaces this one's; a list or
    /// map replaces the whole list or map; a weighting replaces its temperature too (the two
    /// are one setting). A layer that is not a recipe file (flags, keyword arguments) gives
    /// its relative paths from the working directory, so over a recipe they are made absolute
    /// before the recipe's data root could claim them.
    pub fn overlay(mut self, mut top: Recipe) -> Recipe {
        if top.recipe_dir.is_none() && self.recipe_dir.is_some() {
            top.anchor_paths_at_working_dir();
        }
        pick(&mut self.name, top.name);
        pick(&mut self.description, top.description);
        pick(&mut self.special_tokens, top.special_tokens);
        pick(&mut self.extra_special_tokens, top.extra_special_tokens);
        pick(&mut self.reserved, top.reserved);
        pick(&mut self.pattern, top.pattern);
        pick(&mut self.normalization, top.normalization);
        pick(&mut self.max_words, top.max_words);
        pick(&mut self.doc_per_file, top.doc_per_file);
        pick(&mut self.skip_invalid, top.skip_invalid);
        pick(&mut self.text_field, top.text_field);
        pick(&mut self.lang_field, top.lang_field);
        match (&mut self.lang, top.lang) {
            (Some(base), Some(top)) => base.extend(top),
            (base, top) => pick(base, top),
        }
        pick(&mut self.inputs, top.inputs);
        pick(&mut self.data_root, top.data_root);
        pick(&mut self.keep_languages, top.keep_languages);
        pick(&mut self.max_bytes_per_lang, top.max_bytes_per_lang);
        pick(&mut self.fallback, top.fallback);
        pick(&mut self.recipe_dir, top.recipe_dir);
        pick(&mut self.vocab_size, top.vocab_size);
        pick(&mut self.min_frequency, top.min_frequency);
        pick(&mut self.max_token_bytes, top.max_token_bytes);
        pick(&mut self.superword_transition, top.superword_transition);
        pick(&mut self.superword_pattern, top.superword_pattern);
        pick(&mut self.max_superword_words, top.max_superword_words);
        pick(&mut self.heldout, top.heldout);
        pick(&mut self.heldout_lines, top.heldout_lines);
        self.balance = match (self.balance, top.balance) {
            (Some(mut base), Some(top)) => {
                if top.weighting.is_some() {
                    base.temperature = None;
                }
                pick(&mut base.weighting, top.weighting);
                pick(&mut base.temperature, top.temperature);
                pick(&mut base.weights, top.weights);
                Some(base)
            }
            (base, top) => top.or(base),
        };
        self.parity = match (self.parity, top.parity) {
            (Some(mut base), Some(top)) => {
                pick(&mut base.dev, top.dev);
                pick(&mut base.dev_lines, top.dev_lines);
                pick(&mut base.ratio, top.ratio);
                pick(&mut base.exclude, top.exclude);
                pick(&mut base.global_merges, top.global_merges);
                pick(&mut base.tolerance, top.tolerance);
                pick(&mut base.window, top.window);
                pick(&mut base.alpha, top.alpha);
                pick(&mut base.strength, top.strength);
                pick(&mut base.reweight_every, top.reweight_every);
                pick(&mut base.byte_premium, top.byte_premium);
                Some(base)
            }
            (base, top) => top.or(base),
        };
        self
    }

    /// The special tokens asked for, defaults applied: preset, extra tokens, reserved count.
    fn special_token_request(&self) -> Result<(SpecialPreset, &[String], usize)> {
        let preset = SpecialPreset::parse(self.special_tokens.as_deref().unwrap_or(DEFAULT_SPECIAL_PRESET))?;
        Ok((preset, self.extra_special_tokens.as_deref().unwrap_or_default(), self.reserved.unwrap_or(0)))
    }

    /// The counting settings with defaults applied (what `vocab count` and `polybpe.count`
    /// need: no merge settings).
    pub fn count_settings(&self) -> Result<CountSettings> {
        let (preset, extra, reserved) = self.special_token_request()?;
        Ok(CountSettings {
            normalization: Normalization::parse(self.normalization.as_deref().unwrap_or(Normalization::Nfc.name()))?,
            pattern: Pattern::parse(self.pattern.as_deref().unwrap_or("default")),
            special_tokens: special_token_list(preset, extra, reserved)?,
            max_piece_bytes: Some(MAX_PIECE_BYTES as u64),
            max_words: self.max_words,
        })
    }

    /// The merge settings with defaults applied; a relative dev directory is taken relative
    /// to the recipe's [`Recipe::data_root`], never to the corpus.
    pub fn merge_settings(&self) -> Result<MergeSettings> {
        let root = self.data_root();
        Ok(MergeSettings {
            vocab_size: self.vocab_size.unwrap_or(DEFAULT_VOCAB_SIZE),
            min_frequency: self.min_frequency.unwrap_or(DEFAULT_MIN_FREQUENCY),
            max_token_bytes: self.max_token_bytes,
            weights: self.weights()?,
            parity: self.parity.as_ref().map(|p| p.resolve(&root)).transpose()?,
            superword: self.superword()?,
        })
    }

    fn superword(&self) -> Result<Option<SuperwordConfig>> {
        let Some(transition) = self.superword_transition else {
            if self.superword_pattern.is_some() {
                return Err(Error::config("superword_pattern is set without superword_transition"));
            }
            if self.max_superword_words.is_some() {
                return Err(Error::config("max_superword_words is set without superword_transition"));
            }
            return Ok(None);
        };
        Ok(Some(SuperwordConfig {
            transition,
            pattern: SuperwordPattern::parse(self.superword_pattern.as_deref().unwrap_or("superbpe")),
            max_words: self.max_superword_words.unwrap_or(DEFAULT_MAX_SUPERWORD_WORDS),
        }))
    }

    fn weights(&self) -> Result<LanguageWeights> {
        let Some(balance) = &self.balance else { return Ok(LanguageWeights::default()) };
        let weighting = match (balance.weighting.as_deref(), balance.temperature) {
            (Some(name), temperature) => match (Weighting::parse(name)?, temperature) {
                (Weighting::Temperature(_), Some(alpha)) => Weighting::Temperature(alpha),
                (_, Some(_)) => return Err(Error::config(format!("[balance] temperature is set, but weighting is {name:?}"))),
                (weighting, None) => weighting,
            },
            (None, Some(_)) => return Err(Error::config("[balance] temperature is set without weighting = \"temperature\"")),
            (None, None) => Weighting::Proportional,
        };
        let multipliers = balance.weights.clone().unwrap_or_default().into_iter().collect();
        Ok(LanguageWeights { weighting, multipliers })
    }

    /// Applies the defaults and path rules: the settings, the inputs and how to read them.
    ///
    /// Path rules: a recipe's relative `inputs` are relative to the one corpus directory
    /// `corpus` names, or to [`Recipe::data_root`] when `corpus` is empty; its parity `dev` is
    /// relative to the data root. An `hf://` path is taken as is. Without inputs, `corpus`
    /// lists the files or directories to read.
    pub fn resolve(&self, corpus: &[PathBuf]) -> Result<TrainPlan> {
        let mut lang_map = self.lang.clone().unwrap_or_default();
        let inputs = match self.inputs.as_deref() {
            None | Some([]) => corpus.to_vec(),
            Some(listed) => {
                let base = match corpus {
                    [] => self.data_root(),
                    [dir] => dir.clone(),
                    _ => {
                        return Err(Error::config(
                            "with a recipe that lists inputs, give one corpus directory (--corpus; inputs are relative to it) or none (inputs are relative to the recipe's data_root)",
                        ))
                    }
                };
                listed
                    .iter()
                    .map(|input| {
                        let path = if is_hub_spec(&input.path) { input.path.clone() } else { base.join(&input.path) };
                        if let Some(lang) = &input.lang {
                            lang_map.insert(path.display().to_string(), lang.clone());
                        }
                        path
                    })
                    .collect()
            }
        };
        // The merge settings and the room for special tokens first: checking them costs nothing,
        // while the special tokens are built (a million `reserved` placeholders took a second)
        // only when they fit.
        let merge = self.merge_settings()?;
        let (preset, extra, reserved) = self.special_token_request()?;
        merge.check_room(special_token_count(preset, extra, reserved))?;
        let settings = TrainSettings { count: self.count_settings()?, merge };
        let heldout = self.heldout()?;
        let corpus = CorpusOptions {
            doc_per_file: self.doc_per_file.unwrap_or(false),
            skip_invalid: self.skip_invalid.unwrap_or(false),
            lang_map,
            text_field: self.text_field.clone().unwrap_or_default(),
            lang_field: self.lang_field.clone().unwrap_or_default(),
            keep_languages: self.keep_languages.clone().unwrap_or_default(),
            max_bytes_per_lang: self.max_bytes_per_lang,
        };
        if corpus.max_bytes_per_lang == Some(0) {
            return Err(Error::config("max_bytes_per_lang is 0: it must take at least one byte per language"));
        }
        if let Some((tag, _)) = corpus.keep_languages.iter().find(|(_, labels)| labels.is_empty()) {
            return Err(Error::config(format!("keep_languages: {tag:?} lists no label")));
        }
        Ok(TrainPlan { settings, inputs, corpus, heldout })
    }

    /// Makes this layer's relative local paths (data root, dev set, held-out text) absolute
    /// from the working directory; Hub paths stay as they are.
    fn anchor_paths_at_working_dir(&mut self) {
        let anchor = |path: &mut PathBuf| {
            if path.is_relative() && !is_hub_spec(path) {
                if let Ok(absolute) = std::path::absolute(&*path) {
                    *path = absolute;
                }
            }
        };
        self.data_root.iter_mut().for_each(anchor);
        self.heldout.iter_mut().for_each(anchor);
        if let Some(parity) = &mut self.parity {
            parity.dev.iter_mut().for_each(anchor);
        }
    }

    /// The held-out text, relative to the data root like the dev directory.
    fn heldout(&self) -> Result<Option<HeldOut>> {
        let lines = self.heldout_lines.as_deref().map(LineRange::parse).transpose()?;
        let Some(dir) = &self.heldout else {
            if lines.is_some() {
                return Err(Error::config("heldout_lines is set without a held-out directory (recipe heldout, flag --heldout DIR, Python heldout=)"));
            }
            return Ok(None);
        };
        let dir = if dir.is_relative() { self.data_root().join(dir) } else { dir.clone() };
        Ok(Some(HeldOut { dir, lines }))
    }
}

/// Whether a recipe path is a Hub path (`hf://…`), which no folder is joined to.
fn is_hub_spec(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with("hf://"))
}

impl ParityTable {
    fn resolve(&self, data_root: &Path) -> Result<ParityConfig> {
        if self.alpha.is_some() && self.window.is_none() {
            return Err(Error::config("parity alpha needs a window (parity window W)"));
        }
        let dev = self.dev.clone().map(|dev| if dev.is_relative() && !is_hub_spec(&dev) { data_root.join(dev) } else { dev });
        Ok(ParityConfig {
            dev,
            dev_lines: self.dev_lines.as_deref().map(LineRange::parse).transpose()?,
            ratio: self.ratio.clone().unwrap_or_default().into_iter().collect(),
            exclude: self.exclude.clone().unwrap_or_default(),
            global_merges: self.global_merges.unwrap_or(0),
            tolerance: self.tolerance,
            window: self.window.map(|size| Window { size, alpha: self.alpha.unwrap_or(DEFAULT_WINDOW_ALPHA) }),
            strength: self.strength,
            reweight_every: self.reweight_every.unwrap_or(0),
            byte_premium: self.byte_premium,
        })
    }
}

mod normalization_name {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Normalization, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(value.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Normalization, D::Error> {
        let name = String::deserialize(d)?;
        Normalization::parse(&name).map_err(serde::de::Error::custom)
    }
}

mod pattern_regex {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Pattern, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(value.regex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Pattern, D::Error> {
        Ok(Pattern::from_regex(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(recipe: &str, corpus: &[&str]) -> Result<TrainPlan> {
        Recipe::parse(recipe)?.resolve(&corpus.iter().map(PathBuf::from).collect::<Vec<_>>())
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Recipe::parse("vocab_sise = 10").unwrap_err().to_string();
        assert!(err.contains("vocab_sise"), "{err}");
        let err = Recipe::parse("[[inputs]]\npath = \"a\"\nlanguage = \"fr\"").unwrap_err().to_string();
        assert!(err.contains("language"), "{err}");
    }

    #[test]
    fn defaults_are_applied_once() {
        let plan = plan("", &["c"]).unwrap();
        assert_eq!(plan.settings.merge.vocab_size, DEFAULT_VOCAB_SIZE);
        assert_eq!(plan.settings.count.special_tokens.len(), 41);
        assert_eq!(plan.settings.count.pattern, Pattern::Default);
        assert_eq!(plan.inputs, [PathBuf::from("c")]);
        plan.settings.validate().unwrap();
    }

    #[test]
    fn flags_override_the_recipe_and_lists_replace_whole() {
        let base = Recipe::parse("vocab_size = 1000\n[balance]\nweighting = \"temperature\"\ntemperature = 0.5\nweights = { la = 2.0, code = 0.5 }\n[parity]\ndev = \"dev\"\nstrength = 8.0").unwrap();
        let flags = Recipe {
            vocab_size: Some(2000),
            balance: Some(BalanceTable { weighting: Some("uniform".into()), weights: Some([("fr".to_string(), 3.0)].into()), ..Default::default() }),
            parity: Some(ParityTable { strength: Some(2.0), ..Default::default() }),
            ..Default::default()
        };
        let settings = base.overlay(flags).resolve(&[PathBuf::from("corpus")]).unwrap().settings;
        assert_eq!(settings.merge.vocab_size, 2000);
        // The flag's weighting replaces the recipe's temperature with it.
        assert_eq!(settings.merge.weights.weighting, Weighting::Uniform);
        assert_eq!(settings.merge.weights.multipliers, [("fr".to_string(), 3.0)]);
        let parity = settings.merge.parity.unwrap();
        assert_eq!(parity.strength, Some(2.0));
        // The recipe's dev directory is relative to its data root, never to the corpus.
        assert_eq!(parity.dev, Some(PathBuf::from("dev")));
    }

    #[test]
    fn flag_paths_over_a_recipe_file_stay_relative_to_the_working_directory() {
        let recipe = Recipe { recipe_dir: Some(PathBuf::from("recipes")), ..Recipe::parse("data_root = \"data\"\n[parity]\ndev = \"dev\"").unwrap() };
        let own = recipe.clone().merge_settings().unwrap();
        assert_eq!(own.parity.unwrap().dev, Some(PathBuf::from("recipes/data/dev")));
        let flags = Recipe {
            parity: Some(ParityTable { dev: Some("mine/dev".into()), ..Default::default() }),
            heldout: Some("mine/heldout".into()),
            ..Default::default()
        };
        let plan = recipe.overlay(flags).resolve(&[PathBuf::from("corpus")]).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(plan.settings.merge.parity.unwrap().dev, Some(cwd.join("mine/dev")));
        assert_eq!(plan.heldout.unwrap().dir, cwd.join("mine/heldout"));
    }

    #[test]
    fn recipe_paths_resolve_against_the_recipe_folder_or_its_data_root() {
        let dir = tempfile::tempdir().unwrap();
        let recipes = dir.path().join("recipes");
        std::fs::create_dir_all(&recipes).unwrap();
        let path = recipes.join("r.toml");
        let text = "data_root = \"../data\"\n[parity]\ndev = \"parallel\"\n[[inputs]]\npath = \"train/fr.txt\"\n[[inputs]]\npath = \"hf://datasets/o/n\"\n";
        std::fs::write(&path, text).unwrap();
        let recipe = Recipe::load(&path).unwrap();
        let root = recipes.join("../data");
        let plan = recipe.resolve(&[]).unwrap();
        assert_eq!(plan.inputs, [root.join("train/fr.txt"), PathBuf::from("hf://datasets/o/n")]);
        assert_eq!(plan.settings.merge.parity.as_ref().unwrap().dev, Some(root.join("parallel")));
        // A corpus directory moves the inputs, not the dev set.
        let plan = recipe.resolve(&[PathBuf::from("mine")]).unwrap();
        assert_eq!(plan.inputs, [PathBuf::from("mine/train/fr.txt"), PathBuf::from("hf://datasets/o/n")]);
        assert_eq!(plan.settings.merge.parity.unwrap().dev, Some(root.join("parallel")));
        // Without data_root, the recipe's own folder.
        std::fs::write(&path, "[parity]\ndev = \"d\"\n").unwrap();
        let plan = Recipe::load(&path).unwrap().resolve(&[]).unwrap();
        assert_eq!(plan.settings.merge.parity.unwrap().dev, Some(recipes.join("d")));
    }

    #[test]
    fn language_selection_and_budget_are_reading_settings() {
        let resolved = plan("max_bytes_per_lang = 1000\nkeep_languages = { en = [\"English\", \"en\"] }", &["c"]).unwrap();
        assert_eq!(resolved.corpus.max_bytes_per_lang, Some(1000));
        assert_eq!(resolved.corpus.keep_languages.get("en").unwrap(), &["English", "en"]);
        let json = resolved.to_json();
        assert_eq!(json["max_bytes_per_lang"], 1000);
        let flags = Recipe { max_bytes_per_lang: Some(5), ..Default::default() };
        let over = Recipe::parse("max_bytes_per_lang = 1000").unwrap().overlay(flags).resolve(&[]).unwrap();
        assert_eq!(over.corpus.max_bytes_per_lang, Some(5));
        let err = plan("max_bytes_per_lang = 0", &["c"]).unwrap_err().to_string();
        assert!(err.contains("max_bytes_per_lang is 0"), "{err}");
        let err = plan("keep_languages = { en = [] }", &["c"]).unwrap_err().to_string();
        assert!(err.contains("keep_languages") && err.contains("\"en\""), "{err}");
    }

    #[test]
    fn temperature_needs_a_temperature_weighting() {
        let err = plan("[balance]\nweighting = \"uniform\"\ntemperature = 0.3", &[]).unwrap_err().to_string();
        assert!(err.contains("temperature is set"), "{err}");
        let err = plan("[balance]\ntemperature = 0.3", &[]).unwrap_err().to_string();
        assert!(err.contains("temperature is set"), "{err}");
        let ok = plan("[balance]\nweighting = \"temperature\"\ntemperature = 0.7", &[]).unwrap();
        assert_eq!(ok.settings.merge.weights.weighting, Weighting::Temperature(0.7));
    }

    #[test]
    fn degenerate_settings_are_errors() {
        for (recipe, expected) in [
            ("pattern = \"\"", "pattern is empty"),
            ("max_words = 0", "max_words is 0"),
            ("max_token_bytes = 1", "max_token_bytes is 1"),
            ("vocab_size = 100", "vocab size 100 is too small"),
            // Checked before a million placeholders are built, and before the other errors of
            // the recipe (the fuzz target met this one taking a second per input).
            ("vocab_size = 4096\nreserved = 981998\n[balance]\nweighting = \"temperature\"", "must hold 982039 special tokens"),
            ("vocab_size = 4096\nreserved = 981998\n[balance]\nweighting = \"teture\"", "unknown weighting \"teture\""),
            ("[parity]\nstrength = 2.0", "needs a dev set"),
            ("[parity]\nalpha = 2.0\ndev = \"d\"", "alpha needs a window"),
            ("superword_transition = 1.5", "superword_transition 1.5"),
            ("vocab_size = 1000\nsuperword_transition = 703", "superword_transition 703 leaves no merges"),
            ("superword_transition = 0.8\nmax_superword_words = 1", "max_superword_words is 1"),
            ("superword_transition = 0.8\nsuperword_pattern = \"(?<\"", "superword_pattern"),
            ("superword_pattern = \"superbpe\"", "superword_pattern is set without superword_transition"),
            ("max_superword_words = 3", "max_superword_words is set without superword_transition"),
        ] {
            let err = plan(recipe, &["c"]).and_then(|p| p.settings.validate()).unwrap_err().to_string();
            assert!(err.contains(expected), "{recipe}: {err}");
        }
    }

    #[test]
    fn superword_keys_resolve_and_print_only_when_set() {
        let plain = plan("vocab_size = 1000", &["c"]).unwrap().to_json();
        assert!(plain["settings"]["merge"].get("superword").is_none(), "{plain}");
        let recipe = Recipe::parse("vocab_size = 1000\nsuperword_transition = 0.75").unwrap();
        let flags = Recipe { max_superword_words: Some(3), ..Default::default() };
        let resolved = recipe.overlay(flags).resolve(&[PathBuf::from("c")]).unwrap();
        resolved.settings.validate().unwrap();
        let superword = resolved.settings.merge.superword.clone().unwrap();
        assert_eq!(superword, SuperwordConfig { transition: Transition::Share(0.75), pattern: SuperwordPattern::SuperBpe, max_words: 3 });
        let json = resolved.to_json();
        assert_eq!(json["settings"]["merge"]["superword"], serde_json::json!({"transition": 0.75, "pattern": "superbpe", "max_words": 3}));
        let merges = plan("superword_transition = 500\nsuperword_pattern = \"\\\\s+\"", &["c"]).unwrap().settings.merge.superword.unwrap();
        assert_eq!((merges.transition, merges.pattern), (Transition::Merges(500), SuperwordPattern::Custom(r"\s+".into())));
    }

    #[test]
    fn inputs_need_one_corpus_directory_and_carry_their_language() {
        let recipe = "[[inputs]]\npath = \"a.txt\"\nlang = \"fr\"";
        let err = plan(recipe, &["x", "y"]).unwrap_err().to_string();
        assert!(err.contains("one corpus directory"), "{err}");
        let plan = plan(recipe, &["x"]).unwrap();
        assert_eq!(plan.inputs, [PathBuf::from("x/a.txt")]);
        assert_eq!(plan.corpus.lang_map.get("x/a.txt").map(String::as_str), Some("fr"));
    }

    /// The count-file header is the counting settings serialized; the field order and names
    /// are those count files have always had.
    #[test]
    fn count_settings_serialize_as_count_file_headers() {
        let settings = CountSettings { special_tokens: vec!["<s>".into()], ..CountSettings::default() };
        let json = serde_json::to_string(&settings).unwrap();
        assert!(json.starts_with("{\"normalization\":\"nfc\",\"pattern\":\""), "{json}");
        assert!(json.ends_with(",\"special_tokens\":[\"<s>\"],\"max_piece_bytes\":256}"), "{json}");
        let back: CountSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, settings);
    }

    #[test]
    fn shipped_recipes_resolve() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vocab/recipes");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let recipe = Recipe::load(&path).unwrap();
                assert!(recipe.vocab_size.is_some(), "{}", path.display());
                recipe.resolve(&[PathBuf::from("corpus")]).unwrap().settings.validate().unwrap();
                n += 1;
            }
        }
        assert!(n >= 1);
    }
}
