//! Parquet input: a string text column and an optional string language column, read in row
//! batches with only those two columns decoded. Built with the `parquet` cargo feature.

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    AnyDictionaryArray, Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::ChunkReader;

use super::batch::Sink;
use super::CorpusOptions;
use crate::error::{Error, Result};

/// Rows decoded per Parquet read: large enough to amortize decoding, small enough that a batch of
/// ~6 KB documents stays around 6 MB.
const PARQUET_BATCH_ROWS: usize = 1024;

/// One document per row with a non-empty text; the language column, where set, tags the row.
pub(super) fn read_parquet(
    path: &Path,
    fallback: Arc<str>,
    options: &CorpusOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let (mut reader, total_rows) = guard_parquet(path, move || {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(path, e))?;
        let total_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        Ok((projected_reader(path, builder, options)?, total_rows))
    })?;
    emit_rows(path, &mut reader, 0, total_rows, &fallback, options, sink)
}

/// Hands the rows of `reader` to the sink; `first_row` is the file row it starts at and
/// `total_rows` the file's row count (for progress).
pub(super) fn emit_rows(
    path: &Path,
    reader: &mut ParquetRecordBatchReader,
    first_row: u64,
    total_rows: u64,
    fallback: &Arc<str>,
    options: &CorpusOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut rows_done = first_row;
    let names = (options.text_field_name(), options.lang_field_name());
    while let Some(batch) = next_parquet_batch(path, reader, rows_done)? {
        let rows = ParquetRows {
            path,
            batch: &batch,
            names,
            first_row: rows_done,
            total_rows,
        };
        rows.emit(fallback, sink)?;
        rows_done += batch.num_rows() as u64;
    }
    Ok(())
}

/// A reader of the text and language columns only.
pub(super) fn projected_reader<T: ChunkReader + 'static>(
    path: &Path,
    builder: ParquetRecordBatchReaderBuilder<T>,
    options: &CorpusOptions,
) -> Result<ParquetRecordBatchReader> {
    let columns = projected_columns(path, builder.schema(), options)?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), columns);
    builder
        .with_projection(mask)
        .with_batch_size(PARQUET_BATCH_ROWS)
        .build()
        .map_err(|e| parquet_error(path, e))
}

fn next_parquet_batch(
    path: &Path,
    reader: &mut ParquetRecordBatchReader,
    rows_done: u64,
) -> Result<Option<RecordBatch>> {
    guard_parquet(path, || match reader.next() {
        None => Ok(None),
        Some(Ok(batch)) => Ok(Some(batch)),
        Some(Err(e)) => Err(parquet_error(
            path,
            format!("reading rows from {rows_done}: {e}"),
        )),
    })
}

/// Runs a Parquet decoding step, turning a panic of the decoder on a corrupt file into an error:
/// a damaged input must not abort a training run without naming the file.
pub(super) fn guard_parquet<T>(path: &Path, step: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(step)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown cause");
        Err(parquet_error(
            path,
            format!("corrupt file (decoder failed: {detail})"),
        ))
    })
}

pub(super) fn parquet_error(path: &Path, message: impl ToString) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Root indices of the text column and, if present, the language column; both must be strings.
pub(super) fn projected_columns(path: &Path, schema: &Schema, options: &CorpusOptions) -> Result<Vec<usize>> {
    let text_name = options.text_field_name();
    let Some(text) = schema.fields().iter().position(|f| f.name() == text_name) else {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let message = format!("no column `{text_name}` (columns: {})", names.join(", "));
        return Err(parquet_error(path, message));
    };
    let mut columns = vec![text];
    let lang_name = options.lang_field_name();
    if let Some(lang) = schema.fields().iter().position(|f| f.name() == lang_name) {
        columns.push(lang);
    }
    for &index in &columns {
        let field = &schema.fields()[index];
        if !is_string_type(field.data_type()) {
            let message = format!(
                "column `{}` has type {}; expected a string column (Utf8, LargeUtf8, Utf8View or a dictionary of them)",
                field.name(),
                field.data_type()
            );
            return Err(parquet_error(path, message));
        }
    }
    Ok(columns)
}

fn is_string_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_string_type(values),
        _ => false,
    }
}

/// One decoded Parquet batch and where it sits in its file.
struct ParquetRows<'a> {
    path: &'a Path,
    batch: &'a RecordBatch,
    names: (&'a str, &'a str),
    first_row: u64,
    total_rows: u64,
}

impl ParquetRows<'_> {
    fn emit(&self, fallback: &Arc<str>, sink: &mut Sink<'_>) -> Result<()> {
        let text = self
            .column(self.names.0)?
            .ok_or_else(|| self.missing(self.names.0))?;
        let lang = self.column(self.names.1)?;
        for row in 0..self.batch.num_rows() {
            sink.set_position(self.position(row, sink.file_size()));
            let Some(value) = text.get(row) else {
                sink.skip_null();
                continue;
            };
            let tag = match lang.as_ref().and_then(|c| c.get(row)).map(str::trim) {
                Some(l) if !l.is_empty() => sink.intern_lang(l),
                _ => fallback.clone(),
            };
            sink.push(&tag, value)?;
        }
        Ok(())
    }

    /// The named column as strings; `None` when the batch lacks it.
    fn column(&self, name: &str) -> Result<Option<StrColumn<'_>>> {
        let Some(array) = self.batch.column_by_name(name) else {
            return Ok(None);
        };
        match StrColumn::new(array.as_ref()) {
            Some(column) => Ok(Some(column)),
            None => Err(parquet_error(
                self.path,
                format!(
                    "column `{name}` has type {}; expected a string column",
                    array.data_type()
                ),
            )),
        }
    }

    fn missing(&self, name: &str) -> Error {
        parquet_error(
            self.path,
            format!("rows from {}: no column `{name}`", self.first_row),
        )
    }

    /// Byte position for progress: the share of rows read times the file size.
    fn position(&self, row: usize, file_size: u64) -> u64 {
        if self.total_rows == 0 {
            return 0;
        }
        let rows_read = u128::from(self.first_row) + row as u128 + 1;
        let pos = u128::from(file_size) * rows_read / u128::from(self.total_rows);
        u64::try_from(pos).unwrap_or(file_size)
    }
}

/// A string column of any of the Arrow string layouts Parquet readers produce.
enum StrColumn<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    View(&'a StringViewArray),
    Dictionary {
        array: &'a dyn AnyDictionaryArray,
        keys: Vec<usize>,
        values: Box<StrColumn<'a>>,
    },
}

impl<'a> StrColumn<'a> {
    fn new(array: &'a dyn Array) -> Option<Self> {
        if let Some(a) = array.as_string_opt::<i32>() {
            return Some(StrColumn::Utf8(a));
        }
        if let Some(a) = array.as_string_opt::<i64>() {
            return Some(StrColumn::LargeUtf8(a));
        }
        if let Some(a) = array.as_string_view_opt() {
            return Some(StrColumn::View(a));
        }
        let dict = array.as_any_dictionary_opt()?;
        let values = Box::new(StrColumn::new(dict.values().as_ref())?);
        // `normalized_keys` needs at least one value; with none, every key is null.
        let keys = if dict.values().is_empty() {
            Vec::new()
        } else {
            dict.normalized_keys()
        };
        Some(StrColumn::Dictionary {
            array: dict,
            keys,
            values,
        })
    }

    /// The value at `row`, `None` when null.
    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            StrColumn::Utf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            StrColumn::LargeUtf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            StrColumn::View(a) => (!a.is_null(row)).then(|| a.value(row)),
            StrColumn::Dictionary {
                array,
                keys,
                values,
            } => {
                if array.is_null(row) {
                    return None;
                }
                values.get(*keys.get(row)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, DictionaryArray, Int64Array};
    use arrow_schema::Field;
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::super::test_support::*;
    use super::*;

    fn shared_dir() -> PathBuf {
        match std::env::var_os("POLYBPE_SHARED") {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        }
    }

    fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>, row_group_rows: usize) {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_size(row_group_rows)
            .build();
        let mut writer =
            ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn expect_parquet(result: Result<Run>) -> String {
        match result {
            Err(Error::Parquet { message, .. }) => message,
            Err(other) => panic!("expected Parquet error, got {other}"),
            Ok(_) => panic!("expected Parquet error, got Ok"),
        }
    }

    #[test]
    fn parquet_text_and_language_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.parquet");
        let text = strings(&[
            Some("Bonjour"),
            None,
            Some("Hello"),
            Some("Hola"),
            Some(""),
            Some("Ciao"),
        ]);
        let lang = strings(&[
            Some("fr"),
            Some("fr"),
            None,
            Some(" "),
            Some("es"),
            Some(" it "),
        ]);
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5, 6]));
        write_parquet(
            &path,
            vec![("id", ids), ("text", text), ("language", lang)],
            1024,
        );
        let run = read(&path, CorpusOptions::default()).unwrap();
        let expected = [
            ("fr", "Bonjour"),
            ("mixed", "Hello"),
            ("mixed", "Hola"),
            ("it", "Ciao"),
        ];
        assert_eq!(run.docs(), pairs(&expected));
        assert_eq!((run.stats.documents, run.stats.skipped_empty, run.stats.skipped_null), (4, 1, 1));
    }

    #[test]
    fn parquet_large_and_dictionary_strings_over_many_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.parquet");
        let texts: Vec<String> = (0..2500).map(|i| format!("document {i}")).collect();
        let text: ArrayRef = Arc::new(LargeStringArray::from(
            texts.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        let langs: DictionaryArray<Int32Type> =
            (0..2500).map(|i| ["fr", "de", "pl"][i % 3]).collect();
        write_parquet(
            &path,
            vec![("text", text), ("language", Arc::new(langs))],
            1000,
        );
        let run = run(std::slice::from_ref(&path), CorpusOptions::default(), 4096).unwrap();
        let docs = run.docs();
        assert_eq!(docs.len(), 2500);
        assert_eq!(docs[1], ("de".to_owned(), "document 1".to_owned()));
        assert_eq!(docs[2499], ("fr".to_owned(), "document 2499".to_owned()));
        assert_progress_is_monotonic(&run, fs::metadata(&path).unwrap().len());
        assert!(run.progress.len() > 3, "{:?}", run.progress);
    }

    #[test]
    fn parquet_string_view_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nl.parquet");
        let text: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("een heel lang document van meer dan twaalf"),
            None,
            Some("kort"),
        ]));
        write_parquet(&path, vec![("text", text)], 1024);
        let run = read(&path, CorpusOptions::default()).unwrap();
        assert_eq!(
            run.docs(),
            pairs(&[
                ("nl", "een heel lang document van meer dan twaalf"),
                ("nl", "kort")
            ])
        );
    }

    #[test]
    fn parquet_without_text_column_or_with_wrong_type() {
        let dir = tempfile::tempdir().unwrap();
        let no_text = dir.path().join("no_text.parquet");
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        write_parquet(
            &no_text,
            vec![("id", ids.clone()), ("body", strings(&[Some("x")]))],
            1024,
        );
        let result = read(&no_text, CorpusOptions::default());
        let display = result
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            display,
            format!(
                "{}: cannot read Parquet: no column `text` (columns: id, body)",
                no_text.display()
            )
        );
        assert_eq!(
            expect_parquet(result),
            "no column `text` (columns: id, body)"
        );

        let numeric = dir.path().join("numeric.parquet");
        write_parquet(&numeric, vec![("text", ids)], 1024);
        let message = expect_parquet(read(&numeric, CorpusOptions::default()));
        assert!(
            message.starts_with("column `text` has type Int64; expected a string column"),
            "{message}"
        );
    }

    #[test]
    fn parquet_garbage_and_truncated_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = write(
            dir.path(),
            "garbage.parquet",
            b"this is not a parquet file at all, only words",
        );
        assert!(!expect_parquet(read(&garbage, CorpusOptions::default())).is_empty());
        let empty = write(dir.path(), "empty.parquet", b"");
        assert!(!expect_parquet(read(&empty, CorpusOptions::default())).is_empty());

        let good = dir.path().join("good.parquet");
        write_parquet(
            &good,
            vec![("text", strings(&[Some("alpha"), Some("beta")]))],
            1024,
        );
        let bytes = fs::read(&good).unwrap();
        let truncated = write(dir.path(), "cut.parquet", &bytes[..bytes.len() / 2]);
        assert!(!expect_parquet(read(&truncated, CorpusOptions::default())).is_empty());
    }

    #[test]
    fn parquet_corrupted_pages_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.parquet");
        let texts: Vec<String> = (0..300)
            .map(|i| format!("text number {i} with some words"))
            .collect();
        let text: ArrayRef = Arc::new(StringArray::from(
            texts.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        write_parquet(&good, vec![("text", text)], 100);
        let bytes = fs::read(&good).unwrap();
        for at in (4..bytes.len() - 8).step_by(97) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            let path = write(dir.path(), "damaged.parquet", &damaged);
            // Any outcome but a panic is acceptable: flipped text bytes may still decode.
            if let Err(e) = read(&path, CorpusOptions::default()) {
                assert!(matches!(e, Error::Parquet { .. }), "{e}");
            }
        }
    }

    #[test]
    fn shared_sample_jsonl_and_parquet_agree() {
        let corpus_dir = shared_dir().join("corpus");
        let jsonl = corpus_dir.join("sample.jsonl");
        let parquet = corpus_dir.join("sample.parquet");
        if !jsonl.is_file() || !parquet.is_file() {
            eprintln!(
                "skipping: {} or {} is absent",
                jsonl.display(),
                parquet.display()
            );
            return;
        }
        let from_jsonl = run(&[jsonl], CorpusOptions::default(), 1 << 20).unwrap();
        let from_parquet = run(&[parquet], CorpusOptions::default(), 1 << 20).unwrap();
        assert_eq!(from_jsonl.stats.documents, 503);
        assert_eq!(from_parquet.stats.documents, 503);
        assert_eq!(from_jsonl.stats.bytes, from_parquet.stats.bytes);
        let (a, b) = (from_jsonl.docs(), from_parquet.docs());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(x == y, "record {i} differs: {:?} vs {:?}", x.0, y.0);
        }
        assert!(
            a.iter().all(|(lang, _)| lang != "sample"),
            "every record carries a language"
        );
    }
}
