//! Where the control socket is: the one resolution every command uses.
//!
//! In order, the first that is given wins:
//!
//! 1. `--socket PATH`;
//! 2. the `LINESMAN_SOCKET` environment variable;
//! 3. `control.socket` of the configuration file (`run -c FILE`, or `-c FILE`
//!    on the commands that talk to a daemon);
//! 4. `$XDG_RUNTIME_DIR/linesman/linesman.sock`;
//! 5. `/tmp/linesman-$EUID/linesman.sock` (`$EUID` the effective uid).
//!
//! Empty values count as not given.
//!
//! The two defaults live in a directory of their own, private to the user
//! ([`private_dir`]): the daemon creates it with mode 0700 and refuses it
//! if it is not a directory of ours closed to everyone else (someone may
//! have planted it in the shared `/tmp`), and the client refuses it the
//! same way before connecting. A path given by the user is used as given.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names the control socket.
pub(crate) const ENV: &str = "LINESMAN_SOCKET";

/// The file name of the default socket inside its private directory.
const NAME: &str = "linesman.sock";

/// The control socket, from the flag, the environment, the configuration
/// file's `control.socket` (`configured`) and the defaults, in that order.
pub(crate) fn resolve(flag: Option<&Path>, configured: Option<&Path>) -> PathBuf {
    resolve_with(
        flag,
        configured,
        &|name| std::env::var_os(name),
        current_uid(),
    )
}

/// The private directory `socket` must live in, if it is one of the
/// defaults (whoever gave it): the daemon creates and checks it, the client
/// checks it. `None` for any other path.
pub(crate) fn private_dir(socket: &Path) -> Option<PathBuf> {
    private_dir_with(socket, &|name| std::env::var_os(name), current_uid())
}

/// [`resolve`], with the environment and the uid passed in (for tests).
fn resolve_with(
    flag: Option<&Path>,
    configured: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
    uid: u32,
) -> PathBuf {
    let given = |value: Option<OsString>| value.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(path) = flag.filter(|p| !p.as_os_str().is_empty()) {
        return path.to_owned();
    }
    if let Some(path) = given(env(ENV)) {
        return path;
    }
    if let Some(path) = configured.filter(|p| !p.as_os_str().is_empty()) {
        return path.to_owned();
    }
    default_dir(env, uid).join(NAME)
}

/// The directory of the default socket: `$XDG_RUNTIME_DIR/linesman`, else
/// `/tmp/linesman-$EUID`.
fn default_dir(env: &dyn Fn(&str) -> Option<OsString>, uid: u32) -> PathBuf {
    match env("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("linesman"),
        None => PathBuf::from(format!("/tmp/linesman-{uid}")),
    }
}

/// [`private_dir`], with the environment and the uid passed in.
fn private_dir_with(
    socket: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
    uid: u32,
) -> Option<PathBuf> {
    let dir = default_dir(env, uid);
    (socket == dir.join(NAME)).then_some(dir)
}

/// What `path` is, if it exists and is not a socket ("a regular file", "a
/// directory"…); `None` if it is a socket or does not exist (connecting
/// then says so itself).
pub(crate) fn not_a_socket(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(path).ok()?.file_type();
    (!kind.is_socket()).then(|| linesman_stream::file_kind(kind))
}

/// Why a connection of `spec` may not run beside the control socket
/// `socket`: its endpoint is that socket, however it was given (`check`
/// sees only an absolute `control.socket`; a symbolic link, or a chain of
/// them, leads there too). It would take a control place, be closed as a
/// bad request and reconnect, forever: seventy of them locked the CLI out,
/// and 200 links to the socket made a daemon flood its own control plane.
pub(crate) fn own_socket_connection(
    spec: &linesman_supervisor::Spec,
    socket: &Path,
) -> Option<String> {
    let socket_at = resolved(socket);
    let own = spec.connections().iter().find(|s| {
        matches!(
            &s.connection.target,
            linesman_connection::Target::Endpoint(linesman_stream::Endpoint::Unix(path))
                if path == socket || resolved(path) == socket_at
        )
    })?;
    Some(format!(
        "connection `{}` points at {}, the control socket this daemon serves: point it at its peer's socket, or serve the control socket elsewhere (--socket)",
        own.connection.name,
        socket.display()
    ))
}

/// The most links [`resolved`] follows, as Linux does (`ELOOP` beyond).
const MAX_LINKS: usize = 40;

/// Where `path` leads: its symbolic links followed, a chain of them too,
/// and its directory made absolute when the file itself does not exist
/// (the socket before it is bound: `canonicalize` fails there); `path` as
/// it is when even that cannot be known.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut at = path.to_owned();
    for _ in 0..MAX_LINKS {
        let Ok(target) = std::fs::read_link(&at) else {
            break;
        };
        // Relative to the link's directory; an absolute target replaces it.
        at = match at.parent() {
            Some(dir) => dir.join(target),
            None => target,
        };
    }
    match (at.parent(), at.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir).map_or(at.clone(), |d| d.join(name)),
        _ => at,
    }
}

/// The effective uid of this process: the owner of what it creates.
fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions, cannot fail and touches no memory
    // of ours (POSIX: "The geteuid() function shall always be successful").
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_first_given_wins_in_the_documented_order() {
        let all = env(&[
            ("LINESMAN_SOCKET", "/env.sock"),
            ("XDG_RUNTIME_DIR", "/run/user/7"),
        ]);
        let flag = Some(Path::new("/flag.sock"));
        let file = Some(Path::new("/file.sock"));
        assert_eq!(resolve_with(flag, file, &all, 7), Path::new("/flag.sock"));
        assert_eq!(resolve_with(None, file, &all, 7), Path::new("/env.sock"));
        let xdg = env(&[("XDG_RUNTIME_DIR", "/run/user/7")]);
        assert_eq!(resolve_with(None, file, &xdg, 7), Path::new("/file.sock"));
        assert_eq!(
            resolve_with(None, None, &xdg, 7),
            Path::new("/run/user/7/linesman/linesman.sock")
        );
        assert_eq!(
            resolve_with(None, None, &env(&[]), 1000),
            Path::new("/tmp/linesman-1000/linesman.sock")
        );
    }

    #[test]
    fn only_the_defaults_live_in_a_private_directory() {
        let xdg = env(&[("XDG_RUNTIME_DIR", "/run/user/7")]);
        assert_eq!(
            private_dir_with(Path::new("/run/user/7/linesman/linesman.sock"), &xdg, 7),
            Some(PathBuf::from("/run/user/7/linesman"))
        );
        assert_eq!(
            private_dir_with(Path::new("/tmp/linesman-7/linesman.sock"), &env(&[]), 7),
            Some(PathBuf::from("/tmp/linesman-7"))
        );
        // Another user's default, or any path of one's own choosing.
        assert_eq!(
            private_dir_with(Path::new("/tmp/linesman-8/linesman.sock"), &env(&[]), 7),
            None
        );
        assert_eq!(
            private_dir_with(Path::new("/srv/app/control.sock"), &xdg, 7),
            None
        );
    }

    #[test]
    fn empty_values_count_as_not_given() {
        let empty = env(&[("LINESMAN_SOCKET", ""), ("XDG_RUNTIME_DIR", "")]);
        assert_eq!(
            resolve_with(Some(Path::new("")), Some(Path::new("")), &empty, 5),
            Path::new("/tmp/linesman-5/linesman.sock")
        );
    }
}
