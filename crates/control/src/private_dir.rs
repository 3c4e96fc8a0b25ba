//! The private directory the default control socket lives in
//! (`$XDG_RUNTIME_DIR/linesman/`, else `/tmp/linesman-$UID/`):
//! [`ensure_private_dir`] for the daemon, [`check_private_dir`] for the
//! client.
//!
//! Why: in a shared, sticky directory such as `/tmp`, anyone may create the
//! path we are about to use — a symbolic link where the daemon would create
//! a file, a lock file that blocks it, a socket of their own that a client
//! would trust. Inside a directory that is ours and closed to everyone
//! else, nobody else can create anything, and the sticky bit keeps them
//! from renaming or removing the directory itself. So the directory is
//! checked with `lstat` (a symbolic link is not followed): a real
//! directory, owned by our effective uid, with no permission for group or
//! others. Anything else is refused, never repaired, because it may hold
//! what someone planted.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

use crate::error::SocketDirError;
use crate::user;

/// Creates `dir` with mode 0700 if it does not exist (its parent must), then
/// checks it as [`check_private_dir`] does.
///
/// ```
/// # let base = std::env::temp_dir().join(format!("linesman-doc-private-{}", std::process::id()));
/// # std::fs::create_dir_all(&base)?;
/// let dir = base.join("linesman");
/// linesman_control::ensure_private_dir(&dir)?;
/// assert!(linesman_control::check_private_dir(&dir)?);
/// # std::fs::remove_dir_all(&base)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`SocketDirError`] saying what is wrong with the path and what to do.
pub fn ensure_private_dir(dir: &Path) -> Result<(), SocketDirError> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(SocketDirError::Io {
                dir: dir.to_owned(),
                source,
            });
        }
    }
    if check_private_dir(dir)? {
        Ok(())
    } else {
        Err(SocketDirError::Io {
            dir: dir.to_owned(),
            source: io::Error::from(io::ErrorKind::NotFound),
        })
    }
}

/// Checks that `dir` is a directory private to this process's effective
/// uid: not a symbolic link, owned by it, and `mode & 0o077 == 0`.
/// `Ok(false)` if it does not exist (no daemon made it yet).
///
/// # Errors
///
/// [`SocketDirError`] saying what is wrong with the path and what to do.
pub fn check_private_dir(dir: &Path) -> Result<bool, SocketDirError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(SocketDirError::Io {
                dir: dir.to_owned(),
                source,
            });
        }
    };
    let dir = dir.to_owned();
    if meta.file_type().is_symlink() {
        return Err(SocketDirError::Symlink { dir });
    }
    if !meta.is_dir() {
        return Err(SocketDirError::NotADirectory { dir });
    }
    let own = user::effective_uid();
    if meta.uid() != own {
        return Err(SocketDirError::Owner {
            dir,
            uid: meta.uid(),
            user: user::name_text(meta.uid()),
            own,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SocketDirError::Mode { dir, mode });
    }
    Ok(true)
}

/// Why a control socket in `dir` (a path the operator chose, not the
/// private default) could be replaced by someone else: the directory, or
/// one above it, can be written by its group or by others without the
/// sticky bit (they can rename the socket or the directory away and put
/// their own in its place), or it belongs to another user than this one
/// and root. `None` when only this
/// user (or root) can change what is in it, or when it cannot be read.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("linesman-doc-shared-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// use std::os::unix::fs::PermissionsExt;
/// std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
/// assert_eq!(linesman_control::shared_dir_risk(&dir), None);
/// std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))?;
/// assert!(linesman_control::shared_dir_risk(&dir).is_some_and(|why| why.contains("sticky")));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shared_dir_risk(dir: &Path) -> Option<String> {
    // The directory and each above it: whoever can rename one of them can
    // put a directory of their own, with their socket, in its place.
    let dir = std::fs::canonicalize(dir).ok()?;
    dir.ancestors().find_map(one_dir_risk)
}

/// [`shared_dir_risk`] of `dir` alone.
fn one_dir_risk(dir: &Path) -> Option<String> {
    let meta = std::fs::metadata(dir).ok()?;
    let mode = meta.mode() & 0o7777;
    let writers = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (_, true) => Some("anyone"),
        (true, false) => Some("its group"),
        (false, false) => None,
    };
    if let Some(writers) = writers
        && mode & 0o1000 == 0
    {
        return Some(format!(
            "the control socket's directory, or one above it, {} can be written by {writers} (mode {mode:04o}) and has no sticky bit: whoever can write it can replace the socket with one of their own, and `linesman` commands would talk to it; use a directory only this user can write (chmod go-w), or the default socket",
            crate::shown::shown(&dir.display().to_string(), 200)
        ));
    }
    let own = user::effective_uid();
    if meta.uid() != own && meta.uid() != 0 {
        return Some(format!(
            "the control socket's directory, or one above it, {} belongs to uid {}{}, who can replace the socket with one of their own; use a directory of this user's, or the default socket",
            crate::shown::shown(&dir.display().to_string(), 200),
            meta.uid(),
            user::name_text(meta.uid())
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_directory_above_that_others_can_write_is_a_risk_too() {
        let base =
            std::env::temp_dir().join(format!("linesman-shared-above-{}", std::process::id()));
        let sub = base.join("sub");
        std::fs::create_dir_all(&sub).expect("dirs");
        let mode = |dir: &std::path::Path, mode| {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        mode(&sub, 0o755);
        mode(&base, 0o755);
        assert_eq!(super::shared_dir_risk(&sub), None);
        // Whoever can write `base` can rename `sub` and put theirs there.
        mode(&base, 0o777);
        let risk = super::shared_dir_risk(&sub).expect("a risk above");
        assert!(
            risk.contains("or one above it") && risk.contains("0777"),
            "{risk}"
        );
        // The sticky bit keeps others from renaming what is not theirs.
        mode(&base, 0o1777);
        assert_eq!(super::shared_dir_risk(&sub), None);
        std::fs::remove_dir_all(&base).expect("clean up");
    }
}
