//! Comparing tokenizers across languages: one [`Row`] per tokenizer × language, computed in
//! parallel, with the definitions of [`crate::metrics`].

use ahash::AHashSet;
use rayon::prelude::*;
use serde::Serialize;

use crate::bpe::TokenId;
use crate::metrics::{self, LanguageStats};
use crate::{Error, Result, Tokenizer};

/// The line-aligned `<lang>.txt` files `compare` measures on are read by the corpus module.
pub use crate::corpus::parallel::{read_language_dir, LanguageText};

/// The texts to measure on.
#[derive(Clone, Debug, Default)]
pub struct CompareInput {
    /// Line-aligned translations (every language has the same number of lines).
    pub parallel: Vec<LanguageText>,
    /// More text per language (not aligned): counted with the parallel lines in every column
    /// but parity.
    pub texts: Vec<LanguageText>,
    /// The language parity is measured against.
    pub reference: String,
}

impl CompareInput {
    /// Every language of the parallel text and the other texts, sorted, once each (a row per
    /// tokenizer and language).
    pub fn languages(&self) -> Vec<&str> {
        let mut langs: Vec<&str> = self.parallel.iter().chain(&self.texts).map(|t| t.lang.as_str()).collect();
        langs.sort_unstable();
        langs.dedup();
        langs
    }
}

/// One tokenizer on one language. Ratios are `None` where undefined (no words, no reference).
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub tokenizer: String,
    pub lang: String,
    pub lines: u64,
    pub tokens: u64,
    pub words: u64,
    pub chars: u64,
    pub bytes: u64,
    pub fertility: Option<f64>,
    pub chars_per_token: Option<f64>,
    pub bytes_per_token: Option<f64>,
    pub cont_words: Option<f64>,
    /// Tokens over the reference language's tokens on the parallel lines.
    pub parity: Option<f64>,
    pub parity_mean: Option<f64>,
    pub parity_median: Option<f64>,
    pub parity_p90: Option<f64>,
    pub renyi: Option<f64>,
    pub vocab_use: Option<f64>,
    /// Of the whole tokenizer (repeated on each of its rows): Gini of the per-language token
    /// totals on the parallel lines.
    pub gini: Option<f64>,
    /// Of the whole tokenizer: BPE tokens that occur in no language's text.
    pub unused_tokens: u64,
    /// Of the whole tokenizer: `|V|`, the BPE tokens (special tokens excluded).
    pub model_vocab: u64,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Measures every tokenizer on every language of `input`.
///
/// `progress` is called once per finished (tokenizer, language) pair, from worker threads.
pub fn compare(tokenizers: &[(&str, &Tokenizer)], input: &CompareInput, progress: &(dyn Fn() + Sync)) -> Result<Vec<Row>> {
    let lines = input.parallel.first().map_or(0, |t| t.lines.len());
    if let Some(odd) = input.parallel.iter().find(|t| t.lines.len() != lines) {
        return Err(Error::config(format!(
            "parallel text is not line-aligned: {} has {} lines, {} has {lines}",
            odd.lang,
            odd.lines.len(),
            input.parallel[0].lang
        )));
    }
    if !input.parallel.is_empty() && !input.parallel.iter().any(|t| t.lang == input.reference) {
        return Err(Error::config(format!("the reference language {:?} has no parallel text", input.reference)));
    }
    let langs = input.languages();
    if langs.is_empty() {
        return Err(Error::config("no text to measure: give parallel text or texts"));
    }
    // (tokenizer, language) → (parallel stats, other-text stats), all pairs in parallel.
    let jobs: Vec<(usize, &str)> = (0..tokenizers.len()).flat_map(|t| langs.iter().map(move |&l| (t, l))).collect();
    let measured: Vec<(LanguageStats, LanguageStats)> = jobs
        .par_iter()
        .map(|&(t, lang)| {
            let tok = tokenizers[t].1;
            let parallel = LanguageStats::measure(tok, &lines_of(&input.parallel, lang))?;
            let texts = LanguageStats::measure(tok, &lines_of(&input.texts, lang))?;
            progress();
            Ok((parallel, texts))
        })
        .collect::<Result<_>>()?;

    let mut rows = Vec::with_capacity(jobs.len());
    for (t, (name, tok)) in tokenizers.iter().enumerate() {
        let of_tokenizer = &measured[t * langs.len()..(t + 1) * langs.len()];
        let vocab = metrics::model_vocab(tok);
        let reference = langs.iter().position(|&l| l == input.reference).map(|i| &of_tokenizer[i].0);
        let parallel_totals: Vec<f64> =
            langs.iter().zip(of_tokenizer).filter(|(l, _)| input.parallel.iter().any(|p| p.lang == **l)).map(|(_, (p, _))| p.tokens as f64).collect();
        let gini = finite(metrics::gini(&parallel_totals));
        let special: AHashSet<TokenId> = tok.added_tokens().iter().map(|a| a.id).collect();
        let used: AHashSet<TokenId> = of_tokenizer
            .iter()
            .flat_map(|(p, x)| p.id_counts.keys().chain(x.id_counts.keys()).copied())
            .filter(|id| !special.contains(id))
            .collect();
        let unused = (vocab - used.len().min(vocab)) as u64;
        for (&lang, (parallel, texts)) in langs.iter().zip(of_tokenizer) {
            let all = merged(parallel, texts);
            let parity = match reference {
                Some(r) if parallel.lines > 0 => Some(metrics::parity(&parallel.line_tokens, &r.line_tokens)),
                _ => None,
            };
            rows.push(Row {
                tokenizer: name.to_string(),
                lang: lang.to_string(),
                lines: all.lines,
                tokens: all.tokens,
                words: all.words,
                chars: all.chars,
                bytes: all.bytes,
                fertility: finite(all.fertility()),
                chars_per_token: finite(all.chars_per_token()),
                bytes_per_token: finite(all.bytes_per_token()),
                cont_words: finite(all.continued_share()),
                parity: parity.and_then(|p| finite(p.total)),
                parity_mean: parity.and_then(|p| finite(p.mean)),
                parity_median: parity.and_then(|p| finite(p.median)),
                parity_p90: parity.and_then(|p| finite(p.p90)),
                renyi: finite(all.renyi_efficiency(vocab)),
                vocab_use: finite(all.vocab_use(vocab)),
                gini,
                unused_tokens: unused,
                model_vocab: vocab as u64,
            });
        }
    }
    Ok(rows)
}

/// The lines of `lang` in `set`.
fn lines_of<'a>(set: &'a [LanguageText], lang: &str) -> Vec<&'a str> {
    set.iter().filter(|x| x.lang == lang).flat_map(|x| x.lines.iter().map(String::as_str)).collect()
}

/// The counts of two disjoint sets of lines together (per-line tokens are not kept).
fn merged(a: &LanguageStats, b: &LanguageStats) -> LanguageStats {
    let mut id_counts = a.id_counts.clone();
    for (&id, &n) in &b.id_counts {
        *id_counts.entry(id).or_insert(0) += n;
    }
    LanguageStats {
        lines: a.lines + b.lines,
        tokens: a.tokens + b.tokens,
        words: a.words + b.words,
        chars: a.chars + b.chars,
        bytes: a.bytes + b.bytes,
        continued_words: a.continued_words + b.continued_words,
        encoded_words: a.encoded_words + b.encoded_words,
        line_tokens: Vec::new(),
        id_counts,
    }
}
