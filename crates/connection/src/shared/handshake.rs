//! [`HandshakeSends`]: the frames a handler sends through its `Link`
//! during the handshake, queued apart from every other send.
//!
//! Boxed and made on the first such send: most connections have no
//! handshake, or one that sends nothing, and an empty `VecDeque` in place
//! was 24 bytes more in every connection's shared state (it took the
//! state's allocation into the next malloc size class: 432 -> 400 bytes
//! without it).

use std::collections::VecDeque;

use super::Outgoing;

/// Handshake sends, oldest first; nothing allocated until the first.
#[derive(Debug, Default)]
#[expect(
    clippy::box_collection,
    reason = "a thin, optional pointer: an empty VecDeque in place is 32 bytes per connection"
)]
pub(crate) struct HandshakeSends(Option<Box<VecDeque<Outgoing>>>);

impl HandshakeSends {
    pub(crate) fn push_back(&mut self, item: Outgoing) {
        self.0.get_or_insert_with(Box::default).push_back(item);
    }

    /// The oldest send; the queue's memory goes once it is empty.
    pub(crate) fn pop_front(&mut self) -> Option<Outgoing> {
        let queue = self.0.as_mut()?;
        let item = queue.pop_front();
        if queue.is_empty() {
            self.0 = None;
        }
        item
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |queue| queue.len())
    }

    /// Every send, oldest first, leaving the queue empty.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = Outgoing> + use<> {
        self.0
            .take()
            .map(|queue| *queue)
            .unwrap_or_default()
            .into_iter()
    }
}
