//! Who we are and who another uid is: the effective uid (what owns the
//! files we create and what the kernel checks), and a uid's user name for
//! messages.

use std::ffi::CStr;

/// This process's effective uid.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions, cannot fail and touches no
    // memory of ours.
    unsafe { libc::geteuid() }
}

/// ` (user NAME)` for a uid the password database knows, else nothing.
pub(crate) fn name_text(uid: u32) -> String {
    name_of(uid)
        .map(|name| format!(" (user {name})"))
        .unwrap_or_default()
}

/// The user name of `uid`, if the password database has one.
pub(crate) fn name_of(uid: u32) -> Option<String> {
    let mut buffer = vec![0u8; 1024];
    loop {
        // SAFETY: `passwd` is plain data (integers and pointers), for which
        // all zeroes is a valid value; getpwuid_r fills it in.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `entry` and `found`
        // are ours and exclusive, and `buffer` is writable for its length;
        // getpwuid_r writes the strings `entry` points to into `buffer`.
        let code = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut found,
            )
        };
        if code == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if code != 0 || found.is_null() || entry.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success `pw_name` points to a NUL-terminated string
        // inside `buffer`, which is alive and unchanged here.
        let name = unsafe { CStr::from_ptr(entry.pw_name) };
        return Some(name.to_string_lossy().into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named_and_an_unknown_uid_is_not() {
        assert_eq!(name_of(0).as_deref(), Some("root"));
        assert_eq!(name_text(0), " (user root)");
        assert_eq!(name_of(3_999_999_999), None);
        assert_eq!(name_text(3_999_999_999), "");
    }
}
