//! The sizes that decide the bus's memory per connection, pinned: the
//! registry keeps one record and one event (the connection's latest, for
//! replay) per connection for the connection's whole life, so each is paid
//! once per connection (10,000 in the scale benchmark). The tests fail when
//! they grow, so a change that grows them raises the number here, with its
//! reason, in the same commit.

#[cfg(test)]
mod tests {
    use crate::{ConnStatus, Event};

    /// The bytes of an event: 48 of payload (`What`; the two large, rare
    /// payloads are boxed) and 88 of sequence numbers, time and the
    /// connection's name, kind and tags. Shared as an `Arc`: 152 bytes,
    /// malloc's 160-byte size class (the 192-byte one at 168 before the
    /// boxing).
    const EVENT: usize = 136;

    /// The bytes of a registry record, boxed in the registry: 128 bytes,
    /// malloc's 144-byte size class. The name, kind and tags are read from
    /// the record's latest event, not kept twice (176 before).
    const RECORD: usize = 128;

    #[test]
    fn an_event_stays_within_its_budget() {
        let size = std::mem::size_of::<Event>();
        println!("event: {size} bytes");
        assert!(size <= EVENT, "{size} > {EVENT}: see the module docs");
    }

    #[test]
    fn a_registry_record_stays_within_its_budget() {
        let size = std::mem::size_of::<ConnStatus>();
        println!("record: {size} bytes");
        assert!(size <= RECORD, "{size} > {RECORD}: see the module docs");
    }
}
