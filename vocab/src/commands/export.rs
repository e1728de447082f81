//! `vocab export`: a tokenizer.json in the formats other runtimes load.

use super::export_gguf;
use crate::ExportArgs;

pub fn run(args: ExportArgs) -> Result<(), String> {
    let Some(gguf) = &args.gguf else {
        return Err("nothing to export: give --gguf FILE".into());
    };
    export_gguf::run(&args.tokenizer, gguf)
}
