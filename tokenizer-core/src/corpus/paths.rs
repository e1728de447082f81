//! Resolving input paths into files, and the language of a file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{lower_extension, CorpusOptions, InputFile, InputKind};
use crate::error::{Error, Result};

/// Extensions (lower case) of the files taken when walking a directory.
const DIRECTORY_EXTENSIONS: &[&str] = &["txt", "text", "jsonl", "ndjson", "parquet"];

pub(super) fn collect_path(path: &Path, out: &mut Vec<InputFile>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        out.push(InputFile {
            path: path.to_path_buf(),
            kind: InputKind::from_path(path),
            size: meta.len(),
        });
        return Ok(());
    }
    let mut found = Vec::new();
    walk_dir(path, &mut HashSet::new(), &mut found)?;
    found.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_encoded_bytes()
            .cmp(b.path.as_os_str().as_encoded_bytes())
    });
    out.extend(found);
    Ok(())
}

/// Collects the corpus files under `dir`; `visited` holds canonical directories so that a
/// symbolic link back to a parent cannot loop forever.
fn walk_dir(dir: &Path, visited: &mut HashSet<PathBuf>, out: &mut Vec<InputFile>) -> Result<()> {
    let canonical = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            walk_dir(&path, visited, out)?;
        } else if meta.is_file() && is_corpus_extension(&path) {
            out.push(InputFile {
                kind: InputKind::from_path(&path),
                size: meta.len(),
                path,
            });
        }
    }
    Ok(())
}

fn is_corpus_extension(path: &Path) -> bool {
    lower_extension(path).is_some_and(|ext| DIRECTORY_EXTENSIONS.contains(&ext.as_str()))
}

pub(super) fn no_files_message(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no input paths given".to_owned();
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!(
        "no input files (.txt, .text, .jsonl, .ndjson, .parquet) found in {}",
        names.join(", ")
    )
}

/// Language of a file whose records carry none: `lang_map` by the path as given, then by file
/// name, then by stem, then by the directories that hold it (innermost first, as given: a
/// recipe input that is a directory labels every file under it); else the stem itself
/// (`fr.txt` → `fr`, `de_part1.jsonl` → `de_part1`).
pub fn language_for_file(path: &Path, options: &CorpusOptions) -> String {
    let by_file = own_names(path).find_map(|name| options.lang_map.get(name.as_ref()));
    let by_dir = || {
        path.ancestors()
            .skip(1)
            .find_map(|dir| options.lang_map.iter().find(|(key, _)| names_dir(key, dir)).map(|(_, lang)| lang))
    };
    by_file
        .or_else(by_dir)
        .cloned()
        .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
}

/// The names a file goes by as a `lang_map` key, in order: its path as given, file name, stem.
fn own_names(path: &Path) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    [Some(path.as_os_str()), path.file_name(), path.file_stem()].into_iter().flatten().map(|name| name.to_string_lossy())
}

/// Whether a `lang_map` key names the directory `dir`. Directories compare as paths, so
/// `hist/` and `hist` are the same key.
fn names_dir(key: &str, dir: &Path) -> bool {
    !dir.as_os_str().is_empty() && Path::new(key) == dir
}

/// Whether a `lang_map` key names `path`: its path as given, file name, stem or a directory
/// that holds it.
fn names_file(key: &str, path: &Path) -> bool {
    own_names(path).any(|name| name == key) || path.ancestors().skip(1).any(|dir| names_dir(key, dir))
}

/// Every `lang_map` entry must name an input: a misspelt file name would otherwise leave its
/// file labelled by its stem without a word.
pub(super) fn check_lang_map(files: &[InputFile], options: &CorpusOptions) -> Result<()> {
    for (key, lang) in &options.lang_map {
        if !files.iter().any(|f| names_file(key, &f.path)) {
            return Err(Error::config(format!(
                "language {lang:?} is given for {key:?}, which names no input file (by path, file name, stem or directory)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Corpus;
    use super::*;

    #[test]
    fn directory_walk_is_sorted_bytewise_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        for name in [
            "b.txt",
            "a/b.txt",
            "a-c.txt",
            "a/deep/z.jsonl",
            "x.ndjson",
            "y.text",
            "d.PARQUET",
            ".hidden.txt",
            ".git/x.txt",
            "notes.md",
            "a/.cache/c.txt",
        ] {
            write(&root, name, b"x\n");
        }
        let mut walked = Vec::new();
        collect_path(&root, &mut walked).unwrap();
        let found: Vec<(PathBuf, InputKind)> = walked.iter().map(|f| (f.path.clone(), f.kind)).collect();
        let expected: Vec<(PathBuf, InputKind)> = [
            ("a-c.txt", InputKind::Text),
            ("a/b.txt", InputKind::Text),
            ("a/deep/z.jsonl", InputKind::Jsonl),
            ("b.txt", InputKind::Text),
            ("d.PARQUET", InputKind::Parquet),
            ("x.ndjson", InputKind::Jsonl),
            ("y.text", InputKind::Text),
        ]
        .iter()
        .map(|(name, kind)| (root.join(name), *kind))
        .collect();
        assert_eq!(found, expected);
        let opened = Corpus::open(std::slice::from_ref(&root), CorpusOptions::default());
        #[cfg(feature = "parquet")]
        {
            let corpus = opened.unwrap();
            let listed: Vec<(PathBuf, InputKind)> = corpus.files().map(|(p, k)| (p.to_path_buf(), k)).collect();
            assert_eq!(listed, expected);
            assert_eq!(corpus.total_bytes(), 14);
            assert_eq!(corpus.inputs().len(), 7);
        }
        // Without Parquet support, the Parquet file found by the walk is refused up front.
        #[cfg(not(feature = "parquet"))]
        assert!(matches!(opened, Err(Error::Parquet { path, .. }) if path == root.join("d.PARQUET")));
    }

    #[test]
    fn explicit_files_keep_their_order_and_any_extension() {
        let dir = tempfile::tempdir().unwrap();
        let b = write(dir.path(), "b.md", b"x\n");
        let a = write(dir.path(), "a.jsonl", b"{\"text\":\"y\"}\n");
        let corpus = Corpus::open(&[b.clone(), a.clone()], CorpusOptions::default()).unwrap();
        let found: Vec<(&Path, InputKind)> = corpus.files().collect();
        assert_eq!(
            found,
            vec![
                (b.as_path(), InputKind::Text),
                (a.as_path(), InputKind::Jsonl)
            ]
        );
    }

    #[test]
    fn missing_path_and_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.txt");
        match Corpus::open(std::slice::from_ref(&missing), CorpusOptions::default()) {
            Err(Error::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected Io, got {:?}", other.map(|c| c.total_bytes())),
        }
        write(dir.path(), "only/.hidden.txt", b"x\n");
        write(dir.path(), "only/readme.md", b"x\n");
        let only = dir.path().join("only");
        match Corpus::open(std::slice::from_ref(&only), CorpusOptions::default()) {
            Err(Error::EmptyCorpus(message)) => {
                assert!(message.contains(&only.display().to_string()), "{message}")
            }
            other => panic!(
                "expected EmptyCorpus, got {:?}",
                other.map(|c| c.total_bytes())
            ),
        }
        assert!(matches!(
            Corpus::open(&[], CorpusOptions::default()),
            Err(Error::EmptyCorpus(_))
        ));
    }

    #[test]
    fn language_from_stem_and_lang_map() {
        let mut options = CorpusOptions::default();
        assert_eq!(
            language_for_file(Path::new("corpus/fr.txt"), &options),
            "fr"
        );
        assert_eq!(
            language_for_file(Path::new("de_part1.jsonl"), &options),
            "de_part1"
        );
        options.lang_map.insert("de_part1".into(), "de".into());
        options.lang_map.insert("x.txt".into(), "by-name".into());
        options.lang_map.insert("x".into(), "by-stem".into());
        options.lang_map.insert("a/x.txt".into(), "by-path".into());
        assert_eq!(
            language_for_file(Path::new("de_part1.jsonl"), &options),
            "de"
        );
        assert_eq!(language_for_file(Path::new("b/x.txt"), &options), "by-name");
        assert_eq!(language_for_file(Path::new("a/x.txt"), &options), "by-path");
        assert_eq!(language_for_file(Path::new("x.md"), &options), "by-stem");
    }

    #[test]
    fn lang_map_by_directory_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("hist");
        write(&root, "a/x.txt", "Ich ſage\n".as_bytes());
        write(&root, "y.txt", "je ſuis\n".as_bytes());
        let mut options = CorpusOptions::default();
        options.lang_map.insert(format!("{}/", root.display()), "historical".into());
        options.lang_map.insert("y".into(), "fr-old".into());
        let run = read(&root, options).unwrap();
        assert_eq!(
            run.docs(),
            pairs(&[("historical", "Ich ſage"), ("fr-old", "je ſuis")])
        );

        let mut typo = CorpusOptions::default();
        typo.lang_map.insert("yy.txt".into(), "frr".into());
        let err = Corpus::open(std::slice::from_ref(&root), typo).err().unwrap().to_string();
        assert!(err.contains("\"yy.txt\"") && err.contains("\"frr\"") && err.contains("no input file"), "{err}");
    }

    #[test]
    fn lang_map_applies_when_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "part-0001.txt", b"Dzien dobry\n");
        let mut options = CorpusOptions::default();
        options.lang_map.insert("part-0001".into(), "pl".into());
        assert_eq!(
            read(&path, options).unwrap().docs(),
            pairs(&[("pl", "Dzien dobry")])
        );
    }
}
