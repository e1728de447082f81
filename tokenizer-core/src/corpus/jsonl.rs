//! JSONL input: one JSON object per line, of which only the text and language fields are built.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::batch::Sink;
use super::text::{decode_line, LineReader};
use super::CorpusOptions;
use crate::error::{Error, Result};

/// One document per JSON object line; blank lines and empty texts are skipped (counted), null
/// texts too (counted apart).
pub(super) fn read_jsonl(
    path: &Path,
    fallback: Arc<str>,
    options: &CorpusOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let fields = Fields {
        text: options.text_field_name(),
        lang: options.lang_field_name(),
    };
    let mut lines = LineReader::open(path)?;
    while let Some(line) = lines.next_line()? {
        sink.set_position(line.end);
        let Some(raw) = decode_line(&line, options.skip_invalid, sink)? else {
            continue;
        };
        if raw.trim_matches(is_json_whitespace).is_empty() {
            sink.skip_empty();
            continue;
        }
        let record = parse_record(raw, &fields).map_err(|message| Error::Record {
            path: path.to_path_buf(),
            location: format!("line {}", line.number),
            message,
        })?;
        let lang = match record.lang {
            Some(lang) => sink.intern_lang(&lang),
            None => fallback.clone(),
        };
        match record.text {
            Some(text) => sink.push(&lang, &text)?,
            None => sink.skip_null(),
        }
    }
    Ok(())
}

fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Names of the two fields a JSONL reader keeps.
struct Fields<'a> {
    text: &'a str,
    lang: &'a str,
}

/// A JSONL record reduced to what training needs.
#[derive(Debug, PartialEq)]
struct JsonRecord {
    /// `None` when the text is `null` (the record is skipped like an empty one).
    text: Option<String>,
    /// `None` when missing, `null` or blank: the file's language applies.
    lang: Option<String>,
}

/// Parses one JSONL line; the error is a message for [`Error::Record`].
fn parse_record(raw: &str, fields: &Fields<'_>) -> std::result::Result<JsonRecord, String> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let record = RecordSeed(fields)
        .deserialize(&mut de)
        .map_err(json_message)?;
    de.end().map_err(json_message)?;
    let text = match record.text {
        None => return Err(format!("missing field `{}`", fields.text)),
        Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(other) => {
            return Err(format!(
                "field `{}` must be a string (found {})",
                fields.text,
                JsonType(&other)
            ))
        }
    };
    let lang = match record.lang {
        None | Some(Value::Null) => None,
        Some(Value::String(lang)) => Some(lang.trim().to_owned()).filter(|l| !l.is_empty()),
        Some(other) => {
            return Err(format!(
                "field `{}` must be a string or null (found {})",
                fields.lang,
                JsonType(&other)
            ))
        }
    };
    Ok(JsonRecord { text, lang })
}

/// serde_json's message with its "line 1" position (always line 1 here) replaced by the column.
fn json_message(e: serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let base = full.strip_suffix(&position).unwrap_or(&full);
    // Type errors at the start of a value report column 0: no useful position to show.
    let column = if e.column() == 0 {
        String::new()
    } else {
        format!(" (column {})", e.column())
    };
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON: {base}{column}")
        }
        _ => format!("{base}{column}"),
    }
}

/// Names a JSON value's type for error messages.
struct JsonType<'a>(&'a Value);

impl fmt::Display for JsonType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        })
    }
}

/// The text and language fields exactly as found (`None` when absent).
#[derive(Default)]
struct RawRecord {
    text: Option<Value>,
    lang: Option<Value>,
}

/// Deserializes a JSON object keeping only the two wanted fields; other fields are skipped
/// without being built, which matters for records carrying large metadata.
struct RecordSeed<'f>(&'f Fields<'f>);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = RawRecord;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<RawRecord, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = RawRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawRecord, A::Error> {
        let mut record = RawRecord::default();
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            match key {
                Key::Text => record.text = Some(map.next_value()?),
                Key::Lang => record.lang = Some(map.next_value()?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(record)
    }
}

/// Which of the wanted fields a key is.
enum Key {
    Text,
    Lang,
    Other,
}

/// Classifies a key without allocating it.
struct KeySeed<'f>(&'f Fields<'f>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<Key, E> {
        Ok(if key == self.0.text {
            Key::Text
        } else if key == self.0.lang {
            Key::Lang
        } else {
            Key::Other
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::CorpusOptions;

    #[test]
    fn jsonl_language_field_and_fallbacks() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            r#"{"text": "Bonjour", "language": "fr"}"#,
            "",
            r#"{"language": " de ", "extra": {"nested": [1, {"text": 2}]}, "text": "Hallo"}"#,
            r#"{"text": "no lang"}"#,
            r#"{"text": "null lang", "language": null}"#,
            r#"{"text": "blank lang", "language": "  "}"#,
            r#"{"text": null}"#,
            " \t ",
            r#"{"text": ""}"#,
            "{\"text\": \"crlf \\u00e9\\n\"}\r",
        ];
        let path = write(dir.path(), "en.jsonl", lines.join("\n").as_bytes());
        let run = read(&path, CorpusOptions::default()).unwrap();
        let expected = [
            ("fr", "Bonjour"),
            ("de", "Hallo"),
            ("en", "no lang"),
            ("en", "null lang"),
            ("en", "blank lang"),
            ("en", "crlf é\n"),
        ];
        assert_eq!(run.docs(), pairs(&expected));
        assert_eq!((run.stats.documents, run.stats.skipped_empty, run.stats.skipped_null), (6, 3, 1));
    }

    #[test]
    fn jsonl_custom_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "x.ndjson",
            br#"{"content": "tekst", "lang": "pl", "text": 5, "language": 1}"#,
        );
        let options = CorpusOptions {
            text_field: "content".into(),
            lang_field: "lang".into(),
            ..Default::default()
        };
        assert_eq!(
            read(&path, options).unwrap().docs(),
            pairs(&[("pl", "tekst")])
        );
    }

    #[test]
    fn jsonl_bad_records_name_the_line_and_field() {
        let cases = [
            (
                r#"{"text": "b""#,
                "invalid JSON: EOF while parsing an object (column 12)",
            ),
            (r#"{"body": "x"}"#, "missing field `text`"),
            (
                r#"{"text": 5}"#,
                "field `text` must be a string (found a number)",
            ),
            (
                r#"{"text": ["a"]}"#,
                "field `text` must be a string (found an array)",
            ),
            (
                r#"{"text": "a", "language": 3}"#,
                "field `language` must be a string or null (found a number)",
            ),
            (r#"["a"]"#, "invalid type: sequence, expected a JSON object"),
            (
                r#"{"text": "a"} x"#,
                "invalid JSON: trailing characters (column 15)",
            ),
            ("hello", "invalid JSON: expected value (column 1)"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (bad, message) in cases {
            let content = format!("{{\"text\": \"fine\"}}\n\n{bad}\n");
            let path = write(dir.path(), "fr.jsonl", content.as_bytes());
            let result = read(&path, CorpusOptions::default());
            let err_text = result
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert_eq!(err_text, format!("{}: line 3: {message}", path.display()));
            assert_eq!(
                expect_record(result),
                ("line 3".to_owned(), message.to_owned())
            );
        }
    }

    #[test]
    fn jsonl_invalid_utf8_fails_or_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "it.jsonl",
            b"{\"text\": \"ok\"}\n{\"text\": \"\xff\"}\n{\"text\": \"ciao\"}\n",
        );
        assert_eq!(
            expect_invalid_utf8(read(&path, CorpusOptions::default())),
            (path.clone(), 25, 2)
        );
        let run = read(&path, skipping_invalid()).unwrap();
        assert_eq!(run.docs(), pairs(&[("it", "ok"), ("it", "ciao")]));
        assert_eq!(run.stats.skipped_invalid, 1);
    }
}
