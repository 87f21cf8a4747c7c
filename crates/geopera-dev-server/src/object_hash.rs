//! The hashes Google Cloud Storage keeps for an object and sends in `x-goog-hash`: CRC32C
//! (Castagnoli) and MD5, each base64 of its big-endian bytes; the `ETag` is the quoted hex
//! MD5, as GCS gives for an object uploaded in one piece. Computed once, while a PUT's body
//! is written, and stored with the object.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};

/// An object's stored hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectHashes {
    /// CRC32C of the whole object.
    pub(crate) crc32c: u32,
    /// MD5 of the whole object.
    pub(crate) md5: [u8; 16],
}

impl ObjectHashes {
    /// The hashes of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> ObjectHashes {
        let mut hasher = Hasher::default();
        hasher.update(bytes);
        hasher.finish()
    }

    /// `crc32c=<base64>,md5=<base64>`, the value of `x-goog-hash`.
    pub(crate) fn header(&self) -> String {
        format!(
            "crc32c={},md5={}",
            STANDARD.encode(self.crc32c.to_be_bytes()),
            STANDARD.encode(self.md5)
        )
    }

    /// `"<hex md5>"`, a strong ETag.
    pub(crate) fn etag(&self) -> String {
        format!("\"{}\"", super::entropy::hex(&self.md5))
    }
}

/// Both hashes, fed a body chunk by chunk.
#[derive(Clone, Default)]
pub(crate) struct Hasher {
    crc32c: u32,
    md5: Md5,
}

impl Hasher {
    /// Adds the next bytes.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.crc32c = crc32c::crc32c_append(self.crc32c, bytes);
        self.md5.update(bytes);
    }

    /// The hashes of everything added.
    pub(crate) fn finish(self) -> ObjectHashes {
        ObjectHashes {
            crc32c: self.crc32c,
            md5: self.md5.finalize().into(),
        }
    }
}

/// The hashes a client declared in `x-goog-hash` headers (one or several, each a
/// comma-separated list of `name=base64`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Declared {
    /// A declared CRC32C.
    pub(crate) crc32c: Option<u32>,
    /// A declared MD5.
    pub(crate) md5: Option<[u8; 16]>,
}

/// Reads `x-goog-hash` values; `Err` names the first entry that is not a well-formed
/// `crc32c=` (4 bytes) or `md5=` (16 bytes) value. Other algorithms are ignored.
pub(crate) fn parse_declared<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Declared, String> {
    let mut declared = Declared::default();
    for entry in values.into_iter().flat_map(|value| value.split(',')) {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let (name, value) = entry.split_once('=').ok_or_else(|| entry.to_owned())?;
        let decode = || STANDARD.decode(value.trim()).ok();
        match name.trim().to_ascii_lowercase().as_str() {
            "crc32c" => {
                let bytes: [u8; 4] = decode()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| entry.to_owned())?;
                declared.crc32c = Some(u32::from_be_bytes(bytes));
            }
            "md5" => {
                let bytes: [u8; 16] = decode()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| entry.to_owned())?;
                declared.md5 = Some(bytes);
            }
            _ => {}
        }
    }
    Ok(declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_published_check_values() {
        let hashes = ObjectHashes::of(b"123456789");
        assert_eq!(hashes.crc32c, 0xE306_9283);
        assert_eq!(
            hashes.etag(),
            "\"25f9e794323b453885f5181f1b624d0b\"",
            "MD5 of 123456789"
        );
        assert_eq!(
            hashes.header(),
            "crc32c=4waSgw==,md5=JfnnlDI7RTiF9RgfG2JNCw=="
        );
        let mut chunked = Hasher::default();
        chunked.update(b"1234");
        chunked.update(b"");
        chunked.update(b"56789");
        assert_eq!(chunked.finish(), hashes);
    }

    #[test]
    fn declared_hashes_are_read_from_one_or_several_headers() {
        let hashes = ObjectHashes::of(b"123456789");
        assert_eq!(
            parse_declared([hashes.header().as_str()]),
            Ok(Declared {
                crc32c: Some(hashes.crc32c),
                md5: Some(hashes.md5)
            })
        );
        assert_eq!(
            parse_declared(["crc32c=4waSgw==", " MD5 = JfnnlDI7RTiF9RgfG2JNCw== "]),
            Ok(Declared {
                crc32c: Some(hashes.crc32c),
                md5: Some(hashes.md5)
            })
        );
        assert_eq!(parse_declared(["sha256=abc"]), Ok(Declared::default()));
        assert_eq!(parse_declared(["crc32c=AAAA"]), Err("crc32c=AAAA".into()));
        assert_eq!(parse_declared(["crc32c"]), Err("crc32c".into()));
        assert_eq!(parse_declared(["md5=!!"]), Err("md5=!!".into()));
    }
}
