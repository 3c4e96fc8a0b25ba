//! "Did you mean …?": the nearest known name to a misspelt one, by edit
//! distance, for the graph's and the runtime control's errors. The YAML
//! config has its own copy with the same thresholds (`linesman-config`'s
//! `suggest.rs`), so this stays out of the supervisor's public API.

/// The candidate nearest to `input`, if it is close enough to be a likely
/// typo: at most one edit per three characters (at least one edit), or equal
/// ignoring case. Ties go to the earliest candidate.
pub(crate) fn nearest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = input.chars().count().max(3) / 3;
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = if candidate.eq_ignore_ascii_case(input) {
            0
        } else {
            levenshtein(input, candidate)
        };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// Edit distance (insertions, deletions, substitutions) over characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("quotes", "qoutes"), 2);
        assert_eq!(levenshtein("orders", "order"), 1);
    }

    #[test]
    fn suggests_only_close_names() {
        let names = ["quotes", "orders", "hw-programmer"];
        assert_eq!(nearest("qoutes", names), Some("quotes"));
        assert_eq!(nearest("order", names), Some("orders"));
        assert_eq!(nearest("ORDERS", names), Some("orders"));
        assert_eq!(nearest("hw-programer", names), Some("hw-programmer"));
        assert_eq!(nearest("audit", names), None);
        assert_eq!(nearest("x", names), None);
    }

    #[test]
    fn prefers_the_nearest_then_the_first() {
        assert_eq!(nearest("feed", ["feeds", "fed", "feed2"]), Some("feeds"));
        assert_eq!(nearest("abcd", ["abce", "abcf"]), Some("abce"));
        assert_eq!(nearest("abcd", ["abxy", "abce"]), Some("abce"));
    }
}
