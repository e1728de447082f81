//! Continued training: add merges learned on new text to an existing byte-level vocabulary,
//! keeping every existing id and merge (the request of HF tokenizers #879).
//!
//! The new text is counted with the base tokenizer's own normalization, split and special
//! tokens; each distinct word starts as the base tokenizer encodes it (applying the existing
//! merges in order is exactly where plain BPE training would stand after them), and the merge
//! loop continues from there. New tokens take the ids after the highest existing one, so a
//! model trained with the base vocabulary keeps every embedding row meaning what it meant.

use crate::bpe::{BpeModel, TokenId};
use crate::train::count::WordCounts;
use crate::train::merge::{self, MergeInput, MergeLimits};
use crate::train::{count_files_with, Counted, TrainObserver, WordCounter};
use crate::{Error, Result, Tokenizer};

/// A counter that splits text as `base` does, for the text to extend it with.
pub fn counter_for(base: &Tokenizer) -> Result<WordCounter> {
    check_extendable(base)?;
    let specials: Vec<&str> = base.added_tokens().iter().map(|t| t.content.as_str()).collect();
    Ok(WordCounter::new(base.normalization(), base.pre_tokenizer().clone(), &specials))
}

fn check_extendable(base: &Tokenizer) -> Result<()> {
    if base.model().is_char_level() {
        return Err(Error::config("only byte-level BPE vocabularies can be extended (this one is SentencePiece-style)"));
    }
    if !base.normalizer_steps().is_empty() {
        return Err(Error::config("this tokenizer has a normalizer chain polybpe does not count with; it cannot be extended"));
    }
    if !base.model().missing_bytes().is_empty() {
        return Err(Error::config(format!(
            "the base vocabulary lacks {} of the 256 byte tokens; it cannot be extended",
            base.model().missing_bytes().len()
        )));
    }
    Ok(())
}

/// Counts the text at `paths` as `base` splits it (the training API's corpus driver with
/// the base tokenizer's counter).
pub fn count_corpus_for(
    base: &Tokenizer,
    paths: &[std::path::PathBuf],
    options: &crate::corpus::CorpusOptions,
    observer: &dyn TrainObserver,
) -> Result<Counted> {
    count_files_with(counter_for(base)?, paths, options, observer)
}

/// What extending did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtendSummary {
    /// Merges added (a merge may spell an existing token and add no id).
    pub merges: usize,
    /// New token ids.
    pub new_tokens: usize,
    /// The first new id.
    pub first_new_id: TokenId,
}

/// Adds up to `add` new tokens to `base`, learned on `counts` (counted with [`counter_for`]).
pub fn extend(base: &Tokenizer, counts: &WordCounts, add: usize, min_frequency: u64, observer: &dyn TrainObserver) -> Result<(Tokenizer, ExtendSummary)> {
    check_extendable(base)?;
    let model = base.model();
    let end = model
        .tokens()
        .map(|(id, _)| id)
        .chain(base.added_tokens().iter().map(|t| t.id))
        .max()
        .map_or(0, |id| id as usize + 1);
    if end.saturating_add(add) > u32::MAX as usize {
        return Err(Error::config("the extended vocabulary would not fit 32-bit ids"));
    }
    // Ids without model bytes (added tokens outside the model) keep empty entries: no merge
    // can produce or use them.
    let mut table: Vec<Vec<u8>> = vec![Vec::new(); end];
    for (id, bytes) in model.tokens() {
        table[id as usize] = bytes.to_vec();
    }
    let mut input = MergeInput { weight_scale: 1, ..Default::default() };
    let mut ids = Vec::new();
    for (word, lang_counts) in &counts.words {
        ids.clear();
        model.encode_piece(word, &mut ids);
        input.words.push(ids.iter().copied());
        input.weights.push(WordCounts::total(lang_counts));
    }
    let limits = MergeLimits { max_new_tokens: add, min_frequency, max_token_bytes: None, max_token_words: None };
    let learned = merge::learn_merges(input, &mut table, limits, None, |done| observer.merging(done, add)).merges;
    let new_tokens = table.len() - end;
    // Old ids stay model tokens exactly where the base had one; every new id is one.
    let tokens: Vec<Option<Box<[u8]>>> = table
        .into_iter()
        .enumerate()
        .map(|(id, bytes)| (id >= end || model.token_bytes(id as TokenId).is_some()).then(|| bytes.into_boxed_slice()))
        .collect();
    let pairs: Vec<(TokenId, TokenId)> =
        model.merges().iter().map(|m| (m.left, m.right)).chain(learned.iter().map(|m| (m.left, m.right))).collect();
    let extended = BpeModel::new(tokens, &pairs, model.ignore_merges())?;
    let tokenizer = base.with_model(extended)?;
    Ok((tokenizer, ExtendSummary { merges: learned.len(), new_tokens, first_new_id: end as TokenId }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalization;
    use crate::pretokenize::{Pattern, PreTokenizer};
    use crate::train::{train_from_counts, CountSettings, MergeSettings, Silent, TrainSettings};

    fn counts_of(counter: WordCounter, text: &str) -> WordCounts {
        let mut counter = counter;
        counter.add_document("und", text).unwrap();
        counter.finish()
    }

    #[test]
    fn keeps_every_id_and_merge_and_learns_the_new_text() {
        let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &["<|x|>"]);
        counter.add_document("fr", &"le chat et le chien ".repeat(20)).unwrap();
        let config = TrainSettings { count: CountSettings { special_tokens: vec!["<|x|>".into()], ..Default::default() }, merge: MergeSettings { vocab_size: 1 + 256 + 12, ..Default::default() } };
        let (base, _) = train_from_counts(&counter.finish(), &config, &Silent).unwrap();

        let new_text = "Straßenbahnhaltestelle Straßenbahnhaltestelle ".repeat(10);
        let counts = counts_of(counter_for(&base).unwrap(), &new_text);
        let (extended, summary) = extend(&base, &counts, 8, 2, &Silent).unwrap();
        assert_eq!(summary.new_tokens, 8);
        assert_eq!(summary.first_new_id, base.vocab_size() as TokenId);
        assert_eq!(extended.vocab_size(), base.vocab_size() + 8);
        // Existing ids and merges are untouched.
        for (id, bytes) in base.model().tokens() {
            assert_eq!(extended.model().token_bytes(id), Some(bytes));
        }
        assert_eq!(&extended.model().merges()[..base.model().merges().len()], base.model().merges());
        assert_eq!(extended.token_to_id("<|x|>"), Some(0));
        // The new text costs fewer tokens, and round-trips.
        let before = base.encode(&new_text, crate::AllowedSpecial::None).unwrap().len();
        let after = extended.encode(&new_text, crate::AllowedSpecial::None).unwrap();
        assert!(after.len() < before, "{} vs {before}", after.len());
        assert_eq!(extended.decode(&after).unwrap(), new_text);
        // Text the base already covers encodes as before where no new merge applies.
        assert_eq!(
            extended.encode("le chat", crate::AllowedSpecial::None).unwrap(),
            base.encode("le chat", crate::AllowedSpecial::None).unwrap()
        );
    }
}
