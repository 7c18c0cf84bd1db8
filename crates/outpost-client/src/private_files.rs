//! What the client writes under its data directory is the user's alone. On Unix, directories
//! are created 0700 and files 0600 whatever the umask, temporary files of atomic replaces
//! included, and what an older Outpost left readable by others (0755, 0644) is tightened when a
//! profile opens. Elsewhere (Windows) the per-user profile folder's ACLs keep these files
//! private, and the calls here only create and write.
//!
//! The encrypted cache (`cache.db` and its `-wal`, `-shm`, `-journal`) is the store's:
//! `outpost_store::Store::open` creates it 0600, and SQLite gives its side files the database
//! file's mode.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Mode of every file the client writes.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// Mode of every directory the client creates.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// A failed file operation: what was being done, and to which path.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) action: &'static str,
    pub(crate) path: PathBuf,
    pub(crate) source: io::Error,
}

impl Failure {
    fn at<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Failure + 'a {
        move |source| Failure {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

impl From<Failure> for io::Error {
    fn from(failure: Failure) -> io::Error {
        io::Error::new(
            failure.source.kind(),
            format!(
                "cannot {} {}: {}",
                failure.action,
                failure.path.display(),
                failure.source
            ),
        )
    }
}

/// Creates `dir` and its missing parents private (0700), and tightens `dir` if it existed.
pub(crate) fn create_dir(dir: &Path) -> Result<(), Failure> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir).map_err(Failure::at("create", dir))?;
    tighten(dir)
}

/// Takes group and other permissions off `path` (a file or a directory written by an older
/// Outpost); a missing path is not an error, and nothing is ever loosened.
pub(crate) fn tighten(path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = match fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(Failure::at("inspect", path)(err)),
        };
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700))
                .map_err(Failure::at("restrict access to", path))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new content: a
/// private sibling temporary file is written and flushed to disk, renamed over `path`, and the
/// directory is flushed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let Some(name) = path.file_name() else {
        return Err(Failure::at("replace", path)(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file path",
        )));
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let mut file = options.open(&tmp).map_err(Failure::at("create", &tmp))?;
    // A temporary file left by a crash of an older Outpost keeps its mode when reopened.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
            .map_err(Failure::at("restrict access to", &tmp))?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(Failure::at("write", &tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(Failure::at("replace", path))?;
    sync_parent(path)
}

/// Makes a rename or delete in the directory durable (POSIX needs the directory flushed;
/// Windows has no directory handles to flush and commits renames itself).
pub(crate) fn sync_parent(path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        fs::File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(Failure::at("flush", dir))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_are_created_private_with_their_parents() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data").join("profile");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&root.path().join("data")), 0o700);
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn an_existing_open_directory_is_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn replaced_files_are_private_even_over_an_old_open_temporary_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("profile.json");
        let tmp = root.path().join("profile.json.tmp");
        fs::write(&tmp, b"left by a crash").unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, b"{}").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{}");
        assert_eq!(mode(&path), 0o600);
        assert!(!tmp.exists());
    }

    #[test]
    fn tightening_removes_group_and_other_bits_only() {
        let root = tempfile::tempdir().unwrap();
        let open = root.path().join("open");
        let read_only = root.path().join("read-only");
        fs::write(&open, b"x").unwrap();
        fs::write(&read_only, b"x").unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o666)).unwrap();
        fs::set_permissions(&read_only, fs::Permissions::from_mode(0o444)).unwrap();
        tighten(&open).unwrap();
        tighten(&read_only).unwrap();
        tighten(&root.path().join("missing")).unwrap();
        assert_eq!(mode(&open), 0o600);
        assert_eq!(mode(&read_only), 0o400);
    }
}
