//! Where the control socket is: the one resolution every command uses.
//!
//! In order, the first that is given wins:
//!
//! 1. `--socket PATH`;
//! 2. the `LINESMAN_SOCKET` environment variable;
//! 3. `control.socket` of the configuration file (`run -c FILE`, or `-c FILE`
//!    on the commands that talk to a daemon);
//! 4. `$XDG_RUNTIME_DIR/linesman.sock`;
//! 5. `/tmp/linesman-$UID.sock`.
//!
//! Empty values count as not given.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names the control socket.
pub(crate) const ENV: &str = "LINESMAN_SOCKET";

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
    if let Some(dir) = given(env("XDG_RUNTIME_DIR")) {
        return dir.join("linesman.sock");
    }
    PathBuf::from(format!("/tmp/linesman-{uid}.sock"))
}

/// The real uid of this process.
fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions, cannot fail and touches no memory
    // of ours (POSIX: "The getuid() function shall always be successful").
    unsafe { libc::getuid() }
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
            Path::new("/run/user/7/linesman.sock")
        );
        assert_eq!(
            resolve_with(None, None, &env(&[]), 1000),
            Path::new("/tmp/linesman-1000.sock")
        );
    }

    #[test]
    fn empty_values_count_as_not_given() {
        let empty = env(&[("LINESMAN_SOCKET", ""), ("XDG_RUNTIME_DIR", "")]);
        assert_eq!(
            resolve_with(Some(Path::new("")), Some(Path::new("")), &empty, 5),
            Path::new("/tmp/linesman-5.sock")
        );
    }
}
