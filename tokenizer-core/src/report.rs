//! Rendering comparison rows: text table, Markdown, CSV, JSON, an SVG chart, and a
//! self-contained HTML report (tables and charts, no network).

use std::fmt::Write;

use crate::compare::Row;

/// Output formats of a comparison table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// A GitHub Markdown table.
    Markdown,
    /// Every column, comma-separated, with a header.
    Csv,
    /// A JSON list of row objects (every column).
    Json,
}

impl Format {
    /// Parses `table`, `md`, `csv` or `json`.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "table" => Format::Table,
            "md" | "markdown" => Format::Markdown,
            "csv" => Format::Csv,
            "json" => Format::Json,
            _ => return None,
        })
    }
}

/// The columns of the table and Markdown formats: (header, value).
type Column = (&'static str, fn(&Row) -> String);

fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(String::new, |v| format!("{v:.digits$}"))
}

const SHORT_COLUMNS: [Column; 11] = [
    ("tokenizer", |r| r.tokenizer.clone()),
    ("lang", |r| r.lang.clone()),
    ("tokens", |r| r.tokens.to_string()),
    ("fertility", |r| num(r.fertility, 3)),
    ("chars/tok", |r| num(r.chars_per_token, 3)),
    ("bytes/tok", |r| num(r.bytes_per_token, 3)),
    ("cont_words", |r| num(r.cont_words, 3)),
    ("parity", |r| num(r.parity, 3)),
    ("parity_p90", |r| num(r.parity_p90, 3)),
    ("renyi", |r| num(r.renyi, 3)),
    ("vocab_use", |r| num(r.vocab_use, 4)),
];

/// Renders `rows` in `format`.
pub fn render(rows: &[Row], format: Format) -> String {
    match format {
        Format::Table => table(rows),
        Format::Markdown => markdown(rows),
        Format::Csv => csv(rows),
        Format::Json => serde_json::to_string_pretty(rows).expect("rows serialize") + "\n",
    }
}

fn cells(rows: &[Row]) -> Vec<Vec<String>> {
    rows.iter().map(|r| SHORT_COLUMNS.iter().map(|(_, f)| f(r)).collect()).collect()
}

fn table(rows: &[Row]) -> String {
    let body = cells(rows);
    let widths: Vec<usize> = SHORT_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (h, _))| body.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(h.len()))
        .collect();
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| if i < 2 { format!("{c:<w$}", w = widths[i]) } else { format!("{c:>w$}", w = widths[i]) })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(SHORT_COLUMNS.iter().map(|(h, _)| h.to_string()).collect(), &mut out);
    for r in body {
        line(r, &mut out);
    }
    out
}

fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let headers: Vec<&str> = SHORT_COLUMNS.iter().map(|(h, _)| *h).collect();
    writeln!(out, "| {} |", headers.join(" | ")).unwrap();
    writeln!(out, "|{}", headers.iter().enumerate().map(|(i, _)| if i < 2 { "---|" } else { "---:|" }).collect::<String>()).unwrap();
    for r in cells(rows) {
        writeln!(out, "| {} |", r.join(" | ")).unwrap();
    }
    out
}

/// The JSON keys of a row, in order (also the CSV header).
fn keys() -> Vec<String> {
    let empty = Row {
        tokenizer: String::new(),
        lang: String::new(),
        lines: 0,
        tokens: 0,
        words: 0,
        chars: 0,
        bytes: 0,
        fertility: None,
        chars_per_token: None,
        bytes_per_token: None,
        cont_words: None,
        parity: None,
        parity_mean: None,
        parity_median: None,
        parity_p90: None,
        renyi: None,
        vocab_use: None,
        gini: None,
        unused_tokens: 0,
        model_vocab: 0,
    };
    match serde_json::to_value(&empty).expect("row serializes") {
        serde_json::Value::Object(map) => map.keys().cloned().collect(),
        _ => unreachable!("a row is an object"),
    }
}

fn csv(rows: &[Row]) -> String {
    let keys = keys();
    let mut out = keys.join(",") + "\n";
    for r in rows {
        let value = serde_json::to_value(r).expect("row serializes");
        let fields: Vec<String> = keys
            .iter()
            .map(|k| match &value[k] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) if s.contains([',', '"', '\n']) => format!("\"{}\"", s.replace('"', "\"\"")),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// Distinct colours for up to ten tokenizers (then they repeat).
const PALETTE: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/// Escapes text for SVG/HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A round upper bound for an axis and its tick step.
fn axis(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 {
        return (1.0, 0.25);
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0] {
        let step = step * magnitude;
        let top = (max / step).ceil() * step;
        if top / step <= 8.0 {
            return (top, step);
        }
    }
    (max, max / 4.0)
}

/// One grouped bar chart: languages along x, a bar per tokenizer, `value` up.
fn bar_panel(rows: &[Row], title: &str, value: fn(&Row) -> Option<f64>, top: f64, out: &mut String) {
    let (width, height) = (960.0, 300.0);
    let (left, right, above, below) = (60.0, 20.0, 36.0, 40.0);
    let mut langs: Vec<&str> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !langs.contains(&r.lang.as_str()) {
            langs.push(&r.lang);
        }
        if !names.contains(&r.tokenizer.as_str()) {
            names.push(&r.tokenizer);
        }
    }
    let max = rows.iter().filter_map(value).fold(0.0, f64::max);
    let (y_max, step) = axis(max);
    let plot_h = height - above - below;
    let y = |v: f64| top + above + plot_h * (1.0 - v / y_max);
    writeln!(out, r#"<text x="{left}" y="{}" font-size="16" font-weight="bold">{}</text>"#, top + 22.0, escape(title)).unwrap();
    let mut tick = 0.0;
    while tick <= y_max + 1e-9 {
        writeln!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            width - right,
            left - 6.0,
            y(tick) + 4.0,
            format!("{tick:.2}").trim_end_matches('0').trim_end_matches('.'),
            y = y(tick)
        )
        .unwrap();
        tick += step;
    }
    let group_w = (width - left - right) / langs.len().max(1) as f64;
    let bar_w = (group_w * 0.8) / names.len().max(1) as f64;
    for (li, lang) in langs.iter().enumerate() {
        let gx = left + group_w * li as f64 + group_w * 0.1;
        for (ti, name) in names.iter().enumerate() {
            let Some(v) = rows.iter().find(|r| r.lang == *lang && r.tokenizer == *name).and_then(value) else { continue };
            writeln!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} {}: {v:.3}</title></rect>"#,
                gx + bar_w * ti as f64,
                y(v),
                (bar_w - 1.0).max(1.0),
                y(0.0) - y(v),
                PALETTE[ti % PALETTE.len()],
                escape(name),
                escape(lang)
            )
            .unwrap();
        }
        writeln!(out, r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text>"#, gx + group_w * 0.4, y(0.0) + 16.0, escape(lang)).unwrap();
    }
    writeln!(out, r##"<line x1="{left}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#333"/>"##, width - right, y0 = y(0.0)).unwrap();
}

/// An SVG with two grouped bar charts: parity vs the reference language, and characters per
/// token, per language and tokenizer, with a legend.
pub fn svg_chart(rows: &[Row], reference: &str) -> String {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !names.contains(&r.tokenizer.as_str()) {
            names.push(&r.tokenizer);
        }
    }
    let legend_h = 24.0 * names.len().div_ceil(4) as f64 + 10.0;
    let total_h = 600.0 + legend_h;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="{total_h}" viewBox="0 0 960 {total_h}" font-family="Helvetica, Arial, sans-serif">
<rect width="960" height="{total_h}" fill="white"/>
"#
    );
    for (i, name) in names.iter().enumerate() {
        let (x, y) = (60.0 + 225.0 * (i % 4) as f64, 10.0 + 24.0 * (i / 4) as f64);
        writeln!(
            out,
            r#"<rect x="{x}" y="{y}" width="14" height="14" fill="{}"/><text x="{}" y="{}" font-size="13">{}</text>"#,
            PALETTE[i % PALETTE.len()],
            x + 20.0,
            y + 12.0,
            escape(name)
        )
        .unwrap();
    }
    bar_panel(rows, &format!("Parity vs {reference} (tokens / {reference} tokens on the same lines; lower is cheaper)"), |r| r.parity, legend_h, &mut out);
    bar_panel(rows, "Characters per token (higher is better compression)", |r| r.chars_per_token, legend_h + 300.0, &mut out);
    out.push_str("</svg>\n");
    out
}

/// A self-contained HTML page: the chart, a summary per tokenizer, and the full table.
pub fn html_report(rows: &[Row], title: &str, reference: &str) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>body{{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}td,th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}}td:nth-child(-n+2),th:nth-child(-n+2){{text-align:left}}th{{background:#f4f4f4}}</style></head><body>\n<h1>{t}</h1>",
        t = escape(title)
    )
    .unwrap();
    out.push_str(&svg_chart(rows, reference));
    out.push_str("<h2>Per tokenizer</h2>\n<table><tr><th>tokenizer</th><th>|V|</th><th>Gini of token totals</th><th>unused tokens</th></tr>\n");
    let mut seen: Vec<&str> = Vec::new();
    for r in rows {
        if seen.contains(&r.tokenizer.as_str()) {
            continue;
        }
        seen.push(&r.tokenizer);
        writeln!(out, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&r.tokenizer), r.model_vocab, num(r.gini, 4), r.unused_tokens).unwrap();
    }
    out.push_str("</table>\n<h2>Per tokenizer and language</h2>\n<table><tr>");
    for (h, _) in SHORT_COLUMNS {
        write!(out, "<th>{h}</th>").unwrap();
    }
    out.push_str("</tr>\n");
    for r in cells(rows) {
        out.push_str("<tr>");
        for c in r {
            write!(out, "<td>{}</td>", escape(&c)).unwrap();
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<p>Definitions: see the <code>polybpe::metrics</code> documentation (words are UAX #29 words; parity is the ratio of token totals on line-aligned text; Rényi efficiency uses α = 2.5 over ln |V|).</p>\n</body></html>\n");
    out
}

/// Writes the chart of `rows` to `path` (atomically): an SVG for `.svg`, the HTML report for
/// `.html`/`.htm`; any other extension is an error naming the file.
pub fn write_chart(rows: &[Row], path: &std::path::Path, reference: &str) -> crate::Result<()> {
    let body = match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => svg_chart(rows, reference),
        Some("html" | "htm") => html_report(rows, "Tokenizer comparison", reference),
        _ => return Err(crate::Error::config(format!("{}: a chart file must end in .svg or .html", path.display()))),
    };
    crate::io::write_atomic(path, body.as_bytes())
}
