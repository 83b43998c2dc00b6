//! Content-addressed photo files: `ab/abcdef…0123.jpg`, named by the SHA-256 of their bytes.
//!
//! A name never changes meaning, so it can be served with `Cache-Control: immutable` and cached for a year
//! by phones and any proxy on a slow link; the same photo uploaded twice (a farmer retrying over 3G) is
//! stored once. The two-hex-digit folders keep directories small (256 of them, ~4k files each at a
//! million photos).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The extensions a stored name may have. Only JPEG is produced by the photo pipeline today.
const EXTENSIONS: &[&str] = &["jpg"];
/// Hex digits of a SHA-256.
const HASH_LEN: usize = 64;

/// Where processed photos live on disk.
#[derive(Clone, Debug)]
pub struct MediaStore {
    root: PathBuf,
}

impl MediaStore {
    pub fn new(root: impl Into<PathBuf>) -> MediaStore {
        MediaStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The name `bytes` are stored under: `<first 2 hex>/<sha-256 hex>.<extension>`.
    pub fn name_for(bytes: &[u8], extension: &str) -> String {
        let hash = hex::encode(Sha256::digest(bytes));
        format!("{}/{hash}.{extension}", &hash[..2])
    }

    /// Stores `bytes` and returns their name (see [`MediaStore::name_for`]).
    ///
    /// The file is written under a temporary name in the same folder, flushed to disk, then renamed into
    /// place, so a reader (or a crash) never sees half a photo under a real name. Saving bytes that are
    /// already stored does nothing. `extension` must be one the store serves (`jpg`): anything else is
    /// `InvalidInput`, so a stored file is always reachable through [`MediaStore::path_of`].
    pub async fn save(&self, bytes: &[u8], extension: &str) -> io::Result<String> {
        if !EXTENSIONS.contains(&extension) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("unsupported extension {extension:?}")));
        }
        let (root, bytes, extension) = (self.root.clone(), bytes.to_vec(), extension.to_owned());
        // Hashing and blocking file I/O off the async runtime, in one hop.
        tokio::task::spawn_blocking(move || save_blocking(&root, &bytes, &extension)).await.map_err(io::Error::other)?
    }

    /// The file to serve for a stored `name`, or `None` if `name` is not exactly a name this store makes
    /// (`[0-9a-f]{2}/[0-9a-f]{64}.jpg`, the folder being the hash's first two digits). Nothing else gets
    /// through: no `..`, no absolute path, no other separator, no upper case, no temporary file.
    pub fn path_of(&self, name: &str) -> Option<PathBuf> {
        let (folder, file) = name.split_once('/')?;
        let (hash, extension) = file.split_once('.')?;
        let is_hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let valid = folder.len() == 2
            && hash.len() == HASH_LEN
            && is_hex(hash)
            && hash.starts_with(folder)
            && EXTENSIONS.contains(&extension);
        valid.then(|| self.root.join(folder).join(file))
    }

    /// Deletes the file of a stored `name`; one already gone is not an error.
    pub async fn remove(&self, name: &str) -> io::Result<()> {
        let Some(path) = self.path_of(name) else { return Ok(()) };
        match tokio::fs::remove_file(path).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}

fn save_blocking(root: &Path, bytes: &[u8], extension: &str) -> io::Result<String> {
    let name = MediaStore::name_for(bytes, extension);
    let (folder, file) = name.split_at(2);
    let dir = root.join(folder);
    let path = dir.join(&file[1..]);
    if path.try_exists()? {
        return Ok(name);
    }
    std::fs::create_dir_all(&dir)?;

    // Starts with a dot and has no `.jpg` end, so `path_of` can never hand it out.
    let temp = dir.join(format!(".{}.tmp-{:016x}", &file[1..], rand::random::<u64>()));
    let written = std::fs::File::create_new(&temp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    // Two uploads of the same photo may race here: both renames put identical bytes in place.
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    // Make the rename itself durable; a failure here loses nothing that a retry would not redo.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn save_names_by_content_and_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = MediaStore::new(dir.path());
        let bytes = b"\xFF\xD8\xFF pretend jpeg".to_vec();

        let name = store.save(&bytes, "jpg").await.expect("saved");
        let hash = hex::encode(Sha256::digest(&bytes));
        assert_eq!(name, format!("{}/{hash}.jpg", &hash[..2]));
        assert_eq!(name, MediaStore::name_for(&bytes, "jpg"));

        let path = store.path_of(&name).expect("valid name");
        assert_eq!(path, dir.path().join(&hash[..2]).join(format!("{hash}.jpg")));
        assert_eq!(std::fs::read(&path).expect("readable"), bytes);

        // Twice is a no-op: same name, same single file, no temporary left behind.
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
        assert_eq!(store.save(&bytes, "jpg").await.expect("saved again"), name);
        assert_eq!(std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime"), modified);
        let entries: Vec<_> = std::fs::read_dir(path.parent().expect("folder")).expect("list").collect();
        assert_eq!(entries.len(), 1);

        let other = store.save(b"other bytes", "jpg").await.expect("saved");
        assert_ne!(other, name);
    }

    #[tokio::test]
    async fn save_refuses_extensions_it_would_not_serve() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = MediaStore::new(dir.path());
        for extension in ["png", "", "jpg/../x", "JPG", "../jpg"] {
            let error = store.save(b"x", extension).await.expect_err(extension);
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }

    #[test]
    fn path_of_accepts_only_names_the_store_makes() {
        let store = MediaStore::new("/srv/media");
        let hash = hex::encode(Sha256::digest(b"photo"));
        let good = format!("{}/{hash}.jpg", &hash[..2]);
        assert_eq!(store.path_of(&good), Some(PathBuf::from(format!("/srv/media/{}/{hash}.jpg", &hash[..2]))));

        let wrong_folder = if hash.starts_with("00") { "01" } else { "00" };
        let bad = [
            String::new(),
            "../etc/passwd".into(),
            format!("../{hash}.jpg"),
            format!("{}/../{hash}.jpg", &hash[..2]),
            format!("/{}/{hash}.jpg", &hash[..2]),
            format!("/etc/{hash}.jpg"),
            format!("{}\\{hash}.jpg", &hash[..2]),
            format!("{}/{hash}.jpg/", &hash[..2]),
            format!("{}/{hash}.png", &hash[..2]),
            format!("{}/{hash}.JPG", &hash[..2]),
            format!("{}/{hash}", &hash[..2]),
            format!("{}/{}.jpg", &hash[..2], &hash[..63]),
            format!("{}/{hash}0.jpg", &hash[..2]),
            format!("{}/{}.jpg", &hash[..2], hash.to_uppercase()),
            format!("{wrong_folder}/{hash}.jpg"),
            format!("{}/{}/{hash}.jpg", &hash[..2], &hash[..2]),
            format!("{}/.{hash}.jpg.tmp-0000000000000000", &hash[..2]),
            format!("{}/{}.jpg", &hash[..2], "g".repeat(64)),
            format!("{}/{hash}.jpg\0", &hash[..2]),
            format!("{}/{hash}.jpg.jpg", &hash[..2]),
            hash.clone(),
        ];
        for name in &bad {
            assert_eq!(store.path_of(name), None, "{name:?}");
        }
    }
}
