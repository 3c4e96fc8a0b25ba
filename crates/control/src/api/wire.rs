//! How an [`EventLine`] is written and read: one flat JSON object, the
//! common fields, then `type`, `replay`, `state` (absent for events of the
//! bus), `message`, then the fields of the type.
//!
//! Why by hand, not `#[serde(tag = "type")]`: serde writes an internal tag
//! first, and a flattened enum's fields before the struct's later ones, so
//! the derived text would differ from what the daemon has always sent (key
//! order, `type` after `tags`). Scripts compare and diff these lines; the
//! golden test (`convert/golden.rs`) pins them byte for byte.
//!
//! Reading is strict about the known types (a `connected` line without a
//! `peer` is an error that names both) and lenient about unknown ones
//! ([`What::Unknown`] keeps their fields), so a newer daemon's new event
//! type does not break an older client.

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::api::{EventLine, GaveUpCause, State, What};

impl Serialize for EventLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("seq", &self.seq)?;
        map.serialize_entry("conn_seq", &self.conn_seq)?;
        map.serialize_entry("at_ms", &self.at_ms)?;
        map.serialize_entry("conn", &self.conn)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("tags", &self.tags)?;
        map.serialize_entry("type", self.what.type_name())?;
        map.serialize_entry("replay", &self.replay)?;
        if let Some(state) = &self.state {
            map.serialize_entry("state", state)?;
        }
        map.serialize_entry("message", &self.message)?;
        match &self.what {
            What::Started | What::Stopping => {}
            What::Waiting { waiting_on } => map.serialize_entry("waiting_on", waiting_on)?,
            What::Connecting { attempt } => map.serialize_entry("attempt", attempt)?,
            What::Connected { peer } => map.serialize_entry("peer", peer)?,
            What::ConnectFailed { attempt, reason } => {
                map.serialize_entry("attempt", attempt)?;
                map.serialize_entry("reason", reason)?;
            }
            What::Disconnected { reason } | What::Stopped { reason } => {
                map.serialize_entry("reason", reason)?;
            }
            What::Backoff {
                attempt,
                delay_ms,
                until_ms,
            } => {
                map.serialize_entry("attempt", attempt)?;
                map.serialize_entry("delay_ms", delay_ms)?;
                map.serialize_entry("until_ms", until_ms)?;
            }
            What::GaveUp(GaveUpCause::Failed { reason }) => {
                map.serialize_entry("reason", reason)?;
            }
            What::GaveUp(GaveUpCause::Intensity { count, window_ms }) => {
                map.serialize_entry("count", count)?;
                map.serialize_entry("window_ms", window_ms)?;
            }
            What::Lagged { missed } => map.serialize_entry("missed", missed)?,
            What::Gap { from, to } => {
                map.serialize_entry("from", from)?;
                map.serialize_entry("to", to)?;
            }
            What::ListenerRemoved { listener, count } => {
                map.serialize_entry("count", count)?;
                map.serialize_entry("listener", listener)?;
            }
            What::Reloaded {
                added,
                removed,
                changed,
            } => {
                map.serialize_entry("added", added)?;
                map.serialize_entry("removed", removed)?;
                map.serialize_entry("changed", changed)?;
            }
            What::Unknown { fields, .. } => {
                for (name, value) in fields {
                    map.serialize_entry(name, value)?;
                }
            }
        }
        map.end()
    }
}

/// A line as it is read: the common fields, and the rest by name.
#[derive(Deserialize)]
struct Wire {
    seq: u64,
    conn_seq: u64,
    at_ms: u64,
    conn: String,
    kind: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(rename = "type")]
    ty: String,
    replay: bool,
    #[serde(default)]
    state: Option<State>,
    message: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl<'de> Deserialize<'de> for EventLine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EventLine, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        let what = Fields {
            ty: &wire.ty,
            rest: wire.rest,
        }
        .what()
        .map_err(D::Error::custom)?;
        Ok(EventLine {
            seq: wire.seq,
            conn_seq: wire.conn_seq,
            at_ms: wire.at_ms,
            conn: wire.conn,
            kind: wire.kind,
            tags: wire.tags,
            replay: wire.replay,
            state: wire.state,
            message: wire.message,
            what,
        })
    }
}

/// The fields of one line beyond the common ones.
struct Fields<'a> {
    ty: &'a str,
    rest: Map<String, Value>,
}

impl Fields<'_> {
    /// What the line says happened.
    fn what(mut self) -> Result<What, String> {
        Ok(match self.ty {
            "started" => What::Started,
            "waiting" => What::Waiting {
                waiting_on: self.take("waiting_on")?,
            },
            "connecting" => What::Connecting {
                attempt: self.take("attempt")?,
            },
            "connected" => What::Connected {
                peer: self.take("peer")?,
            },
            "connect_failed" => What::ConnectFailed {
                attempt: self.take("attempt")?,
                reason: self.take("reason")?,
            },
            "disconnected" => What::Disconnected {
                reason: self.take("reason")?,
            },
            "backoff" => What::Backoff {
                attempt: self.take("attempt")?,
                delay_ms: self.take("delay_ms")?,
                until_ms: self.take("until_ms")?,
            },
            "gave_up" if self.rest.contains_key("reason") => What::GaveUp(GaveUpCause::Failed {
                reason: self.take("reason")?,
            }),
            "gave_up" => What::GaveUp(GaveUpCause::Intensity {
                count: self.take("count")?,
                window_ms: self.take("window_ms")?,
            }),
            "stopping" => What::Stopping,
            "stopped" => What::Stopped {
                reason: self.take("reason")?,
            },
            "lagged" => What::Lagged {
                missed: self.take("missed")?,
            },
            "gap" => What::Gap {
                from: self.take("from")?,
                to: self.take("to")?,
            },
            "listener_removed" => What::ListenerRemoved {
                listener: self.take("listener")?,
                count: self.take("count")?,
            },
            "reloaded" => What::Reloaded {
                added: self.take("added")?,
                removed: self.take("removed")?,
                changed: self.take("changed")?,
            },
            other => What::Unknown {
                type_name: other.to_owned(),
                fields: self.rest,
            },
        })
    }

    /// The field `name`, which a line of this type must have.
    fn take<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, String> {
        let ty = self.ty;
        let value = self
            .rest
            .remove(name)
            .ok_or_else(|| format!("a `{ty}` event line has no `{name}` field"))?;
        serde_json::from_value(value)
            .map_err(|error| format!("the `{name}` field of a `{ty}` event line: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMON: &str =
        r#""seq":4,"conn_seq":2,"at_ms":1700000000000,"conn":"quotes","kind":null,"tags":[]"#;

    fn read(rest: &str) -> Result<EventLine, serde_json::Error> {
        serde_json::from_str(&format!("{{{COMMON},{rest}}}"))
    }

    #[test]
    fn an_unknown_type_is_kept_with_its_fields_and_written_back_as_it_came() {
        let text = format!(
            r#"{{{COMMON},"type":"paused","replay":false,"state":"up","message":"paused for 2s","for_ms":2000,"by":"operator"}}"#
        );
        let line: EventLine = serde_json::from_str(&text).expect("an unknown type is read");
        let What::Unknown { type_name, fields } = &line.what else {
            panic!("{line:?}");
        };
        assert_eq!(type_name, "paused");
        assert_eq!(fields.get("for_ms"), Some(&Value::from(2000)));
        assert_eq!(
            (line.state, line.message.as_str()),
            (Some(State::Up), "paused for 2s")
        );
        // Keys of an unknown type's own fields come back sorted by name.
        let again = serde_json::to_string(&line).expect("JSON");
        assert!(
            again.ends_with(r#""message":"paused for 2s","by":"operator","for_ms":2000}"#),
            "{again}"
        );
    }

    #[test]
    fn a_known_type_without_its_field_is_an_error_that_names_both() {
        let error = read(r#""type":"connected","replay":false,"state":"up","message":"connected""#)
            .expect_err("a connected line needs its peer");
        assert!(
            error
                .to_string()
                .contains("a `connected` event line has no `peer` field"),
            "{error}"
        );
        let error = read(r#""type":"backoff","replay":false,"message":"b","attempt":"two","delay_ms":1,"until_ms":2"#)
            .expect_err("an attempt is a number");
        assert!(
            error
                .to_string()
                .contains("the `attempt` field of a `backoff` event line"),
            "{error}"
        );
    }

    #[test]
    fn a_gap_line_round_trips() {
        let line = read(r#""type":"gap","replay":false,"message":"m","from":5,"to":9"#)
            .expect("a gap line");
        assert_eq!(line.what, What::Gap { from: 5, to: 9 });
        let text = serde_json::to_string(&line).expect("JSON");
        assert!(
            text.ends_with(r#""message":"m","from":5,"to":9}"#),
            "{text}"
        );
    }

    #[test]
    fn a_gave_up_line_reads_as_its_cause() {
        let intensity =
            read(r#""type":"gave_up","replay":false,"message":"m","count":10,"window_ms":600000"#)
                .expect("a gave_up line");
        assert_eq!(
            intensity.what,
            What::GaveUp(GaveUpCause::Intensity {
                count: 10,
                window_ms: 600_000
            })
        );
        let failed = read(r#""type":"gave_up","replay":false,"message":"m","reason":"boom""#)
            .expect("a gave_up line");
        assert_eq!(
            failed.what,
            What::GaveUp(GaveUpCause::Failed {
                reason: "boom".into()
            })
        );
    }

    #[test]
    fn an_unknown_state_word_is_an_error_that_lists_the_six() {
        let error = read(r#""type":"started","replay":false,"state":"paused","message":"m""#)
            .expect_err("the states are closed");
        let text = error.to_string();
        assert!(
            text.contains("paused") && text.contains("waiting"),
            "{text}"
        );
    }
}
