//! Directories of line-aligned `<lang>.txt` files: the parallel sets `compare` measures on and
//! the dev sets balancing counts.
//!
//! Line *n* of every file is the same sentence, so every line is kept, empty ones included, and
//! lines are split as [`LineReader`] splits them (BOM dropped, `\n` or `\r\n` ends).

use std::path::Path;

use super::text::LineReader;
use crate::error::{Error, Result};

/// The lines of one language.
#[derive(Clone, Debug)]
pub struct LanguageText {
    pub lang: String,
    pub lines: Vec<String>,
}

/// Reads the `<lang>.txt` files of `dir` (sorted by language), keeping only `langs` when given.
/// Every line is kept, empty ones too, so parallel files stay aligned.
///
/// A file with invalid UTF-8 is [`Error::InvalidUtf8`] naming it; a language of `langs` without
/// a file, or a directory without any, is [`Error::Config`].
///
/// A Hub corpus (`hf://datasets/…`) is read instead as documents grouped by language (not
/// aligned: for texts, not parallel sets).
pub fn read_language_dir(dir: &Path, langs: Option<&[String]>) -> Result<Vec<LanguageText>> {
    #[cfg(feature = "hub")]
    if super::hub::is_hub_path(dir) {
        return read_hub_texts(dir, langs);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut texts = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let Some(lang) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else { continue };
        if langs.is_some_and(|keep| !keep.contains(&lang)) {
            continue;
        }
        texts.push(LanguageText { lang, lines: read_lines(&path)? });
    }
    texts.sort_by(|a, b| a.lang.cmp(&b.lang));
    if let Some(keep) = langs {
        if let Some(missing) = keep.iter().find(|l| !texts.iter().any(|t| &&t.lang == l)) {
            return Err(Error::config(format!("{}: no {missing}.txt", dir.display())));
        }
    }
    if texts.is_empty() {
        return Err(Error::config(format!("{}: no <lang>.txt files", dir.display())));
    }
    Ok(texts)
}

/// Every line of a file, empty ones included.
/// The documents of a Hub corpus by language, keeping only `langs` when given.
#[cfg(feature = "hub")]
fn read_hub_texts(source: &Path, langs: Option<&[String]>) -> Result<Vec<LanguageText>> {
    let mut options = super::CorpusOptions::default();
    if let Some(langs) = langs {
        options.keep_languages = langs.iter().map(|l| (l.clone(), vec![l.clone()])).collect();
    }
    let corpus = super::Corpus::open(&[source.to_path_buf()], options)?;
    let mut by_lang: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    corpus.for_each_batch(1 << 20, &mut |_| {}, &mut |docs| {
        for doc in docs.iter() {
            by_lang.entry(doc.lang.to_string()).or_default().push(doc.text.to_owned());
        }
        Ok(())
    })?;
    if let Some(missing) = langs.and_then(|keep| keep.iter().find(|l| !by_lang.contains_key(*l))) {
        return Err(Error::config(format!("{}: no documents in language {missing:?}", source.display())));
    }
    Ok(by_lang.into_iter().map(|(lang, lines)| LanguageText { lang, lines }).collect())
}

fn read_lines(path: &Path) -> Result<Vec<String>> {
    let mut reader = LineReader::open(path)?;
    let mut lines = Vec::new();
    while let Some(line) = reader.next_line()? {
        lines.push(line.text()?.to_owned());
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::write;
    use super::*;

    fn langs_and_lines(texts: &[LanguageText]) -> Vec<(&str, Vec<&str>)> {
        texts.iter().map(|t| (t.lang.as_str(), t.lines.iter().map(String::as_str).collect())).collect()
    }

    #[test]
    fn files_are_read_by_language_with_every_line_kept() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "fr.txt", b"\xEF\xBB\xBFle chat\r\n\r\nle chien\r\n");
        write(dir.path(), "en.txt", b"the cat\n\nthe dog");
        write(dir.path(), "notes.md", b"not a language\n");
        write(dir.path(), "de.TXT", b"not taken: the extension is `txt`\n");
        let texts = read_language_dir(dir.path(), None).unwrap();
        assert_eq!(langs_and_lines(&texts), vec![("en", vec!["the cat", "", "the dog"]), ("fr", vec!["le chat", "", "le chien"])]);
    }

    #[test]
    fn a_bom_is_dropped_at_the_start_of_a_file_only() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "en.txt", b"\xEF\xBB\xBFone\n\xEF\xBB\xBFtwo\n");
        let texts = read_language_dir(dir.path(), None).unwrap();
        assert_eq!(texts[0].lines, ["one", "\u{FEFF}two"]);
    }

    #[test]
    fn languages_are_filtered_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        for lang in ["de", "en", "fr"] {
            write(dir.path(), &format!("{lang}.txt"), lang.as_bytes());
        }
        let keep = ["fr".to_owned(), "de".to_owned()];
        let texts = read_language_dir(dir.path(), Some(&keep)).unwrap();
        assert_eq!(langs_and_lines(&texts), vec![("de", vec!["de"]), ("fr", vec!["fr"])]);
        let err = read_language_dir(dir.path(), Some(&["pl".to_owned()])).unwrap_err();
        assert_eq!(err.to_string(), format!("{}: no pl.txt", dir.path().display()));
        let empty = tempfile::tempdir().unwrap();
        let err = read_language_dir(empty.path(), None).unwrap_err();
        assert_eq!(err.to_string(), format!("{}: no <lang>.txt files", empty.path().display()));
    }

    #[test]
    fn invalid_utf8_names_the_file_offset_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "en.txt", b"fine\n");
        let bad = write(dir.path(), "it.txt", b"\xEF\xBB\xBFciao\r\nbad \xff\n");
        let err = read_language_dir(dir.path(), None).unwrap_err();
        assert!(matches!(&err, Error::InvalidUtf8 { path, offset: 13, line: 2 } if *path == bad), "{err}");
        let missing = dir.path().join("nope");
        assert!(matches!(read_language_dir(&missing, None), Err(Error::Io { path, .. }) if path == missing));
    }
}
