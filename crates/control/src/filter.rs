//! The query of `GET /v1/events`: `conn`, `kind`, `tag` and `type`
//! filters (each repeatable, each value a comma-separated list) and
//! `since=SEQ`, parsed into an [`Interest`] and a resume point, or a clear
//! error naming what was wrong.

use linesman_observer::{EventType, Interest};

/// What a `/v1/events` request asks for.
#[derive(Debug, Default)]
pub(crate) struct EventsQuery {
    pub(crate) interest: Interest,
    /// Resume after this `seq`.
    pub(crate) since: Option<u64>,
}

/// Why a query was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// Malformed: an unknown key, an empty or bad value (400).
    Bad(String),
    /// A connection name the daemon does not know (404).
    UnknownConnection(String),
}

/// The most characters of a value an error repeats.
const SHOWN: usize = 64;

/// Parses the query string (without `?`); `known` are the connection names.
pub(crate) fn parse(query: Option<&str>, known: &[String]) -> Result<EventsQuery, QueryError> {
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
                "conn" if !known.iter().any(|k| k == item) => {
                    return Err(QueryError::UnknownConnection(format!(
                        "unknown connection `{}` in `conn=`: known connections: {}",
                        shown(item),
                        known.join(", ")
                    )));
                }
                "conn" => out.interest.conn(item),
                "kind" => out.interest.kind(item),
                "tag" => out.interest.tag(item),
                _ => out.interest.event_type(event_type(item)?),
            };
        }
    }
    Ok(out)
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

/// `text` as an error repeats it: capped, control characters escaped.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(SHOWN)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > SHOWN {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use linesman_observer::Bus;
    use linesman_observer::{Connected, Connecting};

    fn known() -> Vec<String> {
        vec!["db".into(), "quotes".into()]
    }

    #[test]
    fn filters_repeat_or_come_as_comma_lists() {
        let query = parse(
            Some("conn=db,quotes&type=connected&type=connecting"),
            &known(),
        )
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
    fn since_is_a_number_given_once() {
        assert_eq!(
            parse(Some("since=42"), &known()).map(|q| q.since),
            Ok(Some(42))
        );
        for bad in ["since=x", "since=", "since=-1", "since=1&since=2"] {
            assert!(
                matches!(parse(Some(bad), &known()), Err(QueryError::Bad(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_filters_say_what_was_wrong() {
        let message = |q: &str| match parse(Some(q), &known()) {
            Err(QueryError::Bad(m) | QueryError::UnknownConnection(m)) => m,
            Ok(_) => panic!("{q} was taken"),
        };
        assert!(message("colour=red").contains("unknown filter `colour`"));
        assert!(message("type=bogus").contains("use one of started, waiting"));
        assert!(message("kind=").contains("empty value"));
        assert!(message("conn=db,,quotes").contains("empty value"));
        assert!(message("conn=%ZZ").contains("does not decode"));
        assert!(matches!(
            parse(Some("conn=nosuch"), &known()),
            Err(QueryError::UnknownConnection(m)) if m.contains("known connections: db, quotes")
        ));
        assert!(message(&format!("x{}=1", "y".repeat(500))).len() < 200);
    }
}
