//! Benchmarks live in `benches/`; see `RESULTS.md`. This library holds what the examples share.

/// The first megabyte of each file (cut back to its last newline), as documents: one per line,
/// or with `whole` one per file.
pub fn first_megabyte_documents(files: &[String], whole: bool) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let text = &text[..text.len().min(1 << 20)];
        let cut = text.iter().rposition(|&b| b == b'\n').unwrap_or(0);
        let text = String::from_utf8(text[..cut].to_vec()).map_err(|e| format!("{file}: {e}"))?;
        if whole {
            documents.push(text);
        } else {
            documents.extend(text.lines().map(str::to_owned));
        }
    }
    Ok(documents)
}

/// Removes the switch `flag` from `args`; whether it was there.
pub fn take_switch(args: &mut Vec<String>, flag: &str) -> bool {
    let found = args.iter().any(|a| a == flag);
    args.retain(|a| a != flag);
    found
}

/// Removes `flag` and the number after it from `args`; the number, if the flag was there.
pub fn take_number(args: &mut Vec<String>, flag: &str) -> Result<Option<usize>, Box<dyn std::error::Error>> {
    let Some(i) = args.iter().position(|a| a == flag) else { return Ok(None) };
    let value = args.get(i + 1).ok_or(format!("{flag} needs a number"))?.parse()?;
    args.drain(i..i + 2);
    Ok(Some(value))
}
