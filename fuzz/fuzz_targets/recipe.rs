//! Arbitrary text as a training recipe (`vocab/recipes/*.toml`): an error, never a panic. A
//! recipe that parses has its values resolved as `vocab train` resolves them without flags
//! (preset, special-token list, normalization, pattern, weighting, line range, the whole
//! configuration's validation), which must give an error or a configuration, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::{LanguageWeights, LineRange, ParityConfig, TrainConfig, Weighting, Window};
use polybpe::{Normalization, Pattern, Result};
use vocab::recipe::Recipe;

fuzz_target!(|text: &str| {
    if let Ok(recipe) = Recipe::parse(text) {
        let _ = resolve(&recipe);
    }
});

/// The recipe's half of `vocab train`'s `plan`: its values, checked, as one configuration.
fn resolve(recipe: &Recipe) -> Result<TrainConfig> {
    let preset = SpecialPreset::parse(recipe.special_tokens.as_deref().unwrap_or("pleias-rag"))?;
    let special_tokens = special_token_list(preset, &recipe.extra_special_tokens, recipe.reserved.unwrap_or(0))?;
    let balance = recipe.balance.clone().unwrap_or_default();
    let weighting = match &balance.weighting {
        Some(name) => match (Weighting::parse(name)?, balance.temperature) {
            (Weighting::Temperature(_), Some(alpha)) => Weighting::Temperature(alpha),
            (weighting, _) => weighting,
        },
        None => Weighting::Proportional,
    };
    let parity = match recipe.parity.clone() {
        None => None,
        Some(p) => Some(ParityConfig {
            dev: p.dev,
            dev_lines: p.dev_lines.as_deref().map(LineRange::parse).transpose()?,
            ratio: p.ratio.into_iter().collect(),
            exclude: p.exclude,
            global_merges: p.global_merges.unwrap_or(0),
            tolerance: p.tolerance,
            window: p.window.map(|size| Window { size, alpha: p.alpha.unwrap_or(2.0) }),
            strength: p.strength,
            reweight_every: p.reweight_every.unwrap_or(0),
        }),
    };
    let config = TrainConfig {
        vocab_size: recipe.vocab_size.unwrap_or(65_536),
        normalization: Normalization::parse(recipe.normalization.as_deref().unwrap_or("nfc"))?,
        pattern: Pattern::parse(recipe.pattern.as_deref().unwrap_or("default")),
        special_tokens,
        min_frequency: recipe.min_frequency.unwrap_or(2),
        max_token_bytes: recipe.max_token_bytes,
        max_words: recipe.max_words,
        weights: LanguageWeights { weighting, multipliers: balance.weights.into_iter().collect() },
        parity,
    };
    config.validate()?;
    Ok(config)
}
