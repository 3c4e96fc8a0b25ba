//! [`EventFilter`]: which events [`Client::events_with`](crate::Client::events_with)
//! asks for, and from where (`?conn=&kind=&tag=&type=&since=`).

use std::fmt::Write as _;

/// The filters and resume point of a `GET /v1/events` request. Each list
/// admits any of its values; an empty list admits everything. `since`
/// resumes after that `seq`: the daemon sends every kept event after it,
/// or a `gap` line and the current state when they are gone.
///
/// ```
/// use linesman_control::EventFilter;
///
/// let filter = EventFilter::default().conn("db").event_type("connect_failed").since(41);
/// assert_eq!(filter.query(), "conn=db&type=connect_failed&since=41");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventFilter {
    /// Connection names.
    pub conns: Vec<String>,
    /// Connection kinds.
    pub kinds: Vec<String>,
    /// Tags (a connection with any of them).
    pub tags: Vec<String>,
    /// Event types (`connected`, `connect_failed`, …).
    pub types: Vec<String>,
    /// Resume after this `seq`.
    pub since: Option<u64>,
}

impl EventFilter {
    /// Also admits connection `name`.
    #[must_use]
    pub fn conn(mut self, name: impl Into<String>) -> EventFilter {
        self.conns.push(name.into());
        self
    }

    /// Also admits connections of kind `kind`.
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> EventFilter {
        self.kinds.push(kind.into());
        self
    }

    /// Also admits connections tagged `tag`.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> EventFilter {
        self.tags.push(tag.into());
        self
    }

    /// Also admits events of type `name`.
    #[must_use]
    pub fn event_type(mut self, name: impl Into<String>) -> EventFilter {
        self.types.push(name.into());
        self
    }

    /// Resumes after `seq`.
    #[must_use]
    pub fn since(mut self, seq: u64) -> EventFilter {
        self.since = Some(seq);
        self
    }

    /// The query string (without `?`), values percent-encoded.
    pub fn query(&self) -> String {
        let mut out = String::new();
        let lists = [
            ("conn", &self.conns),
            ("kind", &self.kinds),
            ("tag", &self.tags),
            ("type", &self.types),
        ];
        for (key, values) in lists {
            for value in values {
                if !out.is_empty() {
                    out.push('&');
                }
                out.push_str(key);
                out.push('=');
                encode(&mut out, value);
            }
        }
        if let Some(seq) = self.since {
            if !out.is_empty() {
                out.push('&');
            }
            let _ = write!(out, "since={seq}");
        }
        out
    }
}

/// `value` percent-encoded: everything but unreserved characters.
fn encode(out: &mut String, value: &str) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EventFilter;

    #[test]
    fn values_are_percent_encoded() {
        let filter = EventFilter::default().conn("a b,c").tag("é");
        assert_eq!(filter.query(), "conn=a%20b%2Cc&tag=%C3%A9");
        assert_eq!(EventFilter::default().query(), "");
    }
}
