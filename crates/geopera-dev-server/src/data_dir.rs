//! The server's data directory: objects live in `objects/`, in-flight uploads in `tmp/`.
//!
//! Without a configured path, a fresh unique directory is made under the system temp dir and
//! removed when the last handle to the server state is dropped.

use super::entropy::{hex, random_bytes};
use std::io;
use std::path::{Path, PathBuf};

/// The directory tree the server stores objects in.
#[derive(Debug)]
pub(super) struct DataDir {
    root: PathBuf,
    owned: bool,
}

impl DataDir {
    /// Uses `configured` (created if missing, never removed) or makes a fresh temp dir (removed on drop).
    pub(super) fn open(configured: Option<&Path>) -> io::Result<DataDir> {
        let dir = match configured {
            Some(path) => {
                std::fs::create_dir_all(path)?;
                DataDir {
                    root: path.to_path_buf(),
                    owned: false,
                }
            }
            None => DataDir {
                root: fresh_temp_dir()?,
                owned: true,
            },
        };
        std::fs::create_dir_all(dir.objects())?;
        std::fs::create_dir_all(dir.tmp())?;
        Ok(dir)
    }

    /// The root directory.
    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    /// Where finished objects live.
    pub(super) fn objects(&self) -> PathBuf {
        self.root.join("objects")
    }

    /// Where uploads are written before they are renamed into place.
    pub(super) fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.owned {
            // Best effort: a leftover temp dir is harmless, and Drop cannot report.
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Creates `<temp>/geopera-dev-<pid>-<random>`, retrying on the (unlikely) name clash.
fn fresh_temp_dir() -> io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let mut last_err = io::Error::other("could not create a unique temp dir");
    for _ in 0..16 {
        let name = format!(
            "geopera-dev-{}-{}",
            std::process::id(),
            hex(&random_bytes()?[..6])
        );
        let path = base.join(name);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last_err = err,
            Err(err) => return Err(err),
        }
    }
    Err(last_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dir_is_created_unique_and_removed_on_drop() {
        let a = DataDir::open(None).unwrap();
        let b = DataDir::open(None).unwrap();
        assert_ne!(a.root(), b.root());
        assert!(a.objects().is_dir() && a.tmp().is_dir());
        let root = a.root().to_path_buf();
        drop(a);
        assert!(!root.exists());
    }

    #[test]
    fn configured_dir_is_kept() {
        let owner = DataDir::open(None).unwrap();
        let inner = owner.root().join("configured");
        drop(DataDir::open(Some(&inner)).unwrap());
        assert!(inner.join("objects").is_dir());
    }
}
