//! "Did you mean …?" hints for misspelt keys and names, with the same
//! thresholds as the supervisor's own hints (`linesman_supervisor::suggest`),
//! so a misspelt key and a misspelt connection name get the same kind of hint.

use linesman_supervisor::suggest::nearest;

/// `did you mean `x`?` for the nearest candidate, if any.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(input, candidates).map(|name| format!("did you mean `{name}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_close_keys() {
        let keys = ["endpoint", "kind", "tags", "max_frame", "idle_timeout"];
        assert_eq!(
            did_you_mean("endpiont", keys).as_deref(),
            Some("did you mean `endpoint`?")
        );
        assert_eq!(
            did_you_mean("max_fram", keys).as_deref(),
            Some("did you mean `max_frame`?")
        );
        assert_eq!(did_you_mean("colour", keys), None);
    }
}
