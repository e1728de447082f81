//! Splitting one long text on several threads, with the pieces of one thread.
//!
//! The text is cut into parts at arbitrary characters, and every part is scanned as if the text
//! began there. The built-in patterns never look behind, so a scan started inside the text agrees
//! with the scan of the whole text from the first piece boundary the two share. Joining the parts
//! in order, each part's pieces are taken from the first of them that starts where the pieces
//! so far end; where none does, the text is scanned again from there, on this thread, until a
//! boundary of the part is met (on prose, within a piece or two).

use std::ops::Range;

use rayon::prelude::*;

use super::BuiltinScanner;

/// Bytes per part: parts of 64 KiB take a few hundred microseconds to scan, long beside the cost
/// of a task, and a megabyte of text still makes sixteen of them.
pub(crate) const PART_BYTES: usize = 1 << 16;

/// The pieces of a text in runs of ranges, which in order are the pieces of one scan: a part's
/// pieces from where they join the ones before, and between parts, the pieces scanned again.
#[derive(Debug, Default)]
pub struct PieceRuns {
    lists: Vec<Vec<Range<usize>>>,
    /// (list, first piece of it) of each run.
    runs: Vec<(usize, usize)>,
}

impl PieceRuns {
    /// One run of `pieces`.
    pub(crate) fn one(pieces: Vec<Range<usize>>) -> Self {
        PieceRuns { lists: vec![pieces], runs: vec![(0, 0)] }
    }

    /// The runs, in text order.
    pub fn runs(&self) -> impl Iterator<Item = &[Range<usize>]> {
        self.runs.iter().map(|&(list, first)| &self.lists[list][first..])
    }

    /// Every piece, in text order.
    pub fn pieces(&self) -> impl Iterator<Item = &Range<usize>> {
        self.runs().flatten()
    }
}

impl BuiltinScanner {
    /// The pieces of `text`, the same ranges as [`Self::split`], with parts of about
    /// `part_bytes` scanned in parallel on the current rayon pool.
    pub fn split_in_parts(self, text: &str, part_bytes: usize) -> PieceRuns {
        split_in_parts(self, text, 0, text.len(), part_bytes).0
    }

    /// The pieces of `text` from the piece boundary `from` to the first boundary at or past
    /// `stop` (a few pieces later at most), which is returned with them; the parts are scanned
    /// as in [`Self::split_in_parts`]. A long text is split a section at a time this way.
    pub fn split_section_in_parts(self, text: &str, from: usize, stop: usize, part_bytes: usize) -> (PieceRuns, usize) {
        split_in_parts(self, text, from, stop, part_bytes)
    }
}

fn split_in_parts(scanner: BuiltinScanner, text: &str, from: usize, stop: usize, part_bytes: usize) -> (PieceRuns, usize) {
    let stop = next_char_boundary(text, stop.clamp(from, text.len()));
    let parts = (stop - from).div_ceil(part_bytes.max(1)).max(1);
    let mut cuts: Vec<usize> = (0..parts).map(|k| next_char_boundary(text, from + k * part_bytes)).collect();
    cuts.push(stop);
    cuts.dedup();
    let lists: Vec<Vec<Range<usize>>> = cuts
        .par_windows(2)
        .map(|cut| {
            let mut pieces = Vec::with_capacity((cut[1] - cut[0]) / 3);
            scanner.split_until(&text[cut[0]..], cut[0], cut[1] - cut[0], &mut pieces);
            pieces
        })
        .collect();
    let mut joined = PieceRuns { runs: Vec::with_capacity(lists.len()), lists };
    // Where the pieces taken so far end: a boundary of the whole text's scan.
    let mut at = from;
    for index in 0..joined.lists.len() {
        let part = &joined.lists[index];
        let Some(part_end) = part.last().map(|r| r.end) else { continue };
        let mut rescanned = Vec::new();
        while at < part_end {
            if let Ok(first) = part.binary_search_by_key(&at, |r| r.start) {
                joined.runs.push((index, first));
                at = part_end;
                break;
            }
            // Scan again from `at` up to the first of our boundaries that the part shares.
            let before = rescanned.len();
            scanner.split_until(&text[at..], at, 1, &mut rescanned);
            let shared = rescanned[before..]
                .iter()
                .position(|r| r.end >= part_end || part.binary_search_by_key(&r.end, |p| p.start).is_ok())
                .map_or(rescanned.len(), |i| before + i + 1);
            rescanned.truncate(shared);
            at = rescanned[shared - 1].end;
        }
        if !rescanned.is_empty() {
            // Before the part's own run, if any.
            let run = joined.runs.last().filter(|(list, _)| *list == index).copied();
            if run.is_some() {
                joined.runs.pop();
            }
            joined.lists.push(rescanned);
            joined.runs.push((joined.lists.len() - 1, 0));
            joined.runs.extend(run);
        }
    }
    (joined, at)
}

/// The first character boundary of `text` at or after `at`.
fn next_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Text where scans started at any byte disagree longest: runs of spaces and line breaks
    /// (whose split depends on what follows them), letters, digits, marks, apostrophes.
    fn tricky_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(" ".to_string()),
            Just("    ".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just(" \n \n".to_string()),
            Just("\t".to_string()),
            Just("'s".to_string()),
            Just("’".to_string()),
            Just("e\u{301}".to_string()),
            Just("1789".to_string()),
            Just("!?".to_string()),
            "[a-zA-Zàéſß]{1,12}",
            any::<char>().prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..200).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn parts_join_into_the_pieces_of_one_scan(text in tricky_text(), part_bytes in 1usize..96) {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            for scanner in BuiltinScanner::ALL {
                let mut one = Vec::new();
                scanner.split(&text, 0, &mut one);
                let joined = pool.install(|| scanner.split_in_parts(&text, part_bytes));
                let joined: Vec<_> = joined.pieces().cloned().collect();
                prop_assert_eq!(&joined, &one, "{:?}, parts of {} bytes", scanner, part_bytes);
            }
        }

        #[test]
        fn sections_follow_each_other_into_the_pieces_of_one_scan(
            text in tricky_text(),
            part_bytes in 1usize..48,
            section in 1usize..160,
        ) {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            for scanner in BuiltinScanner::ALL {
                let mut one = Vec::new();
                scanner.split(&text, 0, &mut one);
                let (mut sections, mut at) = (Vec::new(), 0);
                while at < text.len() {
                    let (pieces, end) = pool.install(|| scanner.split_section_in_parts(&text, at, at + section, part_bytes));
                    prop_assert!(end >= (at + section).min(text.len()), "{:?}: a section ends at {} before {}", scanner, end, at + section);
                    prop_assert_eq!(pieces.pieces().last().map(|r| r.end), Some(end));
                    sections.extend(pieces.pieces().cloned());
                    at = end;
                }
                prop_assert_eq!(&sections, &one, "{:?}, parts of {} bytes, sections of {}", scanner, part_bytes, section);
            }
        }
    }

    #[test]
    fn long_runs_that_span_parts() {
        // A run of spaces across many parts, ended by a letter, a line break or the text's end,
        // and one word longer than a part.
        for text in [" ".repeat(300) + "x", " ".repeat(300) + "\n", " ".repeat(300), "a".repeat(300) + " b", String::new()] {
            for scanner in BuiltinScanner::ALL {
                let mut one = Vec::new();
                scanner.split(&text, 0, &mut one);
                let joined: Vec<_> = scanner.split_in_parts(&text, 7).pieces().cloned().collect();
                assert_eq!(joined, one, "{scanner:?} {text:?}");
            }
        }
    }
}
