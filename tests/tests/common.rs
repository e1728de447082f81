//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use polybpe::corpus::CorpusOptions;
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::{CountSettings, MergeSettings, Silent, TrainSettings, Trainer};
use polybpe::Tokenizer;

/// `../shared` (or `POLYBPE_SHARED`), if it holds the corpus.
pub fn shared() -> Option<PathBuf> {
    let path = std::env::var_os("POLYBPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    path.join("corpus/train").is_dir().then_some(path)
}

/// Writes the first `lines` lines of each train file into `dir`.
pub fn corpus_slice(shared: &Path, dir: &Path, lines: usize) {
    for entry in std::fs::read_dir(shared.join("corpus/train")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let head: Vec<&str> = text.lines().take(lines).collect();
        std::fs::write(dir.join(path.file_name().unwrap()), head.join("\n") + "\n").unwrap();
    }
}

/// A small multilingual corpus made here, for tests that must run without ../shared.
pub fn synthetic_corpus(dir: &Path) {
    let texts = [
        ("fr.txt", "Le château d'Ørsted est ſouvent cité. L'homme et la femme qu'il aime; aujourd'hui c'est l'été."),
        ("de.txt", "Die Straße ist lang, und der Müller ſagt: „Guten Tag“. Über 1789 Häuser stehen dort."),
        ("en.txt", "The quick brown fox doesn't jump over the lazy dog's back; we're sure it's 42."),
        ("code.txt", "def main(argv):\n    for i in range(10):\n        print(i ** 2)  # square\n    return 0"),
    ];
    for (name, text) in texts {
        let mut body = String::new();
        for i in 0..40 {
            body.push_str(&text.replace("1789", &format!("{}", 1700 + i)));
            body.push('\n');
        }
        std::fs::write(dir.join(name), body).unwrap();
    }
}

/// Trains with the Pleias specials on `dir` at the given thread count.
pub fn train_dir(dir: &Path, vocab_size: usize, threads: usize) -> Tokenizer {
    let config = TrainSettings { count: CountSettings { special_tokens: special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap(), ..Default::default() }, merge: MergeSettings { vocab_size, min_frequency: 2, ..Default::default() } };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| Trainer::new(config).unwrap().train_files(&[dir.to_path_buf()], &CorpusOptions::default(), &Silent).unwrap().0)
}

/// A 700-token vocabulary trained on [`synthetic_corpus`], once per test binary.
pub fn synthetic_tokenizer() -> &'static Tokenizer {
    static TOK: std::sync::OnceLock<Tokenizer> = std::sync::OnceLock::new();
    TOK.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        synthetic_corpus(dir.path());
        train_dir(dir.path(), 700, 2)
    })
}

/// [`synthetic_tokenizer`] without a normalizer, so that any string round-trips exactly.
pub fn synthetic_unnormalized() -> &'static Tokenizer {
    static TOK: std::sync::OnceLock<Tokenizer> = std::sync::OnceLock::new();
    TOK.get_or_init(|| {
        let t = synthetic_tokenizer();
        Tokenizer::new(polybpe::Normalization::None, t.pre_tokenizer().clone(), t.model().clone(), t.added_tokens().to_vec()).unwrap()
    })
}
