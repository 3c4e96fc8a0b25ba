//! The process's open-file limit (`RLIMIT_NOFILE`): reading it, for error
//! messages that name it, and raising the soft limit to the hard one, which
//! a daemon holding many sockets does at start.

use std::io;

/// The soft and hard `RLIMIT_NOFILE` of this process.
fn get() -> io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live,
    // properly aligned local; it keeps no reference after returning.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(limit)
}

/// The soft open-file limit now in force (`ulimit -n`): the most file
/// descriptors this process may hold at once. `u64::MAX` for unlimited.
///
/// ```
/// let limit = linesman_stream::nofile_limit()?;
/// assert!(limit > 3);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// What `getrlimit` said, if it failed.
pub fn nofile_limit() -> io::Result<u64> {
    get().map(|limit| limit.rlim_cur)
}

/// Raises the soft open-file limit to the hard limit and returns the limit
/// now in force. Any process may do this; only the hard limit needs
/// privileges (`LimitNOFILE=` in a systemd unit, `ulimit -Hn`).
///
/// ```
/// let raised = linesman_stream::raise_nofile_limit()?;
/// assert_eq!(raised, linesman_stream::nofile_limit()?);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// What `getrlimit` or `setrlimit` said, if one failed.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let limit = get()?;
    if limit.rlim_cur >= limit.rlim_max {
        return Ok(limit.rlim_cur);
    }
    let raised = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads one `rlimit` through a pointer to a live,
    // properly aligned local; it keeps no reference after returning.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(raised.rlim_cur)
}

/// How many file descriptors this process holds now: the entries of
/// `/proc/self/fd` (less the one reading it), or, where that cannot be
/// read, the descriptors below `min(limit, 65,536)` that `fcntl(F_GETFD)`
/// finds open. A daemon counts them at start to know how much of its
/// open-file limit is already taken.
///
/// ```
/// let open = linesman_stream::open_fds()?;
/// assert!(open >= 3, "stdin, stdout and stderr at least: {open}");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// What `getrlimit` said, if `/proc` could not be read and it failed too.
pub fn open_fds() -> io::Result<u64> {
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        // The directory being read holds one descriptor of its own.
        let listed = entries.filter(|entry| entry.is_ok()).count() as u64;
        return Ok(listed.saturating_sub(1));
    }
    let scan = get()?.rlim_cur.min(65_536);
    let open = (0..scan)
        .filter_map(|fd| libc::c_int::try_from(fd).ok())
        // SAFETY: F_GETFD only reads the descriptor table entry of `fd`
        // (EBADF when it is not open); it touches no memory of ours.
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1)
        .count();
    Ok(open as u64)
}

/// Whether `error` says the process (`EMFILE`) or the system (`ENFILE`) is
/// out of file descriptors.
pub(crate) fn is_out_of_fds(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}
