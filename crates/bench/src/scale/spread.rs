//! How evenly events spread over a window: the fullest slice's count
//! against the mean count per slice.

use std::time::Duration;

/// Cuts `[start, end)` into slices of `slice` (the last may be shorter but
/// counts as a whole one), counts the `times` that fall in each, and returns
/// the largest count divided by the mean count per slice. `None` when the
/// window is empty or no time falls in it.
pub(super) fn max_over_mean(
    times: &[Duration],
    start: Duration,
    end: Duration,
    slice: Duration,
) -> Option<f64> {
    if end <= start || slice.is_zero() {
        return None;
    }
    let span = (end - start).as_nanos();
    let width = slice.as_nanos();
    let slices = span.div_ceil(width) as usize;
    let mut counts = vec![0u64; slices];
    for time in times.iter().filter(|t| (start..end).contains(t)) {
        counts[((*time - start).as_nanos() / width) as usize] += 1;
    }
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    Some(max as f64 * slices as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn an_even_spread_is_one() {
        let times: Vec<Duration> = (0..100)
            .map(|i| ms(i) + Duration::from_micros(500))
            .collect();
        assert_eq!(max_over_mean(&times, ms(0), ms(100), ms(10)), Some(1.0));
    }

    #[test]
    fn a_herd_in_one_slice_is_the_slice_count() {
        let times = vec![ms(55); 40];
        assert_eq!(max_over_mean(&times, ms(0), ms(100), ms(10)), Some(10.0));
    }

    #[test]
    fn times_outside_the_window_are_not_counted() {
        let times = vec![ms(5), ms(15), ms(200), ms(15)];
        // slices [0,10) and [10,20): counts 1 and 2, mean 1.5.
        assert_eq!(
            max_over_mean(&times, ms(0), ms(20), ms(10)),
            Some(2.0 / 1.5)
        );
        assert_eq!(max_over_mean(&times, ms(300), ms(400), ms(10)), None);
        assert_eq!(max_over_mean(&times, ms(20), ms(20), ms(10)), None);
    }
}
