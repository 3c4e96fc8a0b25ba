//! The restart policy and tracker on paused tokio time: backoff growth,
//! jitter bounds and spread, reset_after, intensity (flaps count, connect
//! failures do not), modes, validation.

use std::time::Duration;

use linesman_supervisor::{
    Allowed, BackoffPolicy, Decision, Intensity, ParseError, PolicyError, PolicyValue, RestartMode,
    RestartPolicy, RestartPolicyBuilder, RestartTracker, SessionEnd,
};
use tokio::time::{Instant, sleep_until};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn exact(backoff: BackoffPolicy) -> RestartPolicyBuilder {
    RestartPolicy::builder().backoff(backoff.jitter(0.0))
}

fn tracker(policy: RestartPolicyBuilder, seed: u64) -> RestartTracker {
    RestartTracker::new(policy.build().expect("test policies are valid"), seed)
}

/// Ends a session that failed right away and returns the restart delay,
/// after sleeping until the restart instant (as the runtime does).
async fn fail_and_wait(tracker: &mut RestartTracker) -> (u32, Duration) {
    let now = Instant::now();
    match tracker.session_ended(SessionEnd::Failure, now) {
        Decision::Restart { attempt, delay, at } => {
            assert_eq!(at, now + delay);
            sleep_until(at).await;
            assert_eq!(
                Instant::now() - now,
                delay,
                "paused time wakes exactly at `at`"
            );
            (attempt, delay)
        }
        other => panic!("expected a restart, got {other:?}"),
    }
}

/// Brings a session up and ends it at once (a flap), then waits for the
/// restart like [`fail_and_wait`].
async fn flap_and_wait(tracker: &mut RestartTracker) -> (u32, Duration) {
    tracker.session_started(Instant::now());
    fail_and_wait(tracker).await
}

#[tokio::test(start_paused = true)]
async fn delays_double_from_initial_and_stop_at_max() {
    let mut t = tracker(exact(BackoffPolicy::default().max(secs(2))), 1);
    let mut seen = Vec::new();
    for _ in 0..8 {
        seen.push(fail_and_wait(&mut t).await);
    }
    let expected = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
    let expected: Vec<(u32, Duration)> = (1..).zip(expected.iter().map(|n| ms(*n))).collect();
    assert_eq!(seen, expected);
    assert_eq!(t.attempt(), 8);
}

#[tokio::test(start_paused = true)]
async fn the_default_backoff_reaches_thirty_seconds_on_the_tenth_restart() {
    let policy = exact(BackoffPolicy::default()).intensity(Intensity::default().max_restarts(100));
    let mut t = tracker(policy, 1);
    let mut delays = Vec::new();
    for _ in 0..11 {
        delays.push(fail_and_wait(&mut t).await.1);
    }
    assert_eq!(delays[8], ms(25_600));
    assert_eq!(delays[9], secs(30));
    assert_eq!(delays[10], secs(30));
}

#[test]
fn nominal_delay_follows_the_multiplier_and_saturates() {
    let b = BackoffPolicy::default().multiplier(1.5);
    assert_eq!(b.nominal_delay(0), ms(100));
    assert_eq!(b.nominal_delay(1), ms(100));
    assert_eq!(b.nominal_delay(3), ms(225));
    assert_eq!(b.nominal_delay(u32::MAX), secs(30));
    let constant = BackoffPolicy::default().multiplier(1.0);
    assert_eq!(constant.nominal_delay(1_000), ms(100));
}

/// Draws `count` delays for restart number `attempt` from one tracker.
fn draws(policy: RestartPolicyBuilder, seed: u64, attempt: u32, count: usize) -> Vec<Duration> {
    let policy = policy.intensity(Intensity::default().max_restarts(u32::MAX));
    let mut t = tracker(policy, seed);
    let now = Instant::now();
    (0..count)
        .map(|_| {
            t.reset();
            let mut last = None;
            for _ in 0..attempt {
                last = Some(t.session_ended(SessionEnd::Failure, now));
            }
            match last {
                Some(Decision::Restart { delay, .. }) => delay,
                other => panic!("expected a restart, got {other:?}"),
            }
        })
        .collect()
}

#[test]
fn jitter_stays_within_bounds_and_spreads_around_the_nominal_delay() {
    let policy =
        RestartPolicy::builder().backoff(BackoffPolicy::default().initial(secs(1)).jitter(0.2));
    let delays = draws(policy, 7, 1, 10_000);
    let (low, high) = (ms(800), ms(1200));
    assert!(
        delays.iter().all(|d| (low..=high).contains(d)),
        "a draw left [800ms, 1200ms]"
    );
    let min = delays.iter().min().expect("draws");
    let max = delays.iter().max().expect("draws");
    assert!(
        *min < ms(810) && *max > ms(1190),
        "draws do not cover the range: {min:?}..{max:?}"
    );
    let mean = delays.iter().sum::<Duration>().as_secs_f64() / delays.len() as f64;
    assert!(
        (mean - 1.0).abs() < 0.01,
        "mean {mean}s is not near the nominal 1s"
    );
}

#[test]
fn jitter_never_exceeds_max_and_does_not_pile_up_on_it() {
    // Nominal 30s (capped): draws in [24s, 30s], not half of them on 30s.
    let policy =
        RestartPolicy::builder().backoff(BackoffPolicy::default().initial(secs(20)).jitter(0.2));
    let delays = draws(policy, 11, 3, 2_000);
    assert!(delays.iter().all(|d| (secs(24)..=secs(30)).contains(d)));
    let at_max = delays.iter().filter(|d| **d == secs(30)).count();
    assert!(at_max < 10, "{at_max} of 2000 draws landed exactly on max");
    let mean = delays.iter().sum::<Duration>().as_secs_f64() / delays.len() as f64;
    assert!(
        (mean - 27.0).abs() < 0.3,
        "mean {mean}s is not near the middle of [24s, 30s]"
    );
}

#[test]
fn connections_that_fail_together_do_not_reconnect_together() {
    // 1000 connections at one instant, initial 1s, jitter 0.5: no 10ms slice
    // of [0.5s, 1.5s] may hold more than three times the mean (10 per slice).
    let policy =
        RestartPolicy::builder().backoff(BackoffPolicy::default().initial(secs(1)).jitter(0.5));
    let now = Instant::now();
    let mut slices = [0u32; 100];
    for seed in 0..1000 {
        let mut t = tracker(policy, seed);
        let Decision::Restart { delay, .. } = t.session_ended(SessionEnd::Failure, now) else {
            panic!("expected a restart");
        };
        let slice = (delay.as_millis() as usize).saturating_sub(500) / 10;
        slices[slice.min(99)] += 1;
    }
    let busiest = slices.iter().max().expect("slices");
    assert!(
        *busiest <= 30,
        "a 10ms slice holds {busiest} reconnects: {slices:?}"
    );
    assert!(
        slices.iter().filter(|n| **n == 0).count() < 5,
        "the window is not covered: {slices:?}"
    );
}

#[test]
fn different_seeds_draw_different_delays_and_equal_seeds_equal_ones() {
    let policy = RestartPolicy::builder();
    let a = draws(policy, 1, 2, 5);
    let b = draws(policy, 2, 2, 5);
    assert_ne!(a, b);
    assert_eq!(a, draws(policy, 1, 2, 5));
}

#[tokio::test(start_paused = true)]
async fn a_session_up_for_reset_after_starts_the_backoff_over() {
    let policy = exact(BackoffPolicy::default()).reset_after(secs(30));
    let mut t = tracker(policy, 1);
    for _ in 0..4 {
        flap_and_wait(&mut t).await;
    }
    // Up for 29.999s: not stable, the flaps go on growing the backoff.
    t.session_started(Instant::now());
    tokio::time::advance(secs(30) - ms(1)).await;
    assert_eq!(fail_and_wait(&mut t).await, (5, ms(1600)));
    // Up for exactly 30s: stable, back to `initial`.
    t.session_started(Instant::now());
    tokio::time::advance(secs(30)).await;
    assert_eq!(fail_and_wait(&mut t).await, (1, ms(100)));
    assert_eq!(fail_and_wait(&mut t).await, (2, ms(200)));
}

#[tokio::test(start_paused = true)]
async fn a_session_that_came_up_forgets_the_connect_failures_before_it() {
    let policy = exact(BackoffPolicy::default()).reset_after(secs(30));
    let mut t = tracker(policy, 1);
    // Refused six times: the backoff grew to 3.2s.
    for expected in 1..=6 {
        assert_eq!(fail_and_wait(&mut t).await.0, expected);
    }
    // Up for 5s (less than reset_after), then dropped: the first restart
    // after a session that came up waits `initial`, not 6.4s.
    t.session_started(Instant::now());
    tokio::time::advance(secs(5)).await;
    assert_eq!(fail_and_wait(&mut t).await, (1, ms(100)));
    // Refused again: the flap and this failure count.
    assert_eq!(fail_and_wait(&mut t).await, (2, ms(200)));
    // A second flap soon after: the flaps since the last stable session
    // still grow the backoff.
    assert_eq!(flap_and_wait(&mut t).await, (2, ms(200)));
}

#[tokio::test(start_paused = true)]
async fn the_restart_past_max_restarts_within_the_window_gives_up() {
    let policy = exact(BackoffPolicy::default().initial(secs(1)).multiplier(1.0))
        .intensity(Intensity::default().max_restarts(3).window(secs(10)));
    let mut t = tracker(policy, 1);
    for _ in 0..3 {
        flap_and_wait(&mut t).await;
    }
    assert_eq!(t.restarts_in_window(Instant::now()), 3);
    let give_up = Decision::GiveUp {
        restarts: 3,
        window: secs(10),
    };
    t.session_started(Instant::now());
    assert_eq!(
        t.session_ended(SessionEnd::Failure, Instant::now()),
        give_up
    );
    assert!(t.is_failed());
    // Failed is sticky, even long after the window and for a connect
    // failure: only reset() clears it.
    tokio::time::advance(secs(60)).await;
    assert_eq!(
        t.session_ended(SessionEnd::Failure, Instant::now()),
        give_up
    );

    t.reset();
    assert!(!t.is_failed());
    assert_eq!(t.attempt(), 0);
    assert_eq!(t.restarts_in_window(Instant::now()), 0);
    assert_eq!(flap_and_wait(&mut t).await, (1, secs(1)));
}

#[tokio::test(start_paused = true)]
async fn restarts_spread_beyond_the_window_never_give_up() {
    // 3 restarts per 10s allowed; one restart every 4s (4s backoff) keeps at
    // most 3 in any window, forever. A counter that never forgot would fail.
    let policy = exact(BackoffPolicy::default().initial(secs(4)).max(secs(4)))
        .intensity(Intensity::default().max_restarts(3).window(secs(10)));
    let mut t = tracker(policy, 1);
    for n in 1..=50 {
        assert_eq!(flap_and_wait(&mut t).await, (n, secs(4)));
    }
    assert!(!t.is_failed());
    // Restarts 1ms apart, though: the 4th within the window gives up.
    let policy = policy.backoff(
        BackoffPolicy::default()
            .initial(ms(1))
            .max(ms(1))
            .jitter(0.0),
    );
    let mut t = tracker(policy, 1);
    for _ in 0..3 {
        flap_and_wait(&mut t).await;
    }
    t.session_started(Instant::now());
    let decision = t.session_ended(SessionEnd::Failure, Instant::now());
    assert!(
        matches!(decision, Decision::GiveUp { restarts: 3, .. }),
        "{decision:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn intensity_counts_restarts_not_sessions_that_were_stopped() {
    let policy = exact(BackoffPolicy::default())
        .mode(RestartMode::OnFailure)
        .intensity(Intensity::default().max_restarts(1));
    let mut t = tracker(policy, 1);
    for _ in 0..10 {
        t.session_started(Instant::now());
        assert_eq!(
            t.session_ended(SessionEnd::Clean, Instant::now()),
            Decision::Stop
        );
    }
    assert_eq!(flap_and_wait(&mut t).await, (1, ms(100)));
}

#[test]
fn connect_failures_grow_the_backoff_and_never_give_up() {
    // The default policy: a peer that is not there (refused, timed out) is
    // retried forever at the backoff's pace; it is not a crash loop.
    let mut t = tracker(RestartPolicy::builder(), 1);
    let start = Instant::now();
    let mut now = start;
    let mut last = Duration::ZERO;
    for n in 1..=1_000 {
        match t.session_ended(SessionEnd::Failure, now) {
            Decision::Restart { attempt, delay, at } => {
                assert_eq!(attempt, n);
                (now, last) = (at, delay);
            }
            other => panic!("connect failure {n}: expected a restart, got {other:?}"),
        }
    }
    assert!(!t.is_failed());
    assert_eq!(t.restarts_in_window(now), 0);
    assert!(last >= secs(24), "the backoff grew to its cap: {last:?}");
    assert!(now - start > secs(6 * 3600), "hours of retries");
}

#[tokio::test(start_paused = true)]
async fn only_restarts_after_a_session_that_came_up_count_toward_the_intensity() {
    let policy = exact(BackoffPolicy::default().initial(secs(1)).multiplier(1.0))
        .intensity(Intensity::default().max_restarts(2).window(secs(600)));
    let mut t = tracker(policy, 1);
    for _ in 0..2 {
        flap_and_wait(&mut t).await;
        for _ in 0..5 {
            fail_and_wait(&mut t).await;
        }
    }
    assert_eq!(t.restarts_in_window(Instant::now()), 2);
    assert_eq!(
        t.attempt(),
        2 + 5,
        "the flaps and the connect failures since the last session that came up grow the attempt count"
    );
    // Failing to connect still does not give up; the third flap does.
    assert!(matches!(
        t.session_ended(SessionEnd::Failure, Instant::now()),
        Decision::Restart { attempt: 8, .. }
    ));
    t.session_started(Instant::now());
    assert_eq!(
        t.session_ended(SessionEnd::Clean, Instant::now()),
        Decision::GiveUp {
            restarts: 2,
            window: secs(600)
        }
    );
}

#[tokio::test(start_paused = true)]
async fn the_default_intensity_fails_a_flapping_peer_after_eighty_one_seconds() {
    // Default intensity (10 within 10 min), exact default backoff: restarts
    // 1 to 10 wait 0.1+0.2+0.4+0.8+1.6+3.2+6.4+12.8+25.6+30 = 81.1 s, all
    // within the window; the 11th flap gives up.
    let mut t = tracker(exact(BackoffPolicy::default()), 1);
    let start = Instant::now();
    for n in 1..=10 {
        assert_eq!(flap_and_wait(&mut t).await.0, n);
    }
    t.session_started(Instant::now());
    assert_eq!(
        t.session_ended(SessionEnd::Clean, Instant::now()),
        Decision::GiveUp {
            restarts: 10,
            window: secs(600)
        }
    );
    assert_eq!(Instant::now() - start, ms(81_100));
}

#[test]
fn with_jitter_a_flapping_peer_fails_within_sixty_five_to_ninety_one_seconds() {
    // docs/config.md states this range for the defaults: restarts 1 to 9
    // wait 51.1 s ±20 %, the 10th 24 s to 30 s (never above max).
    for seed in 0..200 {
        let mut t = tracker(RestartPolicy::builder(), seed);
        let start = Instant::now();
        let mut now = start;
        let mut gave_up_at = None;
        for _ in 0..100 {
            t.session_started(now);
            match t.session_ended(SessionEnd::Clean, now) {
                Decision::Restart { at, .. } => now = at,
                Decision::GiveUp { .. } => {
                    gave_up_at = Some(now - start);
                    break;
                }
                Decision::Stop => panic!("policy always stopped"),
            }
        }
        let gave_up_at =
            gave_up_at.unwrap_or_else(|| panic!("seed {seed}: 100 flaps, never gave up"));
        assert!(
            (ms(64_880)..=ms(91_320)).contains(&gave_up_at),
            "seed {seed}: gave up after {gave_up_at:?}"
        );
    }
}

#[test]
fn the_default_intensity_is_ten_restarts_within_ten_minutes() {
    let intensity = *RestartPolicy::default().intensity();
    assert_eq!(intensity, Intensity::default());
    assert_eq!((intensity.max_restarts, intensity.window), (10, secs(600)));
}

#[test]
fn never_stops_after_any_end() {
    let mut t = tracker(RestartPolicy::builder().mode(RestartMode::Never), 1);
    let now = Instant::now();
    assert_eq!(t.session_ended(SessionEnd::Failure, now), Decision::Stop);
    assert_eq!(t.session_ended(SessionEnd::Clean, now), Decision::Stop);
    assert_eq!(t.attempt(), 0);
}

#[test]
fn on_failure_restarts_failures_only_and_always_restarts_both() {
    let now = Instant::now();
    let mut t = tracker(RestartPolicy::builder().mode(RestartMode::OnFailure), 1);
    assert_eq!(t.session_ended(SessionEnd::Clean, now), Decision::Stop);
    assert!(matches!(
        t.session_ended(SessionEnd::Failure, now),
        Decision::Restart { attempt: 1, .. }
    ));

    let mut t = tracker(RestartPolicy::builder(), 1);
    assert!(matches!(
        t.session_ended(SessionEnd::Clean, now),
        Decision::Restart { attempt: 1, .. }
    ));
    // A peer that closes cleanly at once still backs off.
    assert!(matches!(
        t.session_ended(SessionEnd::Clean, now),
        Decision::Restart { attempt: 2, .. }
    ));
    assert!(SessionEnd::Failure.is_failure() && !SessionEnd::Clean.is_failure());
}

#[test]
fn reset_clears_the_attempt_count() {
    let mut t = tracker(exact(BackoffPolicy::default()), 1);
    let now = Instant::now();
    for _ in 0..5 {
        t.session_ended(SessionEnd::Failure, now);
    }
    assert_eq!(t.attempt(), 5);
    t.reset();
    assert_eq!(t.attempt(), 0);
    let decision = t.session_ended(SessionEnd::Failure, now);
    assert_eq!(
        decision,
        Decision::Restart {
            attempt: 1,
            delay: ms(100),
            at: now + ms(100)
        }
    );
}

/// The error `build` gives for a backoff, or `Ok` with the policy's backoff.
fn build_with(backoff: BackoffPolicy) -> Result<BackoffPolicy, PolicyError> {
    RestartPolicy::builder()
        .backoff(backoff)
        .build()
        .map(|p| *p.backoff())
}

/// `(value, allowed)` of the error `build` gives.
fn refused(result: Result<impl std::fmt::Debug, PolicyError>) -> (PolicyValue, Allowed) {
    let error = result.expect_err("an invalid policy");
    (error.value(), error.allowed())
}

#[test]
fn build_names_each_bad_setting_its_value_and_what_is_allowed() {
    let b = BackoffPolicy::default();
    assert_eq!(build_with(b), Ok(b));
    assert_eq!(
        refused(build_with(b.initial(Duration::ZERO))),
        (PolicyValue::Initial(Duration::ZERO), Allowed::AboveZero)
    );
    assert_eq!(
        refused(build_with(b.initial(secs(40)))),
        (
            PolicyValue::Initial(secs(40)),
            Allowed::NotAbove(PolicyValue::Max(secs(30)))
        )
    );
    assert_eq!(
        refused(build_with(b.max(Duration::ZERO))),
        (PolicyValue::Max(Duration::ZERO), Allowed::AboveZero)
    );
    assert_eq!(
        refused(build_with(b.max(secs(100_000)))),
        (
            PolicyValue::Max(secs(100_000)),
            Allowed::AtMost(BackoffPolicy::MAX_LIMIT)
        )
    );
    assert_eq!(
        refused(build_with(b.multiplier(0.99))),
        (PolicyValue::Multiplier(0.99), Allowed::AtLeast(1.0))
    );
    for odd in [f64::NAN, f64::INFINITY] {
        let (value, allowed) = refused(build_with(b.multiplier(odd)));
        assert!(matches!(value, PolicyValue::Multiplier(_)), "{value:?}");
        assert_eq!(allowed, Allowed::AtLeast(1.0));
    }
    let fraction = Allowed::Between { min: 0.0, max: 1.0 };
    assert_eq!(
        refused(build_with(b.jitter(-0.1))),
        (PolicyValue::Jitter(-0.1), fraction)
    );
    assert_eq!(
        refused(build_with(b.jitter(1.01))),
        (PolicyValue::Jitter(1.01), fraction)
    );
    let (value, allowed) = refused(build_with(b.jitter(f64::NAN)));
    assert!(matches!(value, PolicyValue::Jitter(_)), "{value:?}");
    assert_eq!(allowed, fraction);
    assert!(build_with(b.jitter(1.0).multiplier(1.0).initial(secs(30))).is_ok());
    assert!(build_with(b.max(BackoffPolicy::MAX_LIMIT)).is_ok());

    let with = |i: Intensity| RestartPolicy::builder().intensity(i).build();
    let i = Intensity::default();
    assert_eq!(
        refused(with(i.max_restarts(0))),
        (PolicyValue::MaxRestarts(0), Allowed::AboveZero)
    );
    assert_eq!(
        refused(with(i.window(Duration::ZERO))),
        (PolicyValue::Window(Duration::ZERO), Allowed::AboveZero)
    );
    // Any reset_after is fine, zero included (every session resets).
    assert!(
        RestartPolicy::builder()
            .reset_after(Duration::ZERO)
            .build()
            .is_ok()
    );
}

#[test]
fn each_setting_is_checked_on_its_own_before_the_clash() {
    // A multiplier below 1.0 and an initial above max: the setting wrong
    // on its own is reported first, then clashes.
    let b = BackoffPolicy::default().initial(secs(40)).multiplier(0.5);
    assert_eq!(
        refused(build_with(b)),
        (PolicyValue::Multiplier(0.5), Allowed::AtLeast(1.0))
    );
    assert_eq!(PolicyValue::Initial(secs(40)).check(), Ok(()));
    assert_eq!(PolicyValue::Window(secs(1)).setting(), "intensity.window");
}

#[test]
fn errors_say_what_to_do() {
    let message = refused_error(BackoffPolicy::default().jitter(2.0)).to_string();
    assert_eq!(
        message,
        "backoff jitter 2 is invalid: use a fraction between 0.0 and 1.0 (0.2 means within 20% of the delay)"
    );
    let message = refused_error(BackoffPolicy::default().initial(secs(40))).to_string();
    assert_eq!(
        message,
        "backoff initial delay 40s is larger than max 30s: lower initial or raise max"
    );
    let message = refused_error(BackoffPolicy::default().max(secs(100_000))).to_string();
    assert_eq!(
        message,
        "backoff max 100000s is longer than the limit 86400s: lower it, or use policy never"
    );
    let message =
        refused_error(BackoffPolicy::default().initial(ms(1500)).max(ms(250))).to_string();
    assert_eq!(
        message,
        "backoff initial delay 1.5s is larger than max 250ms: lower initial or raise max"
    );
}

fn refused_error(backoff: BackoffPolicy) -> PolicyError {
    build_with(backoff).expect_err("an invalid backoff")
}

#[test]
fn modes_parse_and_display_their_config_names() {
    for mode in [
        RestartMode::Always,
        RestartMode::OnFailure,
        RestartMode::Never,
    ] {
        assert_eq!(mode.to_string().parse::<RestartMode>(), Ok(mode));
    }
    assert_eq!("on-failure".parse(), Ok(RestartMode::OnFailure));
    assert_eq!(
        "sometimes".parse::<RestartMode>(),
        Err(ParseError::UnknownRestartMode {
            input: "sometimes".into()
        })
    );
    assert_eq!(RestartMode::default(), RestartMode::Always);
}

proptest::proptest! {
    #[test]
    fn every_delay_of_every_valid_backoff_stays_within_its_bounds(
        initial_ms in 1u64..60_000,
        extra_ms in 0u64..86_400_000,
        multiplier in 1.0f64..10.0,
        jitter in 0.0f64..=1.0,
        seed in proptest::prelude::any::<u64>(),
    ) {
        let max = (ms(initial_ms) + ms(extra_ms)).min(BackoffPolicy::MAX_LIMIT);
        let backoff = BackoffPolicy::default().initial(ms(initial_ms)).max(max).multiplier(multiplier).jitter(jitter);
        let policy = RestartPolicy::builder()
            .backoff(backoff)
            .intensity(Intensity::default().max_restarts(u32::MAX));
        let mut t = tracker(policy, seed);
        let now = Instant::now();
        let mut previous_nominal = Duration::ZERO;
        for attempt in 1..=60 {
            let nominal = backoff.nominal_delay(attempt);
            proptest::prop_assert!(nominal >= previous_nominal && nominal <= max);
            previous_nominal = nominal;
            let Decision::Restart { delay, attempt: got, .. } = t.session_ended(SessionEnd::Failure, now) else {
                panic!("expected a restart");
            };
            proptest::prop_assert_eq!(got, attempt);
            let low = nominal.mul_f64(1.0 - jitter).saturating_sub(Duration::from_nanos(2));
            let high = nominal.mul_f64(1.0 + jitter) + Duration::from_nanos(2);
            proptest::prop_assert!(delay <= max, "{:?} above max {:?}", delay, max);
            proptest::prop_assert!(low <= delay && delay <= high, "{:?} outside [{:?}, {:?}]", delay, low, high);
        }
    }
}
