//! What a configuration file may cost to read, and every breach of it in
//! words.
//!
//! The limits admit what linesman is built for with room to spare — the
//! benchmark's 10,000 connections, and 20,000 connections of ten keys each
//! (about 40 YAML nodes and 350 bytes per connection: 800,000 nodes, 7 MB)
//! — and stop a hostile file early. An alias bomb ("billion laughs": ten anchors
//! each aliasing the previous one ten times) is stopped by the expansion
//! limit, after [`MAX_EXPANSION`] replayed items, in milliseconds: not by
//! the node count, which real files approach long before they use aliases
//! heavily. The alias/anchor ratio heuristic is off, because a large file
//! that aliases one anchor from every connection is legitimate and its
//! expansion is bounded anyway.

use serde_saphyr::Budget;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::AliasLimits;

/// YAML nodes (scalars, lists, mappings) a file may have: 20,000
/// connections of ten keys take about 800,000.
pub(crate) const MAX_NODES: usize = 2_000_000;
/// Parser events (nodes, ends of lists and mappings, …) a file may have.
const MAX_EVENTS: usize = 4_000_000;
/// Aliases (`*name`) a file may use.
const MAX_ALIASES: usize = 100_000;
/// Anchors (`&name`) a file may define.
const MAX_ANCHORS: usize = 100_000;
/// How deep lists and mappings may nest (no key of the format is deeper
/// than 5).
pub(crate) const MAX_DEPTH: usize = 32;
/// Bytes of all scalars together, and of all comments together.
const MAX_TEXT_BYTES: usize = 32 * 1024 * 1024;
/// Items that aliases may expand to, in total: replayed where they are
/// used, and copied into the anchors that contain them. Enough for 10,000
/// connections to alias a block of ten items (`defaults` needs none); an
/// alias bomb reaches it in about 70 ms (release build).
pub(crate) const MAX_EXPANSION: usize = 100_000;
/// How deep an alias may expand to an anchor that holds an alias, ….
const MAX_ALIAS_NESTING: usize = 32;

/// The parser's budget for a configuration file.
pub(crate) fn budget() -> Budget {
    let mut budget = Budget::default();
    budget.max_nodes = MAX_NODES;
    budget.max_events = MAX_EVENTS;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ANCHORS;
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = MAX_TEXT_BYTES;
    budget.max_total_comment_bytes = MAX_TEXT_BYTES;
    budget.max_recorded_anchor_events = MAX_EXPANSION;
    budget.max_recorded_anchor_bytes = MAX_TEXT_BYTES;
    budget.enforce_alias_anchor_ratio = false;
    budget
}

/// The parser's limits on alias expansion.
pub(crate) fn alias_limits() -> AliasLimits {
    let mut limits = AliasLimits::default();
    limits.max_total_replayed_events = MAX_EXPANSION;
    limits.max_replay_stack_depth = MAX_ALIAS_NESTING;
    limits
}

/// What the help of a file that expands too far says.
pub(crate) const ALIAS_HELP: &str = "anchors and aliases (`&a`, `*a`) that repeat each other multiply the document (an alias bomb): write the values out, or use `defaults`";
const SIZE_HELP: &str =
    "split the connections over several files and daemons, or check what generated this file";

/// The message and help for an alias expansion past [`MAX_EXPANSION`].
pub(crate) fn expansion() -> (String, &'static str) {
    (
        format!(
            "aliases (`*name`) in the file expand to more than {} YAML items (a configuration file may expand to at most that many)",
            grouped(MAX_EXPANSION)
        ),
        ALIAS_HELP,
    )
}

/// The message and help for an alias that expands to anchors holding
/// aliases more than [`MAX_ALIAS_NESTING`] deep.
pub(crate) fn alias_nesting() -> (String, &'static str) {
    (
        format!(
            "aliases (`*name`) in the file expand to anchors that hold aliases more than {MAX_ALIAS_NESTING} deep (a configuration file may nest them at most that deep)"
        ),
        ALIAS_HELP,
    )
}

/// The message and help for `breach`, in words (never its Debug form).
pub(crate) fn breach(breach: &BudgetBreach) -> (String, &'static str) {
    let more_than = |count: usize, what: &str| {
        format!(
            "the file has more than {} {what} (a configuration file may have at most that many)",
            grouped(count)
        )
    };
    match breach {
        BudgetBreach::Nodes { .. } => (
            more_than(MAX_NODES, "YAML values, lists and mappings"),
            SIZE_HELP,
        ),
        BudgetBreach::Events { .. } => (more_than(MAX_EVENTS, "YAML items"), SIZE_HELP),
        BudgetBreach::Aliases { .. } => (more_than(MAX_ALIASES, "aliases (`*name`)"), ALIAS_HELP),
        BudgetBreach::Anchors { .. } => (more_than(MAX_ANCHORS, "anchors (`&name`)"), ALIAS_HELP),
        BudgetBreach::MergeKeys { .. } => (
            more_than(Budget::default().max_merge_keys, "merge keys (`<<`)"),
            ALIAS_HELP,
        ),
        BudgetBreach::Depth { .. } => (
            format!(
                "the file nests lists and mappings more than {MAX_DEPTH} deep (a configuration file may nest at most that deep)"
            ),
            "flatten it: no key of a configuration file nests deeper than 5",
        ),
        BudgetBreach::Documents { .. } => (
            "the file has more than one YAML document (a configuration file is one document)"
                .to_owned(),
            "remove the `---` separator and what follows it, or split the file",
        ),
        BudgetBreach::ScalarBytes { .. } => (
            format!(
                "the values in the file add up to more than {} MiB (a configuration file may hold at most that much)",
                MAX_TEXT_BYTES / (1024 * 1024)
            ),
            SIZE_HELP,
        ),
        BudgetBreach::CommentBytes { .. } => (
            format!(
                "the comments in the file add up to more than {} MiB (a configuration file may hold at most that much)",
                MAX_TEXT_BYTES / (1024 * 1024)
            ),
            "shorten the comments",
        ),
        BudgetBreach::RecordedAnchorEvents { .. } | BudgetBreach::RecordedAnchorBytes { .. } => {
            expansion()
        }
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => (
            format!(
                "the file uses {} aliases for {} anchors (a configuration file may use at most ten per anchor)",
                grouped(*aliases),
                grouped(*anchors)
            ),
            ALIAS_HELP,
        ),
        BudgetBreach::SequenceUnbalanced => (
            "the lists and mappings of the file do not close as they open".to_owned(),
            "check the brackets and indentation",
        ),
        _ => (
            "the file expands beyond what a configuration file may".to_owned(),
            ALIAS_HELP,
        ),
    }
}

/// `n` (an unsigned count or size, `usize` or `u64`) with a comma between
/// groups of three digits: `2,000,000`.
pub(crate) fn grouped(n: impl std::fmt::Display) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(2_000_000), "2,000,000");
        assert_eq!(grouped(12_345_678), "12,345,678");
    }

    #[test]
    fn every_breach_is_worded_without_a_debug_form() {
        let breaches = [
            BudgetBreach::Events { events: 4_000_001 },
            BudgetBreach::Aliases { aliases: 100_001 },
            BudgetBreach::Anchors { anchors: 100_001 },
            BudgetBreach::Depth { depth: 33 },
            BudgetBreach::Documents { documents: 2 },
            BudgetBreach::Nodes { nodes: 2_000_001 },
            BudgetBreach::ScalarBytes {
                total_scalar_bytes: 1 << 30,
            },
            BudgetBreach::CommentBytes {
                total_comment_bytes: 1 << 30,
            },
            BudgetBreach::MergeKeys { merge_keys: 10_001 },
            BudgetBreach::AliasAnchorRatio {
                aliases: 1_000,
                anchors: 1,
            },
            BudgetBreach::SequenceUnbalanced,
            BudgetBreach::RecordedAnchorEvents {
                recorded_anchor_events: 100_001,
            },
            BudgetBreach::RecordedAnchorBytes {
                recorded_anchor_bytes: 1 << 30,
            },
            BudgetBreach::InputBytes { input_bytes: 1 },
        ];
        for b in &breaches {
            let (message, help) = breach(b);
            let debug = format!("{b:?}");
            let name = debug.split([' ', '{']).next().unwrap_or_default();
            for text in [message.as_str(), help] {
                assert!(!text.contains('{') && !text.contains('}'), "{text}");
                assert!(!text.contains(name), "{text} names {name}");
                assert!(text.starts_with(char::is_lowercase), "{text}");
                assert!(!text.ends_with('.'), "{text}");
            }
        }
        assert_eq!(
            breach(&BudgetBreach::Nodes { nodes: 2_000_001 }).0,
            "the file has more than 2,000,000 YAML values, lists and mappings (a configuration file may have at most that many)"
        );
    }
}
