//! Word-count files: the counts of one shard of a corpus, written anywhere (another machine, a
//! Ray or Spark worker), merged, and trained on with the same result as counting everything in
//! one process.
//!
//! Format (version 1), little-endian:
//! ```text
//! b"PBPECNT\n"  u32 version
//! u32 header length, header: JSON {normalization, pattern, special_tokens, max_piece_bytes, languages,
//!                                  per_language: [{documents, bytes, words, specials_removed}],
//!                                  words: <number of word records>}
//! word records, sorted by bytes: varint length, bytes, varint entries, entries × (varint language, varint count)
//! b"PBPEEND\n"
//! ```
//! The header records what shaped the counts — normalization, split pattern, special tokens
//! cut out, the length above which pieces were cut — and files counted with other settings are refused when merged or trained on. The
//! trailer and the record count catch truncated files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::count::{LangId, LanguageTotals, WordCounts, WordEntry};
pub use super::settings::CountSettings;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"PBPECNT\n";
const TRAILER: &[u8; 8] = b"PBPEEND\n";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(flatten)]
    settings: CountSettings,
    languages: Vec<String>,
    per_language: Vec<Totals>,
    words: u64,
}

#[derive(Serialize, Deserialize)]
struct Totals {
    documents: u64,
    bytes: u64,
    words: u64,
    specials_removed: u64,
}

/// Serializes counts with the settings that made them.
pub fn to_bytes(counts: &WordCounts, settings: &CountSettings) -> Vec<u8> {
    let header = Header {
        settings: settings.clone(),
        languages: counts.languages.clone(),
        per_language: counts
            .per_language
            .iter()
            .map(|t| Totals { documents: t.documents, bytes: t.bytes, words: t.words, specials_removed: t.specials_removed })
            .collect(),
        words: counts.words.len() as u64,
    };
    let header = serde_json::to_vec(&header).expect("the header serializes");
    let mut out = Vec::with_capacity(header.len() + counts.words.len() * 12 + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    for (word, langs) in &counts.words {
        put_varint(&mut out, word.len() as u64);
        out.extend_from_slice(word);
        put_varint(&mut out, langs.len() as u64);
        for &(lang, count) in langs {
            put_varint(&mut out, lang as u64);
            put_varint(&mut out, count);
        }
    }
    out.extend_from_slice(TRAILER);
    out
}

/// Writes a count file atomically.
pub fn write(path: &Path, counts: &WordCounts, settings: &CountSettings) -> Result<()> {
    crate::io::write_atomic(path, &to_bytes(counts, settings))
}

/// Reads a count file.
pub fn read(path: &Path) -> Result<(WordCounts, CountSettings)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_bytes(&bytes, path)
}

/// Parses a count file's bytes; errors name `origin` and what is wrong.
pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<(WordCounts, CountSettings)> {
    let bad = |message: String| Error::format(origin, message);
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("not a polybpe word-count file (no PBPECNT header)".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if version != VERSION {
        return Err(bad(format!("word-count file version {version}; this polybpe reads version {VERSION}")));
    }
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let header_bytes = bytes.get(16..16 + header_len).ok_or_else(|| bad("truncated header".into()))?;
    let header: Header = serde_json::from_slice(header_bytes).map_err(|e| bad(format!("header: {e}")))?;
    if header.per_language.len() != header.languages.len() || header.languages.len() > LangId::MAX as usize {
        return Err(bad("header: languages and per_language differ in length".into()));
    }
    let mut reader = Reader { bytes, at: 16 + header_len };
    let n = header.words;
    let mut words = Vec::with_capacity(n.min(bytes.len() as u64) as usize);
    for i in 0..n {
        let truncated = || bad(format!("truncated or corrupt at word record {} of {n}", i + 1));
        let len = reader.varint().ok_or_else(truncated)? as usize;
        let word: Box<[u8]> = reader.take(len).ok_or_else(truncated)?.into();
        let entries = reader.varint().ok_or_else(truncated)?;
        let mut langs = Vec::with_capacity(entries.min(header.languages.len() as u64) as usize);
        for _ in 0..entries {
            let lang = reader.varint().ok_or_else(truncated)?;
            let count = reader.varint().ok_or_else(truncated)?;
            if lang >= header.languages.len() as u64 {
                return Err(bad(format!("word record {} names language {lang}, but the header has {}", i + 1, header.languages.len())));
            }
            langs.push((lang as LangId, count));
        }
        if words.last().is_some_and(|(prev, _): &(Box<[u8]>, _)| prev[..] >= word[..]) {
            return Err(bad(format!("word record {} is out of order", i + 1)));
        }
        words.push((word, langs));
    }
    if reader.take(TRAILER.len()) != Some(&TRAILER[..]) || reader.at != bytes.len() {
        return Err(bad("truncated or corrupt: the end marker is missing".into()));
    }
    let per_language = header
        .per_language
        .iter()
        .map(|t| LanguageTotals { documents: t.documents, bytes: t.bytes, words: t.words, specials_removed: t.specials_removed })
        .collect();
    Ok((WordCounts { languages: header.languages, words, per_language }, header.settings))
}

/// Sums parsed count files, `(origin, counts, settings)` each, after checking that every one
/// was counted with `expected` (by default, the first file's settings); errors name the file.
/// Returns the sum and the settings it was counted with.
pub fn merge_checked(
    parts: Vec<(std::path::PathBuf, WordCounts, CountSettings)>,
    expected: Option<&CountSettings>,
) -> Result<(WordCounts, CountSettings)> {
    let settings = match expected.or(parts.first().map(|(_, _, s)| s)) {
        Some(settings) => settings.clone(),
        None => return Err(Error::config("no count files to merge")),
    };
    let mut counts = Vec::with_capacity(parts.len());
    for (origin, part, part_settings) in parts {
        part_settings.check_same_counting(&settings, &origin)?;
        counts.push(part);
    }
    Ok((merge(counts)?, settings))
}

/// Sums counts of several shards. Languages are matched by code and ordered by first
/// appearance (in the order of `parts`); words stay sorted by bytes.
pub fn merge(parts: Vec<WordCounts>) -> Result<WordCounts> {
    let mut languages: Vec<String> = Vec::new();
    let mut per_language: Vec<LanguageTotals> = Vec::new();
    let mut all: Vec<WordEntry> = Vec::new();
    for part in parts {
        let mut remap = Vec::with_capacity(part.languages.len());
        for (lang, totals) in part.languages.iter().zip(&part.per_language) {
            let id = match languages.iter().position(|l| l == lang) {
                Some(id) => id,
                None => {
                    languages.push(lang.clone());
                    per_language.push(LanguageTotals::default());
                    languages.len() - 1
                }
            };
            let t = &mut per_language[id];
            add_count(&mut t.documents, totals.documents)?;
            add_count(&mut t.bytes, totals.bytes)?;
            add_count(&mut t.words, totals.words)?;
            add_count(&mut t.specials_removed, totals.specials_removed)?;
            remap.push(LangId::try_from(id).map_err(|_| Error::config("more than 65,535 languages in the counts"))?);
        }
        all.extend(part.words.into_iter().map(|(word, langs)| {
            let mut langs: Vec<(LangId, u64)> = langs.into_iter().map(|(l, c)| (remap[l as usize], c)).collect();
            langs.sort_unstable();
            (word, langs)
        }));
    }
    use rayon::slice::ParallelSliceMut;
    all.par_sort_by(|a, b| a.0.cmp(&b.0));
    let mut words: Vec<WordEntry> = Vec::with_capacity(all.len());
    for (word, langs) in all {
        match words.last_mut() {
            Some((last, existing)) if *last == word => {
                for (lang, count) in langs {
                    match existing.binary_search_by_key(&lang, |&(l, _)| l) {
                        Ok(i) => add_count(&mut existing[i].1, count)?,
                        Err(i) => existing.insert(i, (lang, count)),
                    }
                }
            }
            _ => words.push((word, langs)),
        }
    }
    Ok(WordCounts { languages, words, per_language })
}

/// Adds a count of one file to the sum. Real corpora stay far below `u64::MAX`; a sum past it
/// comes from a damaged or hand-made file and is refused rather than wrapped around.
fn add_count(sum: &mut u64, count: u64) -> Result<()> {
    *sum = sum.checked_add(count).ok_or_else(|| Error::config("the merged counts do not fit 64 bits: damaged count files?"))?;
    Ok(())
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalization;
    use crate::pretokenize::{Pattern, PreTokenizer};
    use crate::train::WordCounter;

    fn count(docs: &[(&str, &str)]) -> WordCounts {
        let mut c = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &["<|x|>"]);
        for (lang, text) in docs {
            c.add_document(lang, text).unwrap();
        }
        c.finish()
    }

    fn settings() -> CountSettings {
        CountSettings { special_tokens: vec!["<|x|>".into()], ..CountSettings::default() }
    }

    #[test]
    fn round_trip() {
        let counts = count(&[("fr", "le chat ſ le chien <|x|>"), ("de", "der Hund 12345")]);
        let bytes = to_bytes(&counts, &settings());
        let (back, s) = from_bytes(&bytes, Path::new("c.pbc")).unwrap();
        assert_eq!(back, counts);
        assert_eq!(s, settings());
    }

    #[test]
    fn merged_shards_equal_counting_everything() {
        let docs = [("fr", "le chat et le chien"), ("de", "der Hund und die Katze"), ("fr", "le chat dort"), ("la", "canis et felis")];
        let whole = count(&docs);
        let merged = merge(vec![count(&docs[..1]), count(&docs[1..3]), count(&docs[3..])]).unwrap();
        assert_eq!(merged, whole);
        // Languages in another order still sum by code.
        let reordered = merge(vec![count(&docs[3..]), count(&docs[..3])]).unwrap();
        assert_eq!(reordered.languages, ["la", "fr", "de"]);
        assert_eq!(reordered.words.len(), whole.words.len());
        let chat = |c: &WordCounts| c.words.iter().find(|(w, _)| &w[..] == b" chat").unwrap().1.clone();
        assert_eq!(chat(&reordered), vec![(1, 2)]);
    }

    #[test]
    fn corrupt_and_foreign_files_are_refused() {
        let bytes = to_bytes(&count(&[("fr", "le chat et le chien")]), &settings());
        let origin = Path::new("shard-3.pbc");
        for cut in [3, 20, bytes.len() - 9, bytes.len() - 1] {
            let err = from_bytes(&bytes[..cut], origin).unwrap_err().to_string();
            assert!(err.starts_with("shard-3.pbc: "), "{err}");
        }
        let err = from_bytes(b"{\"not\": \"counts\"}", origin).unwrap_err().to_string();
        assert!(err.contains("not a polybpe word-count file"), "{err}");
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(from_bytes(&v2, origin).unwrap_err().to_string().contains("version 2"));
        let other = CountSettings { normalization: crate::Normalization::Nfkc, ..settings() };
        let err = other.check_same_counting(&settings(), origin).unwrap_err().to_string();
        assert!(err.contains("normalization nfkc") && err.contains("nfc"), "{err}");
        // A file from before long pieces were cut (no limit in its header) is refused.
        let whole_pieces = CountSettings { max_piece_bytes: None, ..settings() };
        let (_, read_back) = from_bytes(&to_bytes(&count(&[("fr", "le chat")]), &whole_pieces), origin).unwrap();
        assert_eq!(read_back.max_piece_bytes, None);
        let err = read_back.check_same_counting(&settings(), origin).unwrap_err().to_string();
        assert!(err.contains("long-piece cut none (pieces counted whole)") && err.contains("256 bytes"), "{err}");
    }

    proptest::proptest! {
        /// Damaged files — bytes flipped, cut short or extended — give an error or counts that
        /// serialize back, never a panic.
        #[test]
        fn damaged_files_never_panic(flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 0..6), cut in 0usize..4096, tail in proptest::collection::vec(proptest::num::u8::ANY, 0..8)) {
            let mut bytes = to_bytes(&count(&[("fr", "le chat ſ le chien"), ("de", "der Hund 12345 und")]), &settings());
            for (at, value) in flips {
                let n = bytes.len();
                bytes[at % n] = value;
            }
            bytes.truncate(cut.max(1).min(bytes.len()));
            bytes.extend(tail);
            if let Ok((counts, s)) = from_bytes(&bytes, Path::new("x.counts")) {
                let (back, _) = from_bytes(&to_bytes(&counts, &s), Path::new("y.counts")).unwrap();
                proptest::prop_assert_eq!(back, counts);
            }
        }
    }
}

