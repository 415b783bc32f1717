//! Files only their owner may read: the data directory (0700 when created) and the SQLite
//! database with its WAL and shared-memory files (0600), so no other user can copy them for an
//! offline attack.

use std::io;
use std::path::{Path, PathBuf};

/// Creates `dir` and any missing parents with mode 0700 (existing directories are left alone).
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// `db` with `suffix` appended (`-wal`, `-shm`).
fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes the database file private before SQLite opens it: created empty with mode 0600 when
/// missing (SQLite then gives its WAL and SHM files the same mode), and an existing database,
/// WAL or SHM file that others can read is narrowed to 0600.
pub fn prepare_private_database(db: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(db)
        {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for path in [db.to_path_buf(), sibling(db, "-wal"), sibling(db, "-shm")] {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                tracing::warn!(
                    path = %path.display(),
                    "narrowed the permissions of a database file from {mode:03o} to 600"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}
