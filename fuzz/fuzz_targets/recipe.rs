//! Arbitrary text as a training recipe (`vocab/recipes/*.toml`): an error, never a panic. A
//! recipe that parses is resolved and checked by the same code `vocab train` and
//! `polybpe.train` run (`Recipe::resolve`, `Trainer::new`), which must give an error or
//! settings, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use polybpe::train::{Recipe, Trainer};
use std::path::PathBuf;

fuzz_target!(|text: &str| {
    if let Ok(recipe) = Recipe::parse(text) {
        if let Ok(plan) = recipe.resolve(&[PathBuf::from("corpus")]) {
            let _ = Trainer::new(plan.settings);
        }
    }
});
