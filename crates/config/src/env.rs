//! `${VAR}` expansion in string values.
//!
//! `${NAME}` (NAME: letters, digits and `_`, not starting with a digit) is
//! replaced by the variable's value; `$${` writes a literal `${`; any other
//! `$` is kept as it is. An unset variable is an error that names it (an
//! empty value is accepted: it is set). The lookup is a function so that
//! tests and embedders never need to touch the process environment.

/// A `${…}` that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvProblem {
    /// `${NAME}` with `NAME` unset.
    Unset { name: String },
    /// `${` without a closing `}`, or with a name that is not a variable name.
    Malformed { text: String },
}

/// Expands every `${NAME}` in `text` through `lookup`; returns every
/// problem, in order, if any.
pub(crate) fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<EnvProblem>> {
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut problems = Vec::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            match tail.find('}') {
                Some(close) if is_name(&tail[..close]) => {
                    let name = &tail[..close];
                    match lookup(name) {
                        Some(value) => out.push_str(&value),
                        None => problems.push(EnvProblem::Unset {
                            name: name.to_owned(),
                        }),
                    }
                    rest = &tail[close + 1..];
                }
                Some(close) => {
                    problems.push(EnvProblem::Malformed {
                        text: after[..close + 3].to_owned(),
                    });
                    rest = &tail[close + 1..];
                }
                None => {
                    problems.push(EnvProblem::Malformed {
                        text: after.to_owned(),
                    });
                    rest = "";
                }
            }
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "RUN" => Some("/run/user/7".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_escapes_and_keeps_other_dollars() {
        assert_eq!(
            expand("${RUN}/x.sock", &env),
            Ok("/run/user/7/x.sock".to_owned())
        );
        assert_eq!(expand("a${EMPTY}b", &env), Ok("ab".to_owned()));
        assert_eq!(
            expand("cost $5, $${RUN}", &env),
            Ok("cost $5, ${RUN}".to_owned())
        );
        assert_eq!(expand("no dollars", &env), Ok("no dollars".to_owned()));
    }

    #[test]
    fn reports_every_unset_and_malformed_reference() {
        assert_eq!(
            expand("${A}/${RUN}/${B}/${1x}/${open", &env),
            Err(vec![
                EnvProblem::Unset {
                    name: "A".to_owned()
                },
                EnvProblem::Unset {
                    name: "B".to_owned()
                },
                EnvProblem::Malformed {
                    text: "${1x}".to_owned()
                },
                EnvProblem::Malformed {
                    text: "${open".to_owned()
                },
            ])
        );
    }
}
