//! The query of `GET /v1/events`: `conn`, `kind`, `tag` and `type`
//! filters (each repeatable, each value a comma-separated list) and
//! `since=SEQ`, parsed into an [`Interest`] and a resume point, or a clear
//! error naming what was wrong.

use std::cell::LazyCell;

use linesman_observer::{EventType, Interest};

/// What a `/v1/events` request asks for.
#[derive(Debug, Default)]
pub(crate) struct EventsQuery {
    pub(crate) interest: Interest,
    /// Resume after this `seq`.
    pub(crate) since: Option<u64>,
    /// The names, kinds and tags the interest asks for.
    pub(crate) asked: Asked,
}

/// The connection names, kinds and tags a stream's filter asks for (each
/// empty when not filtered on): a connection matches when it has one of
/// each list that is not empty.
#[derive(Debug, Default, Clone)]
pub(crate) struct Asked {
    pub(crate) names: Vec<String>,
    pub(crate) kinds: Vec<String>,
    pub(crate) tags: Vec<String>,
}

impl Asked {
    /// Whether the filter asks for names, kinds or tags at all.
    pub(crate) fn is_filtered(&self) -> bool {
        !(self.names.is_empty() && self.kinds.is_empty() && self.tags.is_empty())
    }

    /// Whether a connection called `name`, of `kind`, with `tags`, matches.
    pub(crate) fn matches(&self, name: &str, kind: Option<&str>, tags: &[String]) -> bool {
        (self.names.is_empty() || self.names.iter().any(|n| n == name))
            && (self.kinds.is_empty() || kind.is_some_and(|k| self.kinds.iter().any(|a| a == k)))
            && (self.tags.is_empty() || tags.iter().any(|t| self.tags.contains(t)))
    }
}

/// What the daemon's connections are called and labelled, for the
/// filters to be checked against: a filter that names nothing the daemon
/// has would stream nothing, silently, for as long as it stays open.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Connection names, in declaration order.
    pub(crate) names: Vec<String>,
    /// Every kind a connection has, once each, sorted.
    pub(crate) kinds: Vec<String>,
    /// Every tag a connection has, once each, sorted.
    pub(crate) tags: Vec<String>,
}

/// Why a query was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// Malformed: an unknown key, an empty or bad value (400).
    Bad(String),
    /// A connection name the daemon does not know (404).
    UnknownConnection(String),
    /// A kind or tag no connection has (404).
    UnknownLabel(String),
}

/// The most bytes of a value an error repeats.
const SHOWN: usize = 64;

/// Parses the query string (without `?`), checking names, kinds and tags
/// against what `known` makes, which is called only if the query filters
/// on one: most streams do not, and at 10,000 connections it copies every
/// name.
pub(crate) fn parse(
    query: Option<&str>,
    known: impl FnOnce() -> Known,
) -> Result<EventsQuery, QueryError> {
    let known = LazyCell::new(known);
    let mut out = EventsQuery::default();
    let Some(query) = query else {
        return Ok(out);
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key)?;
        let value = decode(value)?;
        if key == "since" {
            if out.since.is_some() {
                return Err(QueryError::Bad(
                    "`since` is given twice: give it once, the last `seq` you saw".to_owned(),
                ));
            }
            let seq = value.trim().parse::<u64>().map_err(|_| {
                QueryError::Bad(format!(
                    "`since={}` is not a sequence number: give the `seq` of the last event you saw (a whole number, 0 for all that is kept)",
                    shown(&value)
                ))
            })?;
            out.since = Some(seq);
            continue;
        }
        if !matches!(key.as_str(), "conn" | "kind" | "tag" | "type") {
            return Err(QueryError::Bad(format!(
                "unknown filter `{}`: /v1/events takes conn, kind, tag, type and since",
                shown(&key)
            )));
        }
        for item in value.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(QueryError::Bad(format!(
                    "`{key}=` has an empty value: give a {key} (several as a comma list or by repeating `{key}=`)"
                )));
            }
            out.interest = match key.as_str() {
                "conn" if !known.names.iter().any(|k| k == item) => {
                    return Err(QueryError::UnknownConnection(format!(
                        "unknown connection `{}` in `conn=`: known connections: {}",
                        shown(item),
                        crate::shown::listed(&known.names)
                    )));
                }
                "conn" => {
                    out.asked.names.push(item.to_owned());
                    out.interest.conn(item)
                }
                "kind" => {
                    out.asked.kinds.push(item.to_owned());
                    out.interest.kind(label(item, "kind", &known.kinds)?)
                }
                "tag" => {
                    out.asked.tags.push(item.to_owned());
                    out.interest.tag(label(item, "tag", &known.tags)?)
                }
                _ => out.interest.event_type(event_type(item)?),
            };
        }
    }
    Ok(out)
}

/// `item` if some connection has it as its `what` (kind or tag).
fn label<'a>(item: &'a str, what: &str, known: &[String]) -> Result<&'a str, QueryError> {
    if known.iter().any(|k| k == item) {
        return Ok(item);
    }
    let have = if known.is_empty() {
        format!("no connection has a {what}")
    } else {
        format!("the connections' {what}s: {}", crate::shown::listed(known))
    };
    Err(QueryError::UnknownLabel(format!(
        "no connection has the {what} `{}` in `{what}=`, so nothing would ever match: {have}",
        shown(item)
    )))
}

fn event_type(name: &str) -> Result<EventType, QueryError> {
    EventType::ALL
        .iter()
        .copied()
        .find(|t| t.as_str() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            QueryError::Bad(format!(
                "unknown event type `{}` in `type=`: use one of {}",
                shown(name),
                names.join(", ")
            ))
        })
}

/// A query component, percent-decoded (`+` is a space), as UTF-8.
fn decode(text: &str) -> Result<String, QueryError> {
    let bad = || {
        QueryError::Bad(
            "the query does not decode: percent-encode names as UTF-8 (`%` followed by two hex digits)"
                .to_owned(),
        )
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// `text` as an error repeats it: at most [`SHOWN`] bytes, hidden
/// characters escaped (see [`crate::shown`]).
fn shown(text: &str) -> String {
    crate::shown::shown(text, SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use linesman_observer::Bus;
    use linesman_observer::{Connected, Connecting};

    fn known() -> Known {
        Known {
            names: vec!["db".into(), "quotes".into()],
            kinds: vec!["feed".into()],
            tags: vec!["eu".into(), "prod".into()],
        }
    }

    #[test]
    fn filters_repeat_or_come_as_comma_lists() {
        let query = parse(Some("conn=db,quotes&type=connected&type=connecting"), known)
            .expect("a good query");
        let bus = Bus::default();
        let mut sub = bus.subscribe(query.interest);
        bus.publisher("db")
            .publish(Connected { peer: "p".into() })
            .expect("open");
        bus.publisher("db")
            .publish(linesman_observer::Stopping {})
            .expect("open");
        bus.publisher("quotes")
            .publish(Connecting { attempt: 1 })
            .expect("open");
        drop(bus);
        let types: Vec<&str> =
            std::iter::from_fn(|| futures_util::FutureExt::now_or_never(sub.next()).flatten())
                .map(|e| e.event_type().as_str())
                .collect();
        assert_eq!(types, ["connected", "connecting"]);
        assert_eq!(query.since, None);
    }

    #[test]
    fn a_query_without_names_kinds_or_tags_never_asks_what_the_daemon_has() {
        let query = parse(Some("type=connected&since=3"), || {
            panic!("the names, kinds and tags were built for nothing")
        });
        assert_eq!(query.map(|q| q.since), Ok(Some(3)));
        assert!(parse(None, || panic!("nor for no query")).is_ok());
    }

    #[test]
    fn since_is_a_number_given_once() {
        assert_eq!(
            parse(Some("since=42"), known).map(|q| q.since),
            Ok(Some(42))
        );
        for bad in ["since=x", "since=", "since=-1", "since=1&since=2"] {
            assert!(
                matches!(parse(Some(bad), known), Err(QueryError::Bad(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_filters_say_what_was_wrong() {
        let message = |q: &str| match parse(Some(q), known) {
            Err(
                QueryError::Bad(m) | QueryError::UnknownConnection(m) | QueryError::UnknownLabel(m),
            ) => m,
            Ok(_) => panic!("{q} was taken"),
        };
        assert!(message("colour=red").contains("unknown filter `colour`"));
        assert!(message("type=bogus").contains("use one of started, waiting"));
        assert!(message("kind=").contains("empty value"));
        assert!(message("conn=db,,quotes").contains("empty value"));
        assert!(message("conn=%ZZ").contains("does not decode"));
        assert!(matches!(
            parse(Some("conn=nosuch"), known),
            Err(QueryError::UnknownConnection(m)) if m.contains("known connections: db, quotes")
        ));
        assert!(message(&format!("x{}=1", "y".repeat(500))).len() < 200);
    }

    #[test]
    fn a_kind_or_tag_no_connection_has_is_refused_with_those_they_have() {
        assert!(parse(Some("kind=feed&tag=eu,prod"), known).is_ok());
        assert!(matches!(
            parse(Some("kind=fed"), known),
            Err(QueryError::UnknownLabel(m))
                if m.contains("the kind `fed`") && m.contains("kinds: feed")
        ));
        assert!(matches!(
            parse(Some("tag=eu,pord"), known),
            Err(QueryError::UnknownLabel(m))
                if m.contains("the tag `pord`") && m.contains("tags: eu, prod")
        ));
        let bare = Known {
            names: vec!["db".into()],
            ..Known::default()
        };
        assert!(matches!(
            parse(Some("tag=eu"), || bare),
            Err(QueryError::UnknownLabel(m)) if m.contains("no connection has a tag")
        ));
    }
}
