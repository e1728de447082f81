//! Pre-tokenization: cutting normalized text into the pieces that BPE works inside.
//!
//! A piece never merges with its neighbours, so the split pattern decides what a token can span.
//! polybpe's own tokenizers use one regex ([`Pattern`]); imported `tokenizer.json` files may chain
//! several HF pre-tokenizers ([`PreTokenizer`] with [`Stage`]s), applied one after the other to
//! every piece, exactly as the `tokenizers` library does.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use fancy_regex::Regex;

use crate::{Error, Result};

mod parallel;
mod scanner;

pub use parallel::PieceRuns;
pub(crate) use parallel::PART_BYTES;
pub use scanner::BuiltinScanner;

/// GPT-2's pattern as HF writes it (used by `ByteLevel(use_regex=true)`).
pub const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// GPT-4's cl100k pattern in the greedy spelling HF ports use (same splits as tiktoken's).
pub const CL100K_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// GPT-4o's o200k pattern.
pub const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
);

/// Qwen2's pattern: cl100k's with single digits (`\p{N}` instead of `\p{N}{1,3}`).
pub const QWEN2_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen 3.5's pattern: Qwen2's with combining marks inside words (`[\p{L}\p{M}]+`, and out of
/// the punctuation runs). polybpe's default differs from it only by its elision rule.
pub const QWEN35_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// polybpe's default pattern, made for European languages, historical text and code.
///
/// Branches, tried in order at each position:
/// 1. **Elision**: a word ending in an apostrophe (`'` or `’`) that is directly followed by a
///    letter, unless what follows is an English contraction: `l'`, `d’`, `dell'`, `qu'`,
///    `aujourd'`. French and Italian articles stay their own tokens instead of gluing an
///    apostrophe to every noun (cl100k makes `'homme`, `'arte`).
/// 2. **English contractions** `'s 't 're 've 'm 'll 'd` (both apostrophes), only at the end of
///    a word, so `'sun'` is not cut into `'s` + `un`. Case is spelled out rather than written
///    `(?i)`, because case folding would also match `ſ` (it folds to `s`).
/// 3. **Words**: letters *and combining marks* (`\p{M}`: decomposed or historical diacritics such
///    as U+0364 stay inside the word), with one optional leading non-letter, non-digit character
///    (usually the space).
/// 4. **Digits one at a time**: numbers are spelled digit by digit, which keeps arithmetic
///    regular; the compression cost is measured in `vocab/REPORT.md`.
/// 5. Punctuation runs with an optional leading space, then newlines, then other whitespace
///    (a run of spaces leaves its last space to the next word, which keeps code indentation
///    cheap).
///
/// The letter runs sit in atomic groups: they cannot end in an apostrophe, so backtracking into
/// them could never succeed, and without it a megabyte-long word is scanned in linear time.
pub const DEFAULT_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?(?>[\p{L}\p{M}]+)['’](?=[\p{L}\p{M}])(?!(?:[sdmtSDMT]|ll|ve|re|LL|VE|RE)(?![\p{L}\p{M}]))",
    r"|['’](?:[sdmtSDMT]|ll|ve|re|LL|VE|RE)(?![\p{L}\p{M}])",
    r"|[^\r\n\p{L}\p{N}]?(?>[\p{L}\p{M}]+)",
    r"|\p{N}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*",
    r"|\s*[\r\n]+",
    r"|\s+(?!\S)",
    r"|\s+"
);

/// A split pattern chosen by name or given as a regex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// [`DEFAULT_PATTERN`].
    Default,
    /// [`GPT2_PATTERN`].
    Gpt2,
    /// [`CL100K_PATTERN`].
    Cl100k,
    /// [`O200K_PATTERN`].
    O200k,
    /// [`QWEN2_PATTERN`].
    Qwen2,
    /// [`QWEN35_PATTERN`].
    Qwen35,
    /// Any regex fancy-regex (and, for export, Oniguruma) accepts.
    Custom(String),
}

impl Pattern {
    /// Every built-in pattern.
    pub const BUILTIN: [Pattern; 6] =
        [Pattern::Default, Pattern::Gpt2, Pattern::Cl100k, Pattern::O200k, Pattern::Qwen2, Pattern::Qwen35];

    /// Parses a built-in name, or takes the text as a regex.
    ///
    /// `llama3` and `gpt4o` are other names of `cl100k` and `o200k`: Llama 3's and GPT-4o's
    /// tokenizer.json files spell their regexes exactly as those two are spelt here.
    pub fn parse(text: &str) -> Self {
        match text {
            "default" | "polybpe" => Pattern::Default,
            "gpt2" => Pattern::Gpt2,
            "cl100k" | "llama3" => Pattern::Cl100k,
            "o200k" | "gpt4o" => Pattern::O200k,
            "qwen2" => Pattern::Qwen2,
            "qwen35" => Pattern::Qwen35,
            regex => Pattern::from_regex(regex),
        }
    }

    /// Recognizes the regex of a built-in pattern, so imported files get the same name back.
    pub fn from_regex(regex: &str) -> Self {
        Pattern::BUILTIN.into_iter().find(|p| p.regex() == regex).unwrap_or_else(|| Pattern::Custom(regex.to_string()))
    }

    /// The regex source.
    pub fn regex(&self) -> &str {
        match self {
            Pattern::Default => DEFAULT_PATTERN,
            Pattern::Gpt2 => GPT2_PATTERN,
            Pattern::Cl100k => CL100K_PATTERN,
            Pattern::O200k => O200K_PATTERN,
            Pattern::Qwen2 => QWEN2_PATTERN,
            Pattern::Qwen35 => QWEN35_PATTERN,
            Pattern::Custom(regex) => regex,
        }
    }

    /// The short name (`default`, `gpt2`, …) or `custom`.
    pub fn name(&self) -> &str {
        match self {
            Pattern::Default => "default",
            Pattern::Gpt2 => "gpt2",
            Pattern::Cl100k => "cl100k",
            Pattern::O200k => "o200k",
            Pattern::Qwen2 => "qwen2",
            Pattern::Qwen35 => "qwen35",
            Pattern::Custom(_) => "custom",
        }
    }

    /// The `tokenizer.ggml.pre` name under which llama.cpp splits text with this pattern, if it
    /// has one.
    ///
    /// llama.cpp does not run a tokenizer's regex: it knows a fixed list of pre-tokenizers,
    /// written by hand in `src/llama-vocab.cpp` and `src/unicode.cpp`. `gpt-2`, `llama-bpe`,
    /// `qwen2` and `qwen35` have hand-written splitters that follow these regexes (tested against
    /// llama.cpp in `tests/llama_cpp`); `gpt-4o` runs an adapted regex through `std::regex`.
    pub fn llama_cpp_pre(&self) -> Option<&'static str> {
        match self {
            Pattern::Gpt2 => Some("gpt-2"),
            Pattern::Cl100k => Some("llama-bpe"),
            Pattern::O200k => Some("gpt-4o"),
            Pattern::Qwen2 => Some("qwen2"),
            Pattern::Qwen35 => Some("qwen35"),
            Pattern::Default | Pattern::Custom(_) => None,
        }
    }

    /// The closest pattern llama.cpp runs, to suggest when this one has no llama.cpp name:
    /// `qwen35` for polybpe's default (the same splits except for elided articles such as `l'`).
    pub fn nearest_llama_cpp(&self) -> Pattern {
        match self {
            p if p.llama_cpp_pre().is_some() => p.clone(),
            _ => Pattern::Qwen35,
        }
    }
}

/// What HF's `Split` does with the matches (`SplitDelimiterBehavior`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitBehavior {
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

impl SplitBehavior {
    /// Parses the HF name (`"Isolated"`, …).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "Removed" => SplitBehavior::Removed,
            "Isolated" => SplitBehavior::Isolated,
            "MergedWithPrevious" => SplitBehavior::MergedWithPrevious,
            "MergedWithNext" => SplitBehavior::MergedWithNext,
            "Contiguous" => SplitBehavior::Contiguous,
            _ => return None,
        })
    }

    /// The HF name.
    pub fn name(self) -> &'static str {
        match self {
            SplitBehavior::Removed => "Removed",
            SplitBehavior::Isolated => "Isolated",
            SplitBehavior::MergedWithPrevious => "MergedWithPrevious",
            SplitBehavior::MergedWithNext => "MergedWithNext",
            SplitBehavior::Contiguous => "Contiguous",
        }
    }
}

/// One pre-tokenization step.
#[derive(Clone, Debug)]
pub enum Stage {
    /// HF `Split` with a regex.
    Regex { regex: Regex, behavior: SplitBehavior, invert: bool },
    /// A `Split` whose regex is one of the built-in patterns, cut by the hand-written
    /// [`BuiltinScanner`] (same pieces, several times faster than the regex VM).
    ///
    /// [`PreTokenizer::from_pattern`] and [`PreTokenizer::from_stages`] make this from a
    /// [`Stage::Regex`] whose regex is, character for character, a built-in pattern and whose
    /// `behavior`/`invert` keep exactly the matches as pieces (see [`Stage::with_scanner`]).
    /// `regex`, `behavior` and `invert` are those of the original stage.
    Builtin { scanner: BuiltinScanner, regex: Regex, behavior: SplitBehavior, invert: bool },
    /// HF `Digits`: runs of numeric characters (or each one) become their own pieces.
    Digits { individual: bool },
    /// HF `Punctuation`: each punctuation character is a delimiter.
    Punctuation { behavior: SplitBehavior },
}

/// A chain of [`Stage`]s, plus HF `ByteLevel`'s `add_prefix_space`.
#[derive(Clone, Debug)]
pub struct PreTokenizer {
    stages: Vec<Stage>,
    /// Prepend a space to text that does not start with one (GPT-2 style "Ġword" at the start).
    add_prefix_space: bool,
    /// The pattern when the chain is exactly one isolating regex (polybpe's own tokenizers).
    pattern: Option<Pattern>,
    /// HF `Metaspace` (SentencePiece-style files), applied before the stages.
    metaspace: Option<Metaspace>,
}

/// HF's `Metaspace` pre-tokenizer: spaces become `replacement` (`▁`), and one is put in front
/// of the text that does not start with it, as `prepend` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metaspace {
    pub replacement: char,
    pub prepend: PrependScheme,
}

/// When [`Metaspace`] prepends its replacement character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrependScheme {
    /// To every text segment.
    Always,
    /// Only to the segment at the very start of the input (not after an added token).
    First,
    /// Never.
    Never,
}

/// Compiles a regex with an error that names it.
///
/// The built-in patterns are compiled once per process and shared (a [`Regex`] clone shares the
/// compiled program): compiling one costs 1-4 ms (release build; a shared copy costs under 10 µs),
/// and settings validation, every loaded tokenizer.json that spells a built-in pattern and every
/// trainer would otherwise each pay it again (the fuzzed recipe check went from 440 to 8,300
/// inputs/s).
pub fn compile(pattern: &str) -> Result<Regex> {
    match BuiltinScanner::for_regex(pattern) {
        Some(builtin) => Ok(compiled_builtin(builtin).clone()),
        None => compile_uncached(pattern),
    }
}

fn compile_uncached(pattern: &str) -> Result<Regex> {
    fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(10_000_000)
        .build()
        .map_err(|e| Error::config(format!("invalid split pattern `{pattern}`: {e}")))
}

/// The shared compiled regex of a built-in pattern.
fn compiled_builtin(builtin: BuiltinScanner) -> &'static Regex {
    static COMPILED: [OnceLock<Regex>; BuiltinScanner::ALL.len()] = [const { OnceLock::new() }; BuiltinScanner::ALL.len()];
    let index = BuiltinScanner::ALL.iter().position(|&b| b == builtin).expect("ALL lists every scanner");
    COMPILED[index].get_or_init(|| compile_uncached(builtin.regex()).expect("the built-in patterns compile"))
}

impl PreTokenizer {
    /// The usual shape: one regex whose matches are the pieces.
    ///
    /// The four built-in patterns are cut by their [`BuiltinScanner`]s.
    pub fn from_pattern(pattern: Pattern) -> Result<Self> {
        Ok(Self::from_pattern_regex_only(pattern)?.with_scanners())
    }

    /// Like [`from_pattern`](Self::from_pattern), but always running the regex (fancy-regex),
    /// even for the built-in patterns: the reference the scanners are tested and timed against.
    pub fn from_pattern_regex_only(pattern: Pattern) -> Result<Self> {
        let regex = compile(pattern.regex())?;
        Ok(PreTokenizer {
            stages: vec![Stage::Regex { regex, behavior: SplitBehavior::Isolated, invert: false }],
            add_prefix_space: false,
            pattern: Some(pattern),
            metaspace: None,
        })
    }

    /// A general chain (for imported files). Stages with a built-in pattern use its scanner.
    pub fn from_stages(stages: Vec<Stage>, add_prefix_space: bool) -> Self {
        Self::from_stages_regex_only(stages, add_prefix_space).with_scanners()
    }

    /// Like [`from_stages`](Self::from_stages), but every split runs its regex
    /// ([`Stage::Builtin`] stages are turned back into [`Stage::Regex`]).
    pub fn from_stages_regex_only(stages: Vec<Stage>, add_prefix_space: bool) -> Self {
        let stages: Vec<Stage> = stages.into_iter().map(Stage::regex_only).collect();
        let pattern = match stages.as_slice() {
            [Stage::Regex { regex, behavior: SplitBehavior::Isolated, invert: false }] if !add_prefix_space => {
                Some(Pattern::from_regex(regex.as_str()))
            }
            _ => None,
        };
        PreTokenizer { stages, add_prefix_space, pattern, metaspace: None }
    }

    /// Adds a [`Metaspace`] step in front of the stages.
    pub fn with_metaspace(mut self, metaspace: Metaspace) -> Self {
        self.metaspace = Some(metaspace);
        self.pattern = None;
        self
    }

    /// The [`Metaspace`] step, if any.
    pub fn metaspace(&self) -> Option<Metaspace> {
        self.metaspace
    }

    /// Switches every stage that can use a [`BuiltinScanner`] to it (the pieces do not change).
    pub fn with_scanners(mut self) -> Self {
        self.stages = self.stages.into_iter().map(Stage::with_scanner).collect();
        self
    }

    /// Switches every stage back to its regex (the pieces do not change).
    pub fn regex_only(mut self) -> Self {
        self.stages = self.stages.into_iter().map(Stage::regex_only).collect();
        self
    }

    /// Whether some stage runs a hand-written scanner instead of its regex.
    pub fn uses_scanner(&self) -> bool {
        self.stages.iter().any(|s| matches!(s, Stage::Builtin { .. }))
    }

    /// The single isolating pattern, when the chain is just that.
    pub fn pattern(&self) -> Option<&Pattern> {
        self.pattern.as_ref()
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Whether a space is prepended to each text.
    pub fn add_prefix_space(&self) -> bool {
        self.add_prefix_space
    }

    /// Applies `add_prefix_space` (or [`Metaspace`]) to text at the start of the input; split
    /// the returned text.
    pub fn prepare<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.prepare_segment(text, true)
    }

    /// Whether [`Self::prepare`] returns `text` as it is (told without making the copy).
    pub(crate) fn prepares_as_is(&self, text: &str) -> bool {
        self.metaspace.is_none() && (!self.add_prefix_space || text.starts_with(' '))
    }

    /// Like [`Self::prepare`], for a segment of the input (between added tokens) that starts at
    /// the beginning of the input or not.
    pub fn prepare_segment<'a>(&self, text: &'a str, at_start: bool) -> Cow<'a, str> {
        if let Some(Metaspace { replacement, prepend }) = self.metaspace {
            let mut out = text.replace(' ', replacement.encode_utf8(&mut [0; 4]));
            let wanted = match prepend {
                PrependScheme::Always => true,
                PrependScheme::First => at_start,
                PrependScheme::Never => false,
            };
            if wanted && !out.starts_with(replacement) {
                out.insert(0, replacement);
            }
            return Cow::Owned(out);
        }
        if self.add_prefix_space && !text.starts_with(' ') {
            Cow::Owned(format!(" {text}"))
        } else {
            Cow::Borrowed(text)
        }
    }

    /// Appends the byte ranges of the pieces of `text` to `out` (empty pieces are dropped).
    pub fn split_ranges(&self, text: &str, out: &mut Vec<Range<usize>>) -> Result<()> {
        self.split_ranges_at(text, 0, out)
    }

    /// Like [`Self::split_ranges`], with the ranges shifted by `offset`: those of a text that
    /// starts at `offset` of a larger buffer.
    pub fn split_ranges_at(&self, text: &str, offset: usize, out: &mut Vec<Range<usize>>) -> Result<()> {
        if let [Stage::Builtin { scanner, .. }] = self.stages.as_slice() {
            // The common case, without the intermediate buffers (the scanner makes no empty pieces).
            scanner.split(text, offset, out);
            return Ok(());
        }
        let start = out.len();
        out.push(0..text.len());
        let mut next = Vec::new();
        for stage in &self.stages {
            next.clear();
            for range in out.drain(start..) {
                stage.split(text, range, &mut next)?;
            }
            out.append(&mut next);
        }
        let mut kept = start;
        for i in start..out.len() {
            let range = out[i].clone();
            if !range.is_empty() {
                out[kept] = range.start + offset..range.end + offset;
                kept += 1;
            }
        }
        out.truncate(kept);
        Ok(())
    }

    /// Appends the ranges of the pieces of `text` from the piece boundary `from`, stopping at
    /// the first boundary at least `window` bytes further (a built-in pattern's scan resumes
    /// there exactly, see [`BuiltinScanner::split_until`]; other pre-tokenizers split the whole
    /// text when `from` is 0), and returns where the pieces appended end.
    pub fn split_ranges_from(&self, text: &str, from: usize, window: usize, out: &mut Vec<Range<usize>>) -> Result<usize> {
        if let [Stage::Builtin { scanner, .. }] = self.stages.as_slice() {
            return Ok(from + scanner.split_until(&text[from..], from, window, out));
        }
        debug_assert_eq!(from, 0, "only a built-in scan resumes inside a text");
        self.split_ranges(text, out)?;
        Ok(text.len())
    }

    /// The pieces of `text` from the piece boundary `from` (the ranges of
    /// [`Self::split_ranges`]) in runs, up to the first boundary past about `section` bytes,
    /// which is returned with them. A text of one built-in pattern longer than a part is split
    /// on every thread of the current rayon pool (see [`parallel`]); other pre-tokenizers
    /// split the whole text when `from` is 0.
    pub fn split_in_parallel(&self, text: &str, from: usize, section: usize) -> Result<(PieceRuns, usize)> {
        match self.stages.as_slice() {
            [Stage::Builtin { scanner, .. }] if text.len() - from > PART_BYTES => {
                Ok(scanner.split_section_in_parts(text, from, from.saturating_add(section), PART_BYTES))
            }
            _ => {
                let mut ranges = Vec::new();
                let end = self.split_ranges_from(text, from, usize::MAX, &mut ranges)?;
                Ok((PieceRuns::one(ranges), end))
            }
        }
    }

    /// The pieces of `text` as string slices (convenience for tests and tools).
    pub fn split<'a>(&self, text: &'a str) -> Result<Vec<&'a str>> {
        let mut ranges = Vec::new();
        self.split_ranges(text, &mut ranges)?;
        Ok(ranges.into_iter().map(|r| &text[r]).collect())
    }
}

impl Stage {
    /// This stage with its regex run by a [`BuiltinScanner`] when that gives the same pieces:
    /// the regex is a built-in pattern, and `behavior`/`invert` keep each match as one piece.
    ///
    /// The built-in patterns match every character, so the spans of a split are all matches
    /// (all non-matches when inverted); `Isolated`, `MergedWithPrevious` and `MergedWithNext`
    /// then keep each one as a piece, and `Removed` does when inverted (OLMo's files use
    /// `Removed` + `invert`). `Contiguous` would glue them together, and `Removed` without
    /// `invert` would drop everything: those stay on the regex.
    pub fn with_scanner(self) -> Stage {
        match self {
            Stage::Regex { regex, behavior, invert } => {
                let keeps_matches = match behavior {
                    SplitBehavior::Isolated | SplitBehavior::MergedWithPrevious | SplitBehavior::MergedWithNext => true,
                    SplitBehavior::Removed => invert,
                    SplitBehavior::Contiguous => false,
                };
                match BuiltinScanner::for_regex(regex.as_str()) {
                    Some(scanner) if keeps_matches => Stage::Builtin { scanner, regex, behavior, invert },
                    _ => Stage::Regex { regex, behavior, invert },
                }
            }
            other => other,
        }
    }

    /// This stage with its regex run by fancy-regex (undoes [`with_scanner`](Self::with_scanner)).
    pub fn regex_only(self) -> Stage {
        match self {
            Stage::Builtin { regex, behavior, invert, .. } => Stage::Regex { regex, behavior, invert },
            other => other,
        }
    }

    /// Splits `text[range]` and appends the resulting absolute ranges to `out`.
    fn split(&self, text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) -> Result<()> {
        let piece = &text[range.clone()];
        let offset = range.start;
        if let Stage::Builtin { scanner, .. } = self {
            scanner.split(piece, offset, out);
            return Ok(());
        }
        let mut spans: Vec<(Range<usize>, bool)> = Vec::new();
        let (behavior, invert) = match self {
            Stage::Regex { regex, behavior, invert } => {
                let mut prev = 0;
                for found in regex.find_iter(piece) {
                    let m = found.map_err(|e| {
                        Error::config(format!("split pattern failed on a piece of {} bytes: {e}", piece.len()))
                    })?;
                    if m.start() > prev {
                        spans.push((prev..m.start(), false));
                    }
                    spans.push((m.start()..m.end(), true));
                    prev = m.end();
                }
                if prev < piece.len() {
                    spans.push((prev..piece.len(), false));
                }
                (*behavior, *invert)
            }
            Stage::Digits { individual } => {
                // HF splits on ASCII digits only: `⅝` or `٣` stay with their neighbours.
                char_spans(piece, |c| c.is_ascii_digit(), &mut spans);
                if *individual {
                    (SplitBehavior::Isolated, false)
                } else {
                    (SplitBehavior::Contiguous, false)
                }
            }
            Stage::Punctuation { behavior } => {
                char_spans(piece, is_punctuation, &mut spans);
                (*behavior, false)
            }
            Stage::Builtin { .. } => unreachable!("handled above"),
        };
        if invert {
            for span in &mut spans {
                span.1 = !span.1;
            }
        }
        for span in apply_behavior(spans, behavior) {
            out.push(span.start + offset..span.end + offset);
        }
        Ok(())
    }
}

/// One span per character matching `is_match`, gaps between them as non-matches (how HF's
/// char-predicate patterns report matches).
fn char_spans(piece: &str, is_match: impl Fn(char) -> bool, spans: &mut Vec<(Range<usize>, bool)>) {
    let mut gap_start = 0;
    for (i, c) in piece.char_indices() {
        if is_match(c) {
            if i > gap_start {
                spans.push((gap_start..i, false));
            }
            spans.push((i..i + c.len_utf8(), true));
            gap_start = i + c.len_utf8();
        }
    }
    if gap_start < piece.len() {
        spans.push((gap_start..piece.len(), false));
    }
}

/// HF's `is_punc`: ASCII punctuation or a Unicode punctuation category.
fn is_punctuation(c: char) -> bool {
    static PUNCT: OnceLock<regex_lite_punct::Punct> = OnceLock::new();
    c.is_ascii_punctuation() || PUNCT.get_or_init(regex_lite_punct::Punct::new).is_match(c)
}

/// Unicode general category P* through fancy-regex (which wraps the `regex` crate's tables).
mod regex_lite_punct {
    pub struct Punct(fancy_regex::Regex);
    impl Punct {
        pub fn new() -> Self {
            Punct(fancy_regex::Regex::new(r"^\p{P}$").expect("static regex"))
        }
        pub fn is_match(&self, c: char) -> bool {
            let mut buf = [0u8; 4];
            self.0.is_match(c.encode_utf8(&mut buf)).unwrap_or(false)
        }
    }
}

/// HF's `SplitDelimiterBehavior` applied to match/non-match spans.
fn apply_behavior(spans: Vec<(Range<usize>, bool)>, behavior: SplitBehavior) -> Vec<Range<usize>> {
    match behavior {
        SplitBehavior::Isolated => spans.into_iter().map(|(r, _)| r).collect(),
        SplitBehavior::Removed => spans.into_iter().filter(|(_, m)| !m).map(|(r, _)| r).collect(),
        SplitBehavior::MergedWithPrevious => {
            let mut acc: Vec<Range<usize>> = Vec::new();
            let mut previous_match = false;
            for (r, is_match) in spans {
                match acc.last_mut() {
                    Some(last) if is_match && !previous_match => last.end = r.end,
                    _ => acc.push(r),
                }
                previous_match = is_match;
            }
            acc
        }
        SplitBehavior::MergedWithNext => {
            let mut acc: Vec<Range<usize>> = Vec::new();
            let mut previous_match = false;
            for (r, is_match) in spans.into_iter().rev() {
                match acc.last_mut() {
                    Some(last) if is_match && !previous_match => last.start = r.start,
                    _ => acc.push(r),
                }
                previous_match = is_match;
            }
            acc.reverse();
            acc
        }
        SplitBehavior::Contiguous => {
            let mut acc: Vec<Range<usize>> = Vec::new();
            let mut previous_match = false;
            for (r, is_match) in spans {
                match acc.last_mut() {
                    Some(last) if is_match == previous_match => last.end = r.end,
                    _ => acc.push(r),
                }
                previous_match = is_match;
            }
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(pattern: Pattern, text: &str) -> Vec<String> {
        let pre = PreTokenizer::from_pattern(pattern).unwrap();
        pre.split(text).unwrap().into_iter().map(str::to_string).collect()
    }

    #[test]
    fn default_pattern_keeps_elision_with_the_article() {
        assert_eq!(pieces(Pattern::Default, "l'homme d’État dell'arte"), ["l'", "homme", " d’", "État", " dell'", "arte"]);
        assert_eq!(pieces(Pattern::Default, "qu'il aujourd'hui"), ["qu'", "il", " aujourd'", "hui"]);
    }

    #[test]
    fn default_pattern_english_contractions() {
        assert_eq!(pieces(Pattern::Default, "don't we're John's"), ["don", "'t", " we", "'re", " John", "'s"]);
        assert_eq!(pieces(Pattern::Default, "the 'sun' DON’T"), ["the", " '", "sun", "'", " DON", "’T"]);
    }

    #[test]
    fn default_pattern_historical_and_marks() {
        assert_eq!(pieces(Pattern::Default, "ſouvent ſ'il"), ["ſouvent", " ſ'", "il"]);
        // U+0364 COMBINING LATIN SMALL LETTER E stays inside the word.
        assert_eq!(pieces(Pattern::Default, "Mu\u{364}ller sagt"), ["Mu\u{364}ller", " sagt"]);
    }

    #[test]
    fn default_pattern_digits_and_whitespace() {
        assert_eq!(pieces(Pattern::Default, "in 1789,"), ["in", " ", "1", "7", "8", "9", ","]);
        assert_eq!(pieces(Pattern::Default, "a\n\n    b  "), ["a", "\n\n", "   ", " b", "  "]);
    }

    #[test]
    fn cl100k_pattern_like_tiktoken() {
        assert_eq!(pieces(Pattern::Cl100k, "Hello world's 12345!!\n"), ["Hello", " world", "'s", " ", "123", "45", "!!\n"]);
    }

    #[test]
    fn qwen_patterns_spell_digits_singly_and_qwen35_keeps_marks_in_words() {
        assert_eq!(pieces(Pattern::Qwen2, "In 1789 l'homme"), ["In", " ", "1", "7", "8", "9", " l", "'homme"]);
        // Without `\p{M}` in words, the mark starts the next piece as its optional non-letter.
        assert_eq!(pieces(Pattern::Qwen2, "Mu\u{364}ller"), ["Mu", "\u{364}ller"]);
        assert_eq!(pieces(Pattern::Qwen35, "Mu\u{364}ller l'homme 42"), ["Mu\u{364}ller", " l", "'homme", " ", "4", "2"]);
    }

    #[test]
    fn pattern_names_and_llama_cpp_pre_tokenizers() {
        assert_eq!(Pattern::parse("llama3"), Pattern::Cl100k);
        assert_eq!(Pattern::parse("gpt4o"), Pattern::O200k);
        assert_eq!(Pattern::Cl100k.llama_cpp_pre(), Some("llama-bpe"));
        assert_eq!(Pattern::Qwen35.llama_cpp_pre(), Some("qwen35"));
        assert_eq!(Pattern::Default.llama_cpp_pre(), None);
        assert_eq!(Pattern::Default.nearest_llama_cpp(), Pattern::Qwen35);
        assert_eq!(Pattern::Qwen2.nearest_llama_cpp(), Pattern::Qwen2);
    }

    #[test]
    fn pieces_cover_the_text() {
        let text = "Le château d'Ørsted, 1789 — ſouvent!\r\n\tdef f(x):  return x ** 2 🎉";
        for p in Pattern::BUILTIN {
            assert_eq!(pieces(p, text).concat(), text);
        }
    }

    #[test]
    fn long_word_is_linear() {
        let text = "a".repeat(2_000_000);
        assert_eq!(pieces(Pattern::Default, &text).len(), 1);
    }

    #[test]
    fn behaviors_match_hf() {
        let spans = vec![(0..1, false), (1..2, true), (2..3, true), (3..5, false)];
        assert_eq!(apply_behavior(spans.clone(), SplitBehavior::Removed), vec![0..1, 3..5]);
        assert_eq!(apply_behavior(spans.clone(), SplitBehavior::MergedWithPrevious), vec![0..2, 2..3, 3..5]);
        assert_eq!(apply_behavior(spans.clone(), SplitBehavior::MergedWithNext), vec![0..1, 1..2, 2..5]);
        assert_eq!(apply_behavior(spans, SplitBehavior::Contiguous), vec![0..1, 1..3, 3..5]);
    }

    #[test]
    fn digits_and_punctuation_stages() {
        let pre = PreTokenizer::from_stages(vec![Stage::Digits { individual: false }], false);
        assert_eq!(pre.split("ab123c4").unwrap(), ["ab", "123", "c", "4"]);
        let pre = PreTokenizer::from_stages(vec![Stage::Punctuation { behavior: SplitBehavior::Contiguous }], false);
        assert_eq!(pre.split("a,.b—c").unwrap(), ["a", ",.", "b", "—", "c"]);
    }

    #[test]
    fn builtin_patterns_use_scanners_with_the_same_pieces() {
        let text = "Le château d'Ørsted, 1789 — ſouvent!\r\n\tdef f(x):  return x ** 2 🎉 it's  ";
        for p in [Pattern::Default, Pattern::Gpt2, Pattern::Cl100k, Pattern::O200k] {
            let fast = PreTokenizer::from_pattern(p.clone()).unwrap();
            let slow = PreTokenizer::from_pattern_regex_only(p.clone()).unwrap();
            assert!(fast.uses_scanner() && !slow.uses_scanner());
            assert_eq!(fast.pattern(), Some(&p));
            assert_eq!(slow.pattern(), Some(&p));
            assert_eq!(fast.split(text).unwrap(), slow.split(text).unwrap());
            assert!(!fast.clone().regex_only().uses_scanner());
            // A built-in regex given as a custom pattern gets its scanner too.
            assert!(PreTokenizer::from_pattern(Pattern::Custom(p.regex().to_string())).unwrap().uses_scanner());
        }
        assert!(!PreTokenizer::from_pattern(Pattern::Custom(r"\w+|\W+".into())).unwrap().uses_scanner());
    }

    #[test]
    fn scanner_stages_keep_every_behavior() {
        use SplitBehavior::*;
        let text = "Don't l'homme  1789!!\n\n  x 'sun'  ";
        for regex in [DEFAULT_PATTERN, GPT2_PATTERN, CL100K_PATTERN, O200K_PATTERN] {
            for behavior in [Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous] {
                for invert in [false, true] {
                    let stage = || Stage::Regex { regex: compile(regex).unwrap(), behavior, invert };
                    let chains = [vec![stage()], vec![Stage::Digits { individual: true }, stage()]];
                    for (chain, prefix) in chains.into_iter().zip([false, true]) {
                        let slow = PreTokenizer::from_stages_regex_only(chain.clone(), prefix);
                        let fast = PreTokenizer::from_stages(chain, prefix);
                        let expect_scanner = !(behavior == Contiguous || (behavior == Removed && !invert));
                        assert_eq!(fast.uses_scanner(), expect_scanner, "{behavior:?} invert={invert}");
                        assert_eq!(fast.pattern(), slow.pattern());
                        let prepared = fast.prepare(text);
                        assert_eq!(fast.split(&prepared).unwrap(), slow.split(&prepared).unwrap(), "{behavior:?} {invert}");
                    }
                }
            }
        }
        // OLMo's form.
        let olmo = PreTokenizer::from_stages(vec![Stage::Regex { regex: compile(O200K_PATTERN).unwrap(), behavior: Removed, invert: true }], false);
        assert!(olmo.uses_scanner());
        assert_eq!(olmo.pattern(), None);
    }

    #[test]
    fn bad_regex_is_an_error() {
        assert!(PreTokenizer::from_pattern(Pattern::Custom("(".into())).is_err());
    }

    #[test]
    fn pattern_names_round_trip() {
        for p in Pattern::BUILTIN {
            assert_eq!(Pattern::parse(p.name()), p);
            assert_eq!(Pattern::from_regex(p.regex()), p);
        }
    }
}
