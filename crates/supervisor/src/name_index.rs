//! [`NameIndex`]: where each name of a list is, as the list's positions
//! sorted by name (8 bytes per name), found by binary search.
//!
//! Why not a `HashMap<Arc<str>, usize>`: a supervisor keeps such an index
//! of its connections for its whole life, and a hash map's table (a 24-byte
//! slot and a control byte per bucket, buckets a power of two at most 7/8
//! full) costs ~40 bytes per connection where this costs 8. Lookups are
//! made per command or per reload, not per frame, so `log n` comparisons
//! are cheap enough.

use std::cmp::Ordering;
use std::sync::Arc;

/// Something with a name: an item of a list a [`NameIndex`] indexes.
pub(crate) trait Named {
    /// The item's name.
    fn name(&self) -> &str;
}

impl Named for Arc<str> {
    fn name(&self) -> &str {
        self
    }
}

/// Positions of a list of named items, sorted by name; the first of equal
/// names only. It does not own the items: each lookup is given the same
/// list the index was made of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NameIndex {
    by_name: Vec<usize>,
}

impl NameIndex {
    /// The index of `names`. Of equal names, the first is found.
    pub(crate) fn new(items: &[impl Named]) -> NameIndex {
        let mut by_name: Vec<usize> = (0..items.len()).collect();
        // Stable: of equal names the earliest stays first, and is kept.
        by_name.sort_by(|&a, &b| items[a].name().cmp(items[b].name()));
        by_name.dedup_by(|later, earlier| items[*later].name() == items[*earlier].name());
        by_name.shrink_to_fit();
        NameIndex { by_name }
    }

    /// The position of `name` in `items` (the list the index was made
    /// of), if it is there.
    pub(crate) fn get(&self, items: &[impl Named], name: &str) -> Option<usize> {
        self.by_name
            .binary_search_by(|&i| match items.get(i) {
                Some(candidate) => candidate.name().cmp(name),
                None => Ordering::Less,
            })
            .ok()
            .map(|found| self.by_name[found])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<Arc<str>> {
        list.iter().map(|&n| Arc::from(n)).collect()
    }

    #[test]
    fn every_name_is_found_at_its_position() {
        let list = names(&["feed", "auth", "quotes", "b", "a"]);
        let index = NameIndex::new(&list);
        for (i, name) in list.iter().enumerate() {
            assert_eq!(index.get(&list, name), Some(i), "{name}");
        }
        assert_eq!(index.get(&list, "nope"), None);
        assert_eq!(index.get(&list, ""), None);
    }

    #[test]
    fn of_equal_names_the_first_is_found() {
        let list = names(&["a", "b", "a", "c", "b"]);
        let index = NameIndex::new(&list);
        assert_eq!(index.get(&list, "a"), Some(0));
        assert_eq!(index.get(&list, "b"), Some(1));
        assert_eq!(index.get(&list, "c"), Some(3));
    }

    #[test]
    fn an_empty_list_finds_nothing() {
        let none: Vec<Arc<str>> = Vec::new();
        let index = NameIndex::new(&none);
        assert_eq!(index.get(&none, "a"), None);
    }
}
