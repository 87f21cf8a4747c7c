//! Object bytes between HTTP bodies and the disk, with `std::fs` on tokio's blocking pool.
//!
//! Both directions hand whole buffers (512 KiB read, 1 MiB written) to the blocking pool
//! and never copy through `tokio::fs::File`, which reads and writes through a buffer of its
//! own: with 64 KiB chunks that cost the server ~1.7 s of CPU and ~50,000 context switches
//! per GiB served, on the same cores as the client it serves (BENCHMARKS.md).

use super::object_hash::{Hasher, ObjectHashes};
use axum::body::Bytes;
use futures_util::Stream;
use std::fs::File;
use std::io::{self, Read, Write};
use tokio::task::{JoinHandle, spawn_blocking};

/// The most bytes one read of an object puts in one body chunk.
const READ_CHUNK: usize = 512 * 1024;
/// How many body bytes are gathered before they are written out.
const WRITE_BUFFER: usize = 1024 * 1024;

/// `len` bytes of `file` from its current position, in chunks of up to [`READ_CHUNK`]
/// bytes, each read straight into the buffer it is sent in. `sent` hears each chunk's size
/// as it is handed over, and is dropped with the stream. A file that ends before `len`
/// bytes ends the stream with an `UnexpectedEof` error, so the response is cut off rather
/// than finished short.
pub(super) fn read_chunks(
    file: File,
    len: u64,
    sent: impl FnMut(u64) + Send + 'static,
) -> impl Stream<Item = io::Result<Bytes>> + Send {
    futures_util::stream::unfold(Some((file, len, sent)), |state| async move {
        let (file, left, mut sent) = state?;
        let want = usize::try_from(left).map_or(READ_CHUNK, |left| left.min(READ_CHUNK));
        if want == 0 {
            return None;
        }
        let read = spawn_blocking(move || {
            let mut chunk = Vec::with_capacity(want);
            (&file).take(want as u64).read_to_end(&mut chunk)?;
            Ok((file, chunk))
        })
        .await
        .unwrap_or_else(|joined| Err(io::Error::other(joined)));
        match read {
            Ok((_, chunk)) if chunk.is_empty() => Some((
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the object is shorter than when the response began",
                )),
                None,
            )),
            Ok((file, chunk)) => {
                let n = chunk.len() as u64;
                sent(n);
                Some((
                    Ok(Bytes::from(chunk)),
                    Some((file, left.saturating_sub(n), sent)),
                ))
            }
            Err(err) => Some((Err(err), None)),
        }
    })
}

/// Writes body chunks to a file: they are gathered into a buffer of about [`WRITE_BUFFER`]
/// bytes, which is written on the blocking pool once the next chunk would not fit, while
/// the next buffer fills (one write in flight, two buffers in all; a single chunk larger
/// than [`WRITE_BUFFER`] makes its buffer grow to fit). The object's hashes are computed
/// on the same blocking thread, as each buffer is written.
pub(super) struct ChunkWriter {
    buffer: Vec<u8>,
    state: WriterState,
}

/// The file and the hashes of what was written to it.
type Sink = (File, Hasher);

enum WriterState {
    Idle(Sink),
    Writing(JoinHandle<io::Result<(Sink, Vec<u8>)>>),
    Failed,
}

impl ChunkWriter {
    /// A writer that appends to `file`.
    pub(super) fn new(file: File) -> ChunkWriter {
        ChunkWriter {
            buffer: Vec::with_capacity(WRITE_BUFFER),
            state: WriterState::Idle((file, Hasher::default())),
        }
    }

    /// Takes `chunk`, starting a write when the buffer would overflow.
    pub(super) async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.buffer.len() + chunk.len() > WRITE_BUFFER && !self.buffer.is_empty() {
            self.start_write().await?;
        }
        self.buffer.extend_from_slice(chunk);
        Ok(())
    }

    /// Writes what is buffered, waits until every byte is in the file, and gives the
    /// hashes of every byte written.
    pub(super) async fn finish(mut self) -> io::Result<ObjectHashes> {
        if !self.buffer.is_empty() {
            self.start_write().await?;
        }
        let ((_, hasher), _) = self.settle().await?;
        Ok(hasher.finish())
    }

    /// Waits for the write in flight, then starts writing the buffer; the emptied buffer of
    /// the finished write (or a new one) is filled next.
    async fn start_write(&mut self) -> io::Result<()> {
        let ((file, mut hasher), spare) = self.settle().await?;
        let full = std::mem::replace(
            &mut self.buffer,
            spare.unwrap_or_else(|| Vec::with_capacity(WRITE_BUFFER)),
        );
        self.state = WriterState::Writing(spawn_blocking(move || {
            (&file).write_all(&full)?;
            hasher.update(&full);
            Ok(((file, hasher), full))
        }));
        Ok(())
    }

    /// Waits for the write in flight, if any, and gives back the file (with its hashes)
    /// and that write's buffer, emptied. After a failure every call fails.
    async fn settle(&mut self) -> io::Result<(Sink, Option<Vec<u8>>)> {
        match std::mem::replace(&mut self.state, WriterState::Failed) {
            WriterState::Idle(sink) => Ok((sink, None)),
            WriterState::Writing(write) => {
                let (sink, mut done) = write
                    .await
                    .unwrap_or_else(|joined| Err(io::Error::other(joined)))?;
                done.clear();
                Ok((sink, Some(done)))
            }
            WriterState::Failed => Err(io::Error::other("an earlier write failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_dir::DataDir;
    use futures_util::StreamExt;
    use std::io::{Seek, SeekFrom};
    use std::sync::{Arc, Mutex};

    /// Bytes that never repeat at any offset a chunk or buffer size could hit.
    fn content(len: usize) -> Vec<u8> {
        (0..len as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect()
    }

    #[tokio::test]
    async fn written_chunks_land_whole_and_in_order_across_buffer_edges() {
        let dir = DataDir::open(None).unwrap();
        let path = dir.tmp().join("out");
        let sizes = [
            1,
            WRITE_BUFFER - 1,
            2,
            2 * WRITE_BUFFER + 5,
            7,
            WRITE_BUFFER,
        ];
        let bytes = content(sizes.iter().sum());
        let mut writer = ChunkWriter::new(File::create(&path).unwrap());
        let mut at = 0;
        for size in sizes {
            writer.write(&bytes[at..at + size]).await.unwrap();
            at += size;
        }
        let hashes = writer.finish().await.unwrap();
        assert!(std::fs::read(&path).unwrap() == bytes);
        assert_eq!(hashes, ObjectHashes::of(&bytes));
    }

    #[tokio::test]
    async fn reads_exactly_the_range_and_reports_every_chunk_sent() {
        let dir = DataDir::open(None).unwrap();
        let path = dir.tmp().join("in");
        let bytes = content(3 * READ_CHUNK + 11);
        std::fs::write(&path, &bytes).unwrap();
        let (start, len) = (READ_CHUNK / 2 + 3, 2 * READ_CHUNK + 1);
        let mut file = File::open(&path).unwrap();
        file.seek(SeekFrom::Start(start as u64)).unwrap();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let heard = reports.clone();
        let chunks: Vec<Bytes> = read_chunks(file, len as u64, move |n| {
            heard.lock().unwrap().push(n);
        })
        .map(|chunk| chunk.unwrap())
        .collect()
        .await;
        assert!(chunks.concat() == bytes[start..start + len]);
        let sizes: Vec<u64> = chunks.iter().map(|c| c.len() as u64).collect();
        assert_eq!(*reports.lock().unwrap(), sizes);
        assert_eq!(sizes, [READ_CHUNK as u64, READ_CHUNK as u64, 1]);
    }

    #[tokio::test]
    async fn a_file_shorter_than_asked_gives_what_it_has_then_an_eof_error() {
        let dir = DataDir::open(None).unwrap();
        let path = dir.tmp().join("short");
        let bytes = content(1000);
        std::fs::write(&path, &bytes).unwrap();
        let items: Vec<io::Result<Bytes>> = read_chunks(File::open(&path).unwrap(), 5000, |_| {})
            .collect()
            .await;
        assert_eq!(items.len(), 2, "the data, then one error, then the end");
        assert!(items[0].as_ref().unwrap()[..] == bytes[..]);
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_and_every_later_call_fails() {
        let dir = DataDir::open(None).unwrap();
        let path = dir.tmp().join("read-only");
        std::fs::write(&path, b"").unwrap();
        // Opened for reading only: every write(2) fails.
        let mut writer = ChunkWriter::new(File::open(&path).unwrap());
        let chunk = content(WRITE_BUFFER);
        writer.write(&chunk).await.unwrap(); // buffered
        writer.write(&chunk).await.unwrap(); // starts the first write, which fails
        assert!(writer.write(&chunk).await.is_err(), "the failure surfaces");
        assert!(
            writer.write(b"x").await.is_err(),
            "and so does every later call"
        );
        assert!(writer.finish().await.is_err());
    }
}
