//! Which connections a command is about: names, checked against the
//! daemon's all at once, or a selector (`--kind`, `--tag`, `--all`)
//! resolved against `GET /v1/status`.
//!
//! A name the daemon does not know, or a selector that picks nothing, is
//! [`CliError::Unknown`] (exit 6), naming every unknown name with a
//! suggestion where one is close, before anything is done.

use std::collections::HashSet;

use linesman_control::{ConnectionStatus, StatusResponse};

use crate::cli::Selection;
use crate::error::CliError;

/// The names `selection` picks among the daemon's connections, in the
/// order given (names) or the daemon's order (selectors); every
/// connection when nothing is named or selected.
pub(crate) fn resolve(
    status: &StatusResponse,
    selection: &Selection,
) -> Result<Vec<String>, CliError> {
    if !selection.names.is_empty() {
        return known(status, &selection.names);
    }
    let picked: Vec<String> = status
        .connections
        .iter()
        .filter(|c| picks(selection, c))
        .map(|c| c.name.clone())
        .collect();
    if picked.is_empty() && !status.connections.is_empty() {
        return Err(CliError::Unknown {
            message: format!(
                "no connection of the daemon {}: its kinds are {}, its tags {}",
                describe(selection),
                list(status.connections.iter().filter_map(|c| c.kind.as_deref())),
                list(
                    status
                        .connections
                        .iter()
                        .flat_map(|c| &c.tags)
                        .map(String::as_str)
                ),
            ),
        });
    }
    Ok(picked)
}

/// `names`, if the daemon knows every one; else every unknown one at once.
pub(crate) fn known(status: &StatusResponse, names: &[String]) -> Result<Vec<String>, CliError> {
    let all: Vec<&str> = status.connections.iter().map(|c| c.name.as_str()).collect();
    let unknown: Vec<String> = names
        .iter()
        .filter(|name| status.get(name).is_none())
        .map(|name| match nearest(name, &all) {
            Some(near) => format!("`{name}` (did you mean `{near}`?)"),
            None => format!("`{name}`"),
        })
        .collect();
    if unknown.is_empty() {
        let mut unique = Vec::with_capacity(names.len());
        for name in names {
            if !unique.contains(name) {
                unique.push(name.clone());
            }
        }
        return Ok(unique);
    }
    Err(CliError::Unknown {
        message: format!(
            "the daemon has no connection {}: its connections are {}; nothing was done",
            unknown.join(", "),
            list(all.into_iter()),
        ),
    })
}

/// Whether `selection`'s selectors pick `c` (every one given must hold).
fn picks(selection: &Selection, c: &ConnectionStatus) -> bool {
    if selection.all {
        return true;
    }
    selection
        .kind
        .as_ref()
        .is_none_or(|kind| c.kind.as_ref() == Some(kind))
        && selection.tag.iter().all(|tag| c.tags.contains(tag))
}

/// `that is of kind `feed` and has the tag `eu` (--kind, --tag)`: the
/// selector in words.
fn describe(selection: &Selection) -> String {
    let mut parts = Vec::new();
    if let Some(kind) = &selection.kind {
        parts.push(format!("is of kind `{kind}`"));
    }
    if !selection.tag.is_empty() {
        let tags: Vec<String> = selection.tag.iter().map(|t| format!("`{t}`")).collect();
        parts.push(format!("has the tag {}", tags.join(" and ")));
    }
    format!("that {} (--kind, --tag)", parts.join(" and "))
}

/// At most this many items of a list are named; the rest are counted.
const LISTED: usize = 20;

/// `` `a`, `b` `` (each once), or `none`; past [`LISTED`] items, the
/// count of the rest (`` `a`, … and 9980 more ``): a daemon of 10,000
/// connections made a line of 89 KB.
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut named: Vec<String> = Vec::new();
    for item in items {
        if seen.insert(item) && named.len() < LISTED {
            named.push(format!("`{item}`"));
        }
    }
    if seen.is_empty() {
        return "none".to_owned();
    }
    let more = seen.len() - named.len();
    let named = named.join(", ");
    if more == 0 {
        named
    } else {
        format!("{named} and {more} more")
    }
}

/// The candidate closest to `input`, if it is close enough to be a typo
/// (at most a third of the input's length in edits).
fn nearest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(input, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use linesman_control::State;

    fn conn(name: &str, kind: Option<&str>, tags: &[&str]) -> ConnectionStatus {
        ConnectionStatus {
            name: name.to_owned(),
            kind: kind.map(str::to_owned),
            endpoint: String::new(),
            state: State::Up,
            since_ms: 0,
            restarts: 0,
            connect_failures: 0,
            attempt: 0,
            next_retry_ms: None,
            waiting_on: Vec::new(),
            last_error: None,
            frames_in: 0,
            frames_out: 0,
            bytes_in: 0,
            bytes_out: 0,
            depends_on: Vec::new(),
            rule: None,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            detail: String::new(),
        }
    }

    fn status() -> StatusResponse {
        StatusResponse {
            connections: vec![
                conn("quotes", Some("feed"), &["eu"]),
                conn("orders", Some("feed"), &["us"]),
                conn("audit", None, &["eu", "slow"]),
            ],
        }
    }

    fn selection(names: &[&str], kind: Option<&str>, tags: &[&str], all: bool) -> Selection {
        Selection {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            kind: kind.map(str::to_owned),
            tag: tags.iter().map(|t| (*t).to_owned()).collect(),
            all,
        }
    }

    #[test]
    fn selectors_pick_in_the_daemons_order() {
        let status = status();
        let pick = |s: Selection| resolve(&status, &s).expect("picks some");
        assert_eq!(
            pick(selection(&[], Some("feed"), &[], false)),
            ["quotes", "orders"]
        );
        assert_eq!(
            pick(selection(&[], None, &["eu"], false)),
            ["quotes", "audit"]
        );
        assert_eq!(
            pick(selection(&[], Some("feed"), &["eu"], false)),
            ["quotes"]
        );
        assert_eq!(pick(selection(&[], None, &[], true)).len(), 3);
        assert_eq!(pick(selection(&[], None, &[], false)).len(), 3);
        assert_eq!(
            pick(selection(&["audit", "quotes", "audit"], None, &[], false)),
            ["audit", "quotes"]
        );
    }

    #[test]
    fn every_unknown_name_is_reported_at_once_with_a_suggestion() {
        let error = resolve(
            &status(),
            &selection(&["qoutes", "quotes", "zzz"], None, &[], false),
        )
        .expect_err("unknown names");
        let text = error.to_string();
        assert!(
            text.contains("`qoutes` (did you mean `quotes`?), `zzz`:")
                && text.contains("its connections are `quotes`, `orders`, `audit`"),
            "{text}"
        );
        assert_eq!(error.code(), crate::exit::Code::Unknown);
    }

    #[test]
    fn a_big_daemon_names_twenty_connections_and_counts_the_rest() {
        let many = StatusResponse {
            connections: (0..10_000)
                .map(|i| conn(&format!("c{i}"), None, &[]))
                .collect(),
        };
        let text = resolve(&many, &selection(&["newone"], None, &[], false))
            .expect_err("unknown name")
            .to_string();
        assert!(
            text.contains("its connections are `c0`, `c1`,")
                && text.contains("`c19` and 9980 more; nothing was done"),
            "{text}"
        );
        assert!(text.len() < 400, "{} bytes", text.len());
    }

    #[test]
    fn a_selector_that_picks_nothing_is_an_unknown_name() {
        let error = resolve(&status(), &selection(&[], Some("db"), &["eu"], false))
            .expect_err("nothing picked");
        assert_eq!(
            error.to_string(),
            "no connection of the daemon that is of kind `db` and has the tag `eu` (--kind, --tag): its kinds are `feed`, its tags `eu`, `us`, `slow`"
        );
        assert_eq!(error.code(), crate::exit::Code::Unknown);
    }
}
