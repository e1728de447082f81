//! Which languages are balanced, and by what: the merge loop counts every pair once per
//! balanced language (a "column") beside its weighted global count.

use super::weights::{LanguageWeights, ResolvedWeights, WEIGHT_ONE};
use super::ParityConfig;
use crate::train::count::WordCounts;
use crate::{Error, Result};

/// What a language is balanced by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// Token count of its dev text, compared with the other dev languages.
    Dev,
    /// Bytes per token on its training text.
    Ratio(f64),
    /// Counted (for soft selection, which weighs every language) but not balanced.
    Free,
}

/// A balanced language: one count column of the merge loop.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub lang: String,
    pub target: Target,
}

/// How the merge loop counts the languages of a corpus: each language's factor in the
/// weighted global counts, and the languages it counts apart, in columns.
#[derive(Clone, Debug)]
pub struct LanguageColumns {
    /// Per-language factors of the global counts.
    pub weights: ResolvedWeights,
    /// The columns, sorted by language code (none without parity settings).
    pub columns: Vec<Column>,
    /// The column of each corpus language (`None`: not counted apart).
    pub column_of: Vec<Option<u16>>,
    /// Each column's language factor, in the units of `weights`.
    pub column_factors: Vec<u64>,
}

impl LanguageColumns {
    /// Resolves the weights and the parity settings against the corpus `counts` and its counted
    /// dev text. Every language a setting names must be a language of the corpus.
    pub fn new(counts: &WordCounts, dev: Option<&WordCounts>, weights: &LanguageWeights, parity: Option<&ParityConfig>) -> Result<LanguageColumns> {
        let occurrences: Vec<u64> = counts.per_language.iter().map(|t| t.words).collect();
        let mut weights = weights.resolve(&counts.languages, &occurrences)?;
        let soft = parity.is_some_and(|p| p.strength.is_some());
        if soft && weights.scale == 1 {
            // Soft selection scales factors by fractional amounts: work in fixed point.
            weights.factors.iter_mut().for_each(|f| *f *= WEIGHT_ONE);
            weights.scale = WEIGHT_ONE;
        }
        let columns = match parity {
            Some(parity) => {
                let mut columns = balanced_columns(parity, &counts.languages, dev)?;
                if soft {
                    // Soft selection weighs every language: the unbalanced ones are free columns.
                    for lang in &counts.languages {
                        if !columns.iter().any(|c| &c.lang == lang) {
                            columns.push(Column { lang: lang.clone(), target: Target::Free });
                        }
                    }
                    columns.sort_by(|a, b| a.lang.cmp(&b.lang));
                }
                columns
            }
            None => Vec::new(),
        };
        let column_of = counts.languages.iter().map(|l| columns.iter().position(|c| &c.lang == l).map(|c| c as u16)).collect();
        let column_factors = columns
            .iter()
            .map(|c| counts.languages.iter().position(|l| l == &c.lang).map_or(0, |l| weights.factors[l]))
            .collect();
        Ok(LanguageColumns { weights, columns, column_of, column_factors })
    }
}

/// The balanced languages, sorted by code: dev languages (less the excluded ones) and ratio
/// languages. Every one must be a language of the corpus.
fn balanced_columns(parity: &ParityConfig, languages: &[String], dev: Option<&WordCounts>) -> Result<Vec<Column>> {
    if parity.dev.is_some() && dev.is_none() {
        return Err(Error::config("parity settings name a dev set, but no dev text was given (count it with count_dev)"));
    }
    let mut columns = Vec::new();
    let known = |lang: &str, what: &str| -> Result<()> {
        if languages.iter().any(|l| l == lang) {
            Ok(())
        } else {
            Err(Error::config(format!(
                "{what} language {lang:?} is not in the training corpus (it has {})",
                languages.join(", ")
            )))
        }
    };
    for lang in &parity.exclude {
        known(lang, "excluded")?;
    }
    if let Some(dev) = dev {
        let balanced: Vec<usize> = (0..dev.languages.len()).filter(|&l| !parity.exclude.contains(&dev.languages[l])).collect();
        let bytes_per_line = |l: usize| dev.per_language[l].bytes as f64 / dev.per_language[l].documents.max(1) as f64;
        let mean_bytes_per_line = balanced.iter().map(|&l| bytes_per_line(l)).sum::<f64>() / balanced.len().max(1) as f64;
        for l in balanced {
            let lang = &dev.languages[l];
            known(lang, "dev")?;
            let target = match parity.byte_premium {
                // The language's byte premium (its mean bytes per parallel line over the mean of
                // all) scales the reference: equal tokens per parallel line, balanced on the
                // training text without following the dev text.
                Some(reference) => Target::Ratio(reference * bytes_per_line(l) / mean_bytes_per_line.max(f64::MIN_POSITIVE)),
                None => Target::Dev,
            };
            columns.push(Column { lang: lang.clone(), target });
        }
    }
    for (lang, target) in &parity.ratio {
        known(lang, "ratio")?;
        if columns.iter().any(|c| &c.lang == lang) {
            return Err(Error::config(format!("language {lang:?} has both dev text and a ratio target: give it one")));
        }
        columns.push(Column { lang: lang.clone(), target: Target::Ratio(*target) });
    }
    if columns.is_empty() {
        return Err(Error::config("parity-aware training has no language to balance (all excluded?)"));
    }
    if columns.len() > u16::MAX as usize {
        return Err(Error::config("too many balanced languages"));
    }
    columns.sort_by(|a, b| a.lang.cmp(&b.lang));
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalization;
    use crate::pretokenize::{Pattern, PreTokenizer};
    use crate::train::WordCounter;

    fn counts(langs: &[&str]) -> WordCounts {
        let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &[] as &[&str]);
        for lang in langs {
            counter.add_document(lang, "some text here").unwrap();
        }
        counter.finish()
    }

    fn targets(columns: &LanguageColumns) -> Vec<(&str, Target)> {
        columns.columns.iter().map(|c| (c.lang.as_str(), c.target)).collect()
    }

    #[test]
    fn columns_of_dev_ratio_excluded_and_free_languages() {
        let corpus = counts(&["code", "en", "fr", "la"]);
        let dev = counts(&["fr", "en"]);
        let weights = LanguageWeights::default();
        let parity = ParityConfig { dev: Some("dev".into()), ratio: vec![("la".into(), 3.0)], ..ParityConfig::default() };
        let hard = LanguageColumns::new(&corpus, Some(&dev), &weights, Some(&parity)).unwrap();
        assert_eq!(targets(&hard), [("en", Target::Dev), ("fr", Target::Dev), ("la", Target::Ratio(3.0))]);
        assert_eq!(hard.column_of, [None, Some(0), Some(1), Some(2)]);
        assert_eq!((hard.weights.scale, &hard.column_factors[..]), (1, &[1, 1, 1][..]));
        // Soft selection counts every language (code as a free column), in fixed point.
        let soft = ParityConfig { strength: Some(8.0), ..parity.clone() };
        let soft = LanguageColumns::new(&corpus, Some(&dev), &weights, Some(&soft)).unwrap();
        assert_eq!(targets(&soft)[0], ("code", Target::Free));
        assert_eq!(soft.column_of, [Some(0), Some(1), Some(2), Some(3)]);
        assert_eq!((soft.weights.scale, soft.column_factors.clone()), (WEIGHT_ONE, vec![WEIGHT_ONE; 4]));
        // An excluded dev language is trained on, not balanced.
        let exclude = ParityConfig { exclude: vec!["fr".into()], ..parity.clone() };
        let exclude = LanguageColumns::new(&corpus, Some(&dev), &weights, Some(&exclude)).unwrap();
        assert_eq!(targets(&exclude), [("en", Target::Dev), ("la", Target::Ratio(3.0))]);
        let plain = LanguageColumns::new(&corpus, None, &weights, None).unwrap();
        assert!(plain.columns.is_empty() && plain.column_factors.is_empty());
        assert_eq!(plain.column_of, [None; 4]);
    }

    #[test]
    fn column_errors_name_the_language() {
        let corpus = counts(&["en", "fr"]);
        let dev = counts(&["en", "fr"]);
        let weights = LanguageWeights::default();
        let parity = ParityConfig { dev: Some("dev".into()), ..ParityConfig::default() };
        let err = |parity: ParityConfig, dev: Option<&WordCounts>| {
            LanguageColumns::new(&corpus, dev, &weights, Some(&parity)).unwrap_err().to_string()
        };
        assert!(err(parity.clone(), None).contains("no dev text was given"));
        let both = err(ParityConfig { ratio: vec![("en".into(), 3.0)], ..parity.clone() }, Some(&dev));
        assert!(both.contains("\"en\" has both dev text and a ratio target"), "{both}");
        let unknown = err(ParityConfig { exclude: vec!["xx".into()], ..parity.clone() }, Some(&dev));
        assert!(unknown.contains("excluded language \"xx\" is not in the training corpus (it has en, fr)"), "{unknown}");
        let all = err(ParityConfig { exclude: vec!["en".into(), "fr".into()], ..parity }, Some(&dev));
        assert!(all.contains("no language to balance"), "{all}");
    }
}
