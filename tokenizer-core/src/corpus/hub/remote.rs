//! Reading a Parquet file on the Hub one row group at a time, fetching only what is read: the
//! footer (the file's metadata), then each row group's text and language column chunks.
//!
//! The Parquet decoder reads through [`SparseFile`], a file of which only the fetched byte
//! ranges are present; the rows go through the same code as a local Parquet file
//! ([`super::super::parquet::emit_rows`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::super::batch::Sink;
use super::super::parquet::{emit_rows, guard_parquet, parquet_error, projected_columns, projected_reader};
use super::super::CorpusOptions;
use super::client::{HubClient, RemoteFile};
use crate::error::Result;

/// Bytes fetched from the end of a file for its footer: the metadata of most files fits, so
/// one request finds it; a larger footer takes a second.
const FOOTER_GUESS: u64 = 64 * 1024;
/// The Parquet magic number, at the start and the end of every file.
const MAGIC: &[u8; 4] = b"PAR1";

/// A file of which some byte ranges are present.
#[derive(Clone)]
struct SparseFile {
    len: u64,
    /// Present ranges: start offset and bytes, sorted, not overlapping.
    parts: Arc<Vec<(u64, Bytes)>>,
}

impl SparseFile {
    fn part(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        for (offset, bytes) in self.parts.iter() {
            if start >= *offset && start + length as u64 <= offset + bytes.len() as u64 {
                let from = (start - offset) as usize;
                return Ok(bytes.slice(from..from + length));
            }
        }
        Err(ParquetError::General(format!("bytes {start}..{} were not fetched", start + length as u64)))
    }
}

impl Length for SparseFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for SparseFile {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let (offset, bytes) = self
            .parts
            .iter()
            .find(|(offset, bytes)| start >= *offset && start < offset + bytes.len() as u64)
            .ok_or_else(|| ParquetError::General(format!("byte {start} was not fetched")))?;
        Ok(bytes.slice((start - offset) as usize..).reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.part(start, length)
    }
}

/// Reads one remote Parquet file into the sink, row group by row group, stopping as soon as
/// the sink wants no more documents.
pub(in crate::corpus) fn read_remote_parquet(
    client: &HubClient,
    file: &RemoteFile,
    fallback: Arc<str>,
    options: &CorpusOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let name = PathBuf::from(file.hub_path());
    let path = name.as_path();
    let footer = fetch_footer(client, file, path)?;
    let metadata = guard_parquet(path, || {
        let sparse = SparseFile { len: file.size, parts: Arc::new(vec![footer.clone()]) };
        ArrowReaderMetadata::load(&sparse, ArrowReaderOptions::default()).map_err(|e| parquet_error(path, e))
    })?;
    let roots = projected_columns(path, metadata.schema(), options)?;
    let lang_root = roots.get(1).copied();
    let parquet_meta = metadata.metadata().clone();
    let schema = parquet_meta.file_metadata().schema_descr();
    let total_rows = u64::try_from(parquet_meta.file_metadata().num_rows()).unwrap_or(0);
    let mut first_row = 0u64;
    for (index, group) in parquet_meta.row_groups().iter().enumerate() {
        if !sink.wants_more() {
            break;
        }
        let rows = u64::try_from(group.num_rows()).unwrap_or(0);
        if let Some(label) = single_label(group, schema, lang_root) {
            if !sink.wants_label(&label) {
                first_row += rows;
                continue;
            }
        }
        let mut parts = vec![footer.clone()];
        for (column, chunk) in group.columns().iter().enumerate() {
            if roots.contains(&schema.get_column_root_idx(column)) {
                let (start, length) = chunk.byte_range();
                parts.push((start, Bytes::from(client.fetch_range(file, start, length)?)));
            }
        }
        parts.sort_by_key(|(start, _)| *start);
        let sparse = SparseFile { len: file.size, parts: Arc::new(parts) };
        let mut reader = guard_parquet(path, || {
            let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(sparse, metadata.clone()).with_row_groups(vec![index]);
            projected_reader(path, builder, options)
        })?;
        emit_rows(path, &mut reader, first_row, total_rows, &fallback, options, sink)?;
        first_row += rows;
    }
    Ok(())
}

/// The one language of a row group, when its language column's statistics say every row has
/// the same non-null value: such a group is skipped unfetched when that language is not
/// wanted (Common Corpus' files hold runs of one language).
fn single_label(
    group: &parquet::file::metadata::RowGroupMetaData,
    schema: &parquet::schema::types::SchemaDescriptor,
    lang_root: Option<usize>,
) -> Option<String> {
    let lang_root = lang_root?;
    let column = (0..group.num_columns()).find(|&c| schema.get_column_root_idx(c) == lang_root)?;
    let stats = group.column(column).statistics()?;
    if stats.null_count_opt() != Some(0) {
        return None;
    }
    let (min, max) = (stats.min_bytes_opt()?, stats.max_bytes_opt()?);
    (min == max).then(|| std::str::from_utf8(min).ok().map(|s| s.trim().to_string())).flatten().filter(|s| !s.is_empty())
}

/// The end of the file holding the footer: the metadata, its length and the magic number.
/// Checked before it is cached, so a file that is not Parquet, or was cut short, leaves
/// nothing behind.
fn fetch_footer(client: &HubClient, file: &RemoteFile, path: &Path) -> Result<(u64, Bytes)> {
    let not_parquet = |why: String| parquet_error(path, format!("{why}: not a Parquet file, or a truncated one ({} bytes listed)", file.size));
    if file.size < 12 {
        return Err(not_parquet("too short".into()));
    }
    let guess = FOOTER_GUESS.min(file.size);
    let check = |tail: &[u8]| -> Result<u64> {
        let n = tail.len();
        if &tail[n - 4..] != MAGIC {
            return Err(not_parquet("no PAR1 magic number at the end".into()));
        }
        let metadata_len = u64::from(u32::from_le_bytes(tail[n - 8..n - 4].try_into().expect("4 bytes")));
        if metadata_len + 12 > file.size {
            return Err(not_parquet(format!("its footer claims {metadata_len} bytes of metadata")));
        }
        Ok(metadata_len + 8)
    };
    let tail = client.fetch_range_checked(file, file.size - guess, guess, &|bytes| check(bytes).map(|_| ()))?;
    let needed = check(&tail)?;
    if needed <= guess {
        return Ok((file.size - guess, Bytes::from(tail)));
    }
    let tail = client.fetch_range_checked(file, file.size - needed, needed, &|bytes| check(bytes).map(|_| ()))?;
    Ok((file.size - needed, Bytes::from(tail)))
}
