//! What a connection name may be: it is shown in tables, logs, URLs and
//! command lines, so one that is empty, very long, or holds whitespace,
//! control or invisible characters would break them (a tab shifts a
//! column, a newline forges a log line, a bidi override reorders the
//! text) and could not be typed back.

use crate::error::{ConfigError, ConfigErrorKind as Kind};
use crate::walk::{Sp, Walker};

/// The longest connection name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 128;

const HELP: &str = "a connection name is 1 to 128 characters, none of them whitespace, control or invisible formatting characters, e.g. `quotes-eu` or `hw_programmer.1`";

/// Pushes an error if `name` is not a valid connection name.
pub(crate) fn check_name(w: &mut Walker<'_>, name: &Sp<String>) {
    let Some(problem) = problem(&name.value) else {
        return;
    };
    w.push(
        ConfigError::at(
            Kind::InvalidName,
            name.at,
            format!("connection name `{}` {problem}", name.value.escape_debug()),
        )
        .help(HELP),
    );
}

/// What is wrong with `name`, if anything.
fn problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".to_owned());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Some(format!(
            "is {chars} characters long, more than {MAX_NAME_CHARS}"
        ));
    }
    let bad = name.chars().find(|&c| !allowed(c))?;
    let what = if bad.is_whitespace() {
        "whitespace"
    } else if bad.is_control() {
        "a control character"
    } else {
        "an invisible formatting character"
    };
    Some(format!("contains {what} (U+{:04X})", u32::from(bad)))
}

/// Whether `c` may appear in a name: anything visible.
fn allowed(c: char) -> bool {
    !(c.is_whitespace() || linesman_stream::is_hidden(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_names_pass() {
        for name in [
            "quotes",
            "hw-programmer",
            "a.b_c:1",
            "café",
            "行情",
            &"x".repeat(128),
        ] {
            assert_eq!(problem(name), None, "{name}");
        }
    }

    #[test]
    fn each_problem_is_named() {
        let said = |name: &str| problem(name).unwrap_or_default();
        assert_eq!(said(""), "is empty");
        assert_eq!(
            said(&"x".repeat(129)),
            "is 129 characters long, more than 128"
        );
        assert_eq!(said("a b"), "contains whitespace (U+0020)");
        assert_eq!(said("a\tb"), "contains whitespace (U+0009)");
        assert_eq!(said("a\u{7}"), "contains a control character (U+0007)");
        assert_eq!(
            said("a\u{202E}b"),
            "contains an invisible formatting character (U+202E)"
        );
        assert_eq!(
            said("\u{FEFF}a"),
            "contains an invisible formatting character (U+FEFF)"
        );
    }
}
