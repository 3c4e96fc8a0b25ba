//! Times as the CLI prints them: ages (`3.2s`, `4m05s`, `2h03m`) and
//! clock times of events (`22:14:03.512`, UTC), from epoch milliseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A short age or delay: `0.4s`, `59.9s`, `4m05s`, `2h03m`, `3d04h`.
pub(crate) fn age(ms: u64) -> String {
    let secs = ms / 1000;
    if secs < 60 {
        // Tenths, rounded down, so `next in 0.0s` only shows at the very end.
        format!("{}.{}s", secs, (ms % 1000) / 100)
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else if secs < 86_400 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{}d{:02}h", secs / 86_400, (secs % 86_400) / 3600)
    }
}

/// The UTC time of day of `at_ms`: `HH:MM:SS.mmm`.
pub(crate) fn clock(at_ms: u64) -> String {
    let ms = at_ms % 1000;
    let secs = (at_ms / 1000) % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60,
        ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_pick_two_units() {
        assert_eq!(age(0), "0.0s");
        assert_eq!(age(3_250), "3.2s");
        assert_eq!(age(59_999), "59.9s");
        assert_eq!(age(60_000), "1m00s");
        assert_eq!(age(245_000), "4m05s");
        assert_eq!(age(7_380_000), "2h03m");
        assert_eq!(age(273_600_000), "3d04h");
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        // 2024-01-01T22:14:03.512Z
        assert_eq!(clock(1_704_147_243_512), "22:14:03.512");
        assert_eq!(clock(0), "00:00:00.000");
    }
}
