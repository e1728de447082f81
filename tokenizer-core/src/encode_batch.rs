//! Encoding many texts on all cores into one flat buffer of ids plus offsets.
//!
//! Texts are encoded in runs (a few dozen texts, see [`RUN_TEXTS`]) on the current rayon pool,
//! each run appending to one buffer of its own, and the runs are joined in input order: no
//! vector is allocated per text, and the result is the same at any thread count. Python's
//! `encode_batch` and the corpus encoder ([`crate::encode_corpus`]) both encode a run with
//! [`crate::Tokenizer::encode_texts_into`] (short texts together), each with its own rule for
//! special tokens and end-of-document ids; [`encode_flat`] takes a rule for one text.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::TokenId;

/// Texts a batch task encodes into one buffer: enough to make the buffer's growth and the
/// task's overhead negligible, few enough for rayon to balance 2 to 64 threads on a batch of
/// thousands. Measured with Python's `encode_batch` (`benches/RESULTS.md`, "Batch encoding
/// into one buffer per run of 64 texts"): 74–76 → 81 MB per CPU-second against a vector per
/// text.
const RUN_TEXTS: usize = 64;

/// Text after which a run ends even with fewer than [`RUN_TEXTS`] texts, so batches of a few
/// long documents (a corpus read one document per file) still spread over every thread: a
/// run this long takes about a millisecond to encode, far above a task's overhead. Not
/// measured on its own; runs of short texts (sentences, lines) end at [`RUN_TEXTS`] first.
const RUN_BYTES: usize = 64 << 10;

/// The text of a batch that could not be encoded: the first in input order, whatever the
/// number of threads.
#[derive(Debug, PartialEq, Eq)]
pub struct FailedText<E> {
    /// Its index in the batch.
    pub index: usize,
    pub error: E,
}

/// Encodes `texts` with `encode_one` (which appends the ids of one text to the buffer it is
/// given) on the current rayon pool, into the ids of every text concatenated in input order
/// and `texts.len() + 1` offsets from 0: text `i` is `ids[offsets[i]..offsets[i + 1]]`.
///
/// On failure, returns the error of the first text that failed in input order (see
/// [`encode_runs_with`]).
pub fn encode_flat<T, E>(
    texts: &[T],
    encode_one: impl Fn(&str, &mut Vec<TokenId>) -> Result<(), E> + Sync,
) -> Result<(Vec<TokenId>, Vec<usize>), FailedText<E>>
where
    T: AsRef<str> + Sync,
    E: Send,
{
    encode_flat_with(texts, one_at_a_time(encode_one))
}

/// [`encode_flat`] with `encode_run`, which encodes consecutive texts at once (see
/// [`encode_runs_with`]).
pub fn encode_flat_with<T, E>(texts: &[T], encode_run: impl RunEncoder<T, E>) -> Result<(Vec<TokenId>, Vec<usize>), FailedText<E>>
where
    T: AsRef<str> + Sync,
    E: Send,
{
    let runs = encode_runs_with(texts, encode_run)?;
    let mut flat = Vec::with_capacity(runs.iter().map(|run| run.ids.len()).sum());
    let mut offsets = Vec::with_capacity(texts.len() + 1);
    offsets.push(0);
    for run in runs {
        let base = flat.len();
        flat.extend_from_slice(&run.ids);
        offsets.extend(run.ends.into_iter().map(|end| base + end));
    }
    Ok((flat, offsets))
}

/// The ids of consecutive texts, concatenated.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EncodedRun {
    pub ids: Vec<TokenId>,
    /// Where each text ends in `ids`.
    pub ends: Vec<usize>,
}

/// Encodes consecutive texts: appends the ids of each of `texts` to `ids`, and where they end
/// to `ends`; on failure, returns the first failing text's index among `texts`. Such as
/// [`crate::Tokenizer::encode_texts_into`], which encodes short texts together.
pub trait RunEncoder<T, E>: Fn(&[T], &mut Vec<TokenId>, &mut Vec<usize>) -> Result<(), FailedText<E>> + Sync {}

impl<T, E, F> RunEncoder<T, E> for F where F: Fn(&[T], &mut Vec<TokenId>, &mut Vec<usize>) -> Result<(), FailedText<E>> + Sync {}

/// The [`RunEncoder`] that encodes each text alone with `encode_one`.
fn one_at_a_time<T: AsRef<str>, E>(
    encode_one: impl Fn(&str, &mut Vec<TokenId>) -> Result<(), E> + Sync,
) -> impl RunEncoder<T, E> {
    move |texts: &[T], ids: &mut Vec<TokenId>, ends: &mut Vec<usize>| {
        for (index, text) in texts.iter().enumerate() {
            encode_one(text.as_ref(), ids).map_err(|error| FailedText { index, error })?;
            ends.push(ids.len());
        }
        Ok(())
    }
}

/// Encodes `texts` as [`encode_flat_with`] does, leaving the ids in runs of consecutive texts
/// (in input order), for a caller that copies them elsewhere anyway: the corpus encoder
/// narrows them into its shard, and joining them first was a second serial copy of every id.
///
/// On failure, returns the error of the first text that failed in input order. Runs after a
/// run known to have failed are not encoded; runs before it are, since one of them may hold
/// an earlier failure.
pub fn encode_runs_with<T, E>(texts: &[T], encode_run: impl RunEncoder<T, E>) -> Result<Vec<EncodedRun>, FailedText<E>>
where
    T: AsRef<str> + Sync,
    E: Send,
{
    // The index of the first run seen to fail so far (not necessarily the first to fail).
    let failed_run = AtomicUsize::new(usize::MAX);
    let texts_alone = whole_texts_fill_the_threads(texts);
    let encoded: Vec<Run<E>> = runs(texts)
        .into_par_iter()
        .enumerate()
        .map(|(r, range)| {
            if failed_run.load(Ordering::Relaxed) < r {
                return Run::Skipped;
            }
            let start = range.start;
            let run = &texts[range];
            let mut ids = Vec::with_capacity(run.iter().map(|t| t.as_ref().len() / 3 + 1).sum());
            let mut ends = Vec::with_capacity(run.len());
            let mut encode = || encode_run(run, &mut ids, &mut ends);
            let encoded = if texts_alone { crate::tokenizer::on_this_thread(&mut encode) } else { encode() };
            match encoded {
                Ok(()) => Run::Encoded(EncodedRun { ids, ends }),
                Err(FailedText { index, error }) => {
                    failed_run.fetch_min(r, Ordering::Relaxed);
                    Run::Failed(FailedText { index: start + index, error })
                }
            }
        })
        .collect();
    encoded
        .into_iter()
        .map(|run| match run {
            Run::Encoded(run) => Ok(run),
            Run::Failed(failed) => Err(failed),
            Run::Skipped => unreachable!("a run is skipped only after an earlier run failed"),
        })
        .collect()
}

/// What one run of texts came to.
enum Run<E> {
    Encoded(EncodedRun),
    /// Its first text that failed.
    Failed(FailedText<E>),
    /// Not encoded: an earlier run failed.
    Skipped,
}

/// How many whole texts, at least, a thread of the pool has to encode before each long text of
/// a batch is encoded on one thread instead of on all (see [`whole_texts_fill_the_threads`]).
const WHOLE_TEXTS_PER_THREAD: usize = 2;

/// Whether `texts` keep every thread of the current pool busy with whole texts: the longest
/// holds at most `1 / (WHOLE_TEXTS_PER_THREAD · threads)` of the batch's bytes. Then each text
/// is encoded on the thread that took it. Spreading each long text over every thread as well
/// made the threads wait on each other: whole 1 MB documents, 11 per batch, 2 threads, ran at
/// 348–369 MB/s (OLMo-2) and 369–445 (Qwen) that way, 416–438 and 524–582 this way
/// (`benches/peers.py --docs files --columns arrays`). A batch of a few long texts still
/// spreads each over all threads.
fn whole_texts_fill_the_threads<T: AsRef<str>>(texts: &[T]) -> bool {
    let (total, longest) = texts.iter().fold((0, 0), |(total, longest), text| {
        let len = text.as_ref().len();
        (total + len, longest.max(len))
    });
    longest.saturating_mul(WHOLE_TEXTS_PER_THREAD * rayon::current_num_threads()) <= total
}

/// Consecutive runs covering `texts`: [`RUN_TEXTS`] texts each, or fewer once they hold
/// [`RUN_BYTES`] of text.
fn runs<T: AsRef<str>>(texts: &[T]) -> Vec<Range<usize>> {
    let mut runs = Vec::with_capacity(texts.len() / RUN_TEXTS + 1);
    let (mut start, mut bytes) = (0, 0);
    for (i, text) in texts.iter().enumerate() {
        bytes += text.as_ref().len();
        if i + 1 - start == RUN_TEXTS || bytes >= RUN_BYTES {
            runs.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < texts.len() {
        runs.push(start..texts.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpe::BpeModel;
    use crate::pretokenize::{Pattern, PreTokenizer};
    use crate::{AddedToken, AllowedSpecial, Disallowed, Normalization, Tokenizer};

    /// Bytes at ids 1..257 (id 0 is `<|end_of_text|>`), one merge `l`+`e`.
    fn tokenizer() -> Tokenizer {
        let mut tokens: Vec<Option<Box<[u8]>>> = vec![None];
        tokens.extend((0..=255u8).map(|b| Some(vec![b].into_boxed_slice())));
        tokens.push(Some(b"le".to_vec().into_boxed_slice()));
        let model = BpeModel::new(tokens, &[(b'l' as u32 + 1, b'e' as u32 + 1)], false).unwrap();
        let added = vec![AddedToken { id: 0, content: "<|end_of_text|>".into(), special: true }];
        Tokenizer::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), model, added).unwrap()
    }

    /// One text's ids, special-token text refused.
    fn strict(tok: &Tokenizer) -> impl Fn(&str, &mut Vec<TokenId>) -> crate::Result<()> + Sync + '_ {
        |text, ids| tok.encode_into(text, |_| false, Disallowed::Reject, ids)
    }

    /// The same rule, short texts encoded together ([`Tokenizer::encode_texts_into`]).
    fn strict_together<'t, T: AsRef<str>>(tok: &'t Tokenizer) -> impl RunEncoder<T, crate::Error> + 't {
        |texts: &[T], ids: &mut Vec<TokenId>, ends: &mut Vec<usize>| tok.encode_texts_into(texts, |_| false, Disallowed::Reject, None, ids, ends)
    }

    fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
    }

    /// Texts of every length from 0 to 199 characters, some over [`RUN_BYTES`], more than a few runs.
    fn texts() -> Vec<String> {
        (0..1000)
            .map(|i| match i % 97 {
                0 => String::new(),
                13 => "le château ".repeat(RUN_BYTES / 8),
                _ => format!("{i} le petit {} ", "é".repeat(i % 7)).repeat(i % 5),
            })
            .collect()
    }

    #[test]
    fn empty_batch_and_empty_texts() {
        let tok = tokenizer();
        let none: [&str; 0] = [];
        assert_eq!(encode_flat(&none, strict(&tok)).unwrap(), (vec![], vec![0]));
        assert_eq!(encode_flat(&["", "", ""], strict(&tok)).unwrap(), (vec![], vec![0, 0, 0, 0]));
        let (ids, offsets) = encode_flat(&["", "le", ""], strict(&tok)).unwrap();
        assert_eq!((ids, offsets), (vec![257], vec![0, 0, 1, 1]));
    }

    #[test]
    fn equals_encoding_each_text_alone_at_any_thread_count() {
        let tok = tokenizer();
        let texts = texts();
        assert!(runs(&texts).len() > 16 && runs(&texts).iter().any(|r| r.len() < RUN_TEXTS - 1), "several runs, some cut by length");
        let mut expected = (vec![], vec![0]);
        for text in &texts {
            expected.0.extend(tok.encode(text, AllowedSpecial::None).unwrap());
            expected.1.push(expected.0.len());
        }
        for threads in [1, 2, 4] {
            assert_eq!(on_threads(threads, || encode_flat(&texts, strict(&tok))).unwrap(), expected, "{threads} threads");
            assert_eq!(on_threads(threads, || encode_flat_with(&texts, strict_together(&tok))).unwrap(), expected, "{threads} threads");
        }
    }

    #[test]
    fn long_texts_go_one_per_thread_only_when_there_are_enough_of_them() {
        let tok = tokenizer();
        let long = "le château ".repeat(crate::tokenizer::PARALLEL_ABOVE / 8);
        for (count, alone) in [(3, false), (4, true), (11, true)] {
            let texts = vec![long.as_str(); count];
            assert_eq!(on_threads(2, || whole_texts_fill_the_threads(&texts)), alone, "{count} texts");
            let mut expected = (vec![], vec![0]);
            for text in &texts {
                expected.0.extend(tok.encode(text, AllowedSpecial::None).unwrap());
                expected.1.push(expected.0.len());
            }
            assert_eq!(on_threads(2, || encode_flat(&texts, strict(&tok))).unwrap(), expected, "{count} texts");
        }
        // One long text among short ones still gets every thread.
        let mut texts = vec!["le"; 1000];
        texts.push(&long);
        assert!(!on_threads(2, || whole_texts_fill_the_threads(&texts)));
    }

    #[test]
    fn runs_cover_the_texts_in_order() {
        let texts = texts();
        let runs = runs(&texts);
        assert_eq!(runs.first().unwrap().start, 0);
        assert_eq!(runs.last().unwrap().end, texts.len());
        assert!(runs.windows(2).all(|w| w[0].end == w[1].start));
        assert!(runs.iter().all(|r| !r.is_empty() && r.len() <= RUN_TEXTS));
        let short = vec!["x"; 130];
        assert_eq!(super::runs(&short), vec![0..64, 64..128, 128..130]);
    }

    #[test]
    fn the_first_failing_text_is_reported_at_any_thread_count() {
        let tok = tokenizer();
        let mut texts = texts();
        let late = texts.len() - 3;
        texts[late].push_str("<|end_of_text|>");
        for threads in [1, 4] {
            let failed = on_threads(threads, || encode_flat(&texts, strict(&tok))).unwrap_err();
            assert_eq!(failed.index, late, "{threads} threads");
            assert!(matches!(failed.error, crate::Error::DisallowedSpecial { .. }));
            let failed = on_threads(threads, || encode_flat_with(&texts, strict_together(&tok))).unwrap_err();
            assert_eq!(failed.index, late, "{threads} threads, texts together");
        }
        // An earlier failure wins over the late one, in the same run or in an earlier one.
        for early in [late - 1, 70, 5] {
            let mut texts = texts.clone();
            texts[early] = format!("<|end_of_text|> {early}");
            for threads in [1, 4] {
                for _ in 0..20 {
                    let failed = on_threads(threads, || encode_flat(&texts, strict(&tok))).unwrap_err();
                    assert_eq!(failed.index, early, "{threads} threads");
                    let failed = on_threads(threads, || encode_flat_with(&texts, strict_together(&tok))).unwrap_err();
                    assert_eq!(failed.index, early, "{threads} threads, texts together");
                }
            }
        }
    }

    #[test]
    fn an_earlier_failure_seen_after_a_later_one_still_wins() {
        use std::sync::atomic::AtomicBool;
        use std::time::{Duration, Instant};
        let texts: Vec<String> = (0..RUN_TEXTS * 8).map(|i| i.to_string()).collect();
        let (early, late) = (3, texts.len() - 1);
        for threads in [1, 4] {
            let late_failed = AtomicBool::new(false);
            let late_failed_first = AtomicBool::new(false);
            let encoded = AtomicUsize::new(0);
            // The early text fails only once the late one has (on another thread), or after a
            // while (on one thread, where the late run comes later or never).
            let encode_one = |text: &str, _: &mut Vec<TokenId>| -> Result<(), usize> {
                encoded.fetch_add(1, Ordering::Relaxed);
                let i: usize = text.parse().unwrap();
                if i == late {
                    late_failed.store(true, Ordering::SeqCst);
                    return Err(i);
                }
                if i == early {
                    let deadline = Instant::now() + Duration::from_secs(if threads == 1 { 0 } else { 5 });
                    while !late_failed.load(Ordering::SeqCst) && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    late_failed_first.store(late_failed.load(Ordering::SeqCst), Ordering::SeqCst);
                    return Err(i);
                }
                Ok(())
            };
            let failed = on_threads(threads, || encode_flat(&texts, encode_one)).unwrap_err();
            assert_eq!(failed, FailedText { index: early, error: early }, "{threads} threads");
            if threads == 1 {
                // Runs after the failed one are not encoded.
                assert_eq!(encoded.load(Ordering::Relaxed), early + 1);
            } else {
                assert!(late_failed_first.load(Ordering::SeqCst), "the late text failed first");
            }
        }
    }
}
