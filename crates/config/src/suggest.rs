//! "Did you mean …?": the nearest known name to a misspelt one, by edit
//! distance.
//!
//! A copy of `linesman-supervisor`'s private `suggest.rs` (same thresholds,
//! so a misspelt key and a misspelt connection name get the same kind of
//! hint); it is kept private there, and 40 lines are cheaper than a public
//! API on the supervisor for a string helper.

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

/// `did you mean `x`?` for the nearest candidate, if any.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(input, candidates).map(|name| format!("did you mean `{name}`?"))
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
    fn suggests_only_close_keys() {
        let keys = ["endpoint", "kind", "tags", "max_frame", "idle_timeout"];
        assert_eq!(nearest("endpiont", keys), Some("endpoint"));
        assert_eq!(nearest("max_fram", keys), Some("max_frame"));
        assert_eq!(nearest("KIND", keys), Some("kind"));
        assert_eq!(nearest("colour", keys), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
