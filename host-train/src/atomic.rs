//! Atomic file output: every file host-train writes (feature cache, blob, model card, plots)
//! goes to a temporary file in the target's folder, is made world-readable (0644; temporary
//! files start as 0600), synced, and renamed into place, so readers and an interrupted run
//! never see a half-written file.

use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` atomically.
///
/// # Errors
/// The folder is not writable.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, "", |tmp| {
        std::fs::write(tmp, bytes).with_context(|| format!("writing {}", tmp.display()))
    })
}

/// Lets `fill` write the temporary file through its path (whose name ends in `suffix`, for
/// writers that pick the format by extension), then renames it onto `path`.
///
/// # Errors
/// The folder is not writable, or `fill` fails (the temporary file is then removed).
pub fn write_atomic_with(
    path: &Path,
    suffix: &str,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    fill(tmp.path())?;
    set_readable(tmp.path())?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("syncing {}", tmp.path().display()))?;
    tmp.persist(path)
        .with_context(|| format!("renaming onto {}", path.display()))?;
    Ok(())
}

/// Temporary files are created 0600; outputs are meant to be shared (0644).
fn set_readable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("setting permissions of {}", path.display()))
}
