//! Training recipes: TOML files that fix every training setting, so a vocabulary can be
//! rebuilt exactly. Command-line flags override recipe values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A recipe file (`vocab/recipes/*.toml`). Unknown keys are errors, so a typo cannot silently
/// fall back to a default.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Short name, used for the default output file name.
    pub name: Option<String>,
    pub description: Option<String>,
    pub vocab_size: Option<usize>,
    /// `pleias-rag` or `none`.
    pub special_tokens: Option<String>,
    /// Extra special tokens after the preset.
    #[serde(default)]
    pub extra_special_tokens: Vec<String>,
    /// Number of `<|reserved_N|>` placeholders after the specials.
    pub reserved: Option<usize>,
    /// `default`, `gpt2`, `cl100k`, `o200k` or a regex.
    pub pattern: Option<String>,
    /// `nfc` (default), `none` or `nfkc`.
    pub normalization: Option<String>,
    pub min_frequency: Option<u64>,
    pub max_token_bytes: Option<usize>,
    pub max_words: Option<usize>,
    pub doc_per_file: Option<bool>,
    pub skip_invalid: Option<bool>,
    /// Input files or directories, relative to the corpus directory.
    #[serde(default)]
    pub inputs: Vec<RecipeInput>,
    /// Language weighting.
    pub balance: Option<RecipeBalance>,
    /// Parity-aware merge selection.
    pub parity: Option<RecipeParity>,
}

/// `[balance]`: how much each language's counts weigh.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeBalance {
    /// `proportional`, `uniform` or `temperature`.
    pub weighting: Option<String>,
    /// The exponent of `temperature` (default 0.3).
    pub temperature: Option<f64>,
    /// Multipliers of language shares.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
}

/// `[parity]`: parity-aware merge selection.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeParity {
    /// Directory of line-aligned `<lang>.txt` dev files, relative to the corpus directory.
    pub dev: Option<PathBuf>,
    /// Lines of the dev files to use: `"FIRST:LAST"`, 1-based inclusive.
    pub dev_lines: Option<String>,
    /// Target bytes/token per language without dev text.
    #[serde(default)]
    pub ratio: BTreeMap<String, f64>,
    /// Dev languages trained on but not balanced.
    #[serde(default)]
    pub exclude: Vec<String>,
    pub global_merges: Option<usize>,
    pub tolerance: Option<f64>,
    pub window: Option<usize>,
    pub alpha: Option<f64>,
    /// Soft selection: weigh each language's counts by cost^strength.
    pub strength: Option<f64>,
    pub reweight_every: Option<usize>,
}

/// One input of a recipe.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeInput {
    /// Path relative to `--corpus`.
    pub path: PathBuf,
    /// Language of the file's documents when records carry none (default: the file stem).
    pub lang: Option<String>,
}

impl Recipe {
    /// Reads and parses a recipe; errors name the file and the offending key or line.
    pub fn load(path: &Path) -> Result<Recipe, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Recipe::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses recipe text; errors name the offending key or line (not the file).
    pub fn parse(text: &str) -> Result<Recipe, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<Recipe>("vocab_sise = 10").unwrap_err().to_string();
        assert!(err.contains("vocab_sise"), "{err}");
        let err = toml::from_str::<Recipe>("[[inputs]]\npath = \"a\"\nlanguage = \"fr\"").unwrap_err().to_string();
        assert!(err.contains("language"), "{err}");
    }

    #[test]
    fn shipped_recipes_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let recipe = Recipe::load(&path).unwrap();
                assert!(recipe.vocab_size.is_some(), "{}", path.display());
                n += 1;
            }
        }
        assert!(n >= 1);
    }
}
