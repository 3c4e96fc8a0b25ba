//! The lifecycle as tables: for each sequence of inputs (each seen with the
//! start rule as given, at a time in ms), the state after every step and
//! the effects it asked for. No runtime, no clock: the machine is pure.

use std::time::{Duration, SystemTime};

use linesman_connection::StopCause;
use linesman_observer::{Backoff, GaveUp, Started, Stopped, Stopping, Waiting, What};
use tokio::time::Instant;

use super::*;
use crate::restart::{BackoffPolicy, Intensity, RestartMode, RestartPolicy};

/// One row: the input, the rule as it is then, the time (ms from the
/// start), and what must follow.
struct Row {
    at_ms: u64,
    input: Input,
    rule: RuleNow,
    /// The up generation of the rule's connections then (0 unless given
    /// with [`Row::generation`]).
    generation: u64,
    state: &'static str,
    effects: Vec<Effect>,
}

impl Row {
    /// The same row, seen with the rule's connections at up generation `g`.
    fn generation(mut self, g: u64) -> Row {
        self.generation = g;
        self
    }
}

fn row(at_ms: u64, input: Input, rule: RuleNow, state: &'static str, effects: Vec<Effect>) -> Row {
    Row {
        at_ms,
        input,
        rule,
        generation: 0,
        state,
        effects,
    }
}

const HOLDS: RuleNow = RuleNow::Holds;

fn on(names: &[&str]) -> RuleNow {
    RuleNow::WaitingOn(names.iter().map(|n| (*n).to_owned()).collect())
}

fn publish(what: impl Into<What>) -> Effect {
    Effect::Publish(what.into())
}

fn connect(attempt: u32) -> Effect {
    Effect::Connect { attempt }
}

fn waiting(names: &[&str]) -> Effect {
    publish(Waiting {
        on: names.iter().map(|n| (*n).to_owned()).collect(),
    })
}

fn stopped(reason: &str) -> Effect {
    publish(Stopped {
        reason: reason.to_owned(),
    })
}

fn ended(failure: bool, was_up: bool, uptime_ms: u64, reason: &str) -> Input {
    Input::SessionEnded(Box::new(Ended {
        closed: false,
        failure,
        was_up,
        uptime: Duration::from_millis(uptime_ms),
        reason: reason.to_owned(),
    }))
}

fn failed_connect() -> Input {
    ended(true, false, 0, "connect failed: connection refused")
}

/// A session that came up and dropped at once: a flap.
fn flap() -> Input {
    ended(true, true, 5, "peer closed the connection")
}

fn panicked(reason: &str) -> Input {
    Input::Panicked(Box::new(reason.to_owned()))
}

fn gave_up(reason: &str) -> Effect {
    publish(GaveUp {
        restarts: 0,
        window: Duration::ZERO,
        reason: Some(reason.to_owned()),
        last: None,
    })
}

/// The hold armed by a restart carried out at `at_ms`.
fn hold(at_ms: u64) -> Effect {
    Effect::HoldRestarts {
        until: instant(at_ms) + RESTART_HOLD,
    }
}

/// A backoff of `delay_ms` before `attempt`, decided at `at_ms`.
fn backoff(attempt: u32, at_ms: u64, delay_ms: u64) -> Vec<Effect> {
    let delay = Duration::from_millis(delay_ms);
    vec![
        publish(Backoff {
            attempt,
            delay,
            until: wall(at_ms) + delay,
        }),
        Effect::Sleep {
            until: instant(at_ms) + delay,
        },
    ]
}

fn base() -> Instant {
    use std::sync::OnceLock;
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn instant(ms: u64) -> Instant {
    base() + Duration::from_millis(ms)
}

fn wall(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

/// No jitter, so every delay is exact: 100 ms, 200 ms, 400 ms…
fn policy(mode: RestartMode) -> RestartPolicy {
    RestartPolicy::builder()
        .mode(mode)
        .backoff(BackoffPolicy::default().jitter(0.0))
        .intensity(
            Intensity::default()
                .max_restarts(3)
                .window(Duration::from_secs(60)),
        )
        .build()
        .expect("a valid policy")
}

fn describe(state: &State) -> String {
    match state {
        State::New => "new".into(),
        State::Waiting { attempt, on } => format!("waiting {attempt} [{}]", on.join(",")),
        State::Running(r) => {
            let mut s = format!("running {}", r.attempt);
            if r.restarting {
                s.push_str(" restarting");
            }
            if r.reconnect_when_back {
                s.push_str(" reconnect-when-back");
            }
            if let Some(intent) = &r.ending {
                s.push_str(match intent {
                    Intent::Shutdown => " ending shutdown",
                    Intent::Stop => " ending stop",
                    Intent::Restart => " ending restart",
                    Intent::DependencyDown => " ending dependency-down",
                    Intent::Reconnect => " ending reconnect",
                    Intent::Removed(Removal::Removed) => " ending removed",
                    Intent::Removed(Removal::Replaced) => " ending replaced",
                });
            }
            s
        }
        State::Backoff { attempt, .. } => format!("backoff {attempt}"),
        State::Stopped => "stopped".into(),
        State::Failed => "failed".into(),
        State::Done => "done".into(),
    }
}

fn check(name: &str, mode: RestartMode, on_down: OnDependencyDown, rows: Vec<Row>) {
    let tracker = RestartTracker::new(policy(mode), 7);
    let mut machine = Lifecycle::new(tracker, on_down);
    for (i, row) in rows.into_iter().enumerate() {
        let world = World {
            rule: row.rule,
            generation: row.generation,
            now: instant(row.at_ms),
            wall: wall(row.at_ms),
        };
        let input = format!("{:?}", row.input);
        let effects = machine.step(row.input, &world);
        assert_eq!(
            describe(machine.state()),
            row.state,
            "{name}, row {i} ({input}): state"
        );
        assert_eq!(effects, row.effects, "{name}, row {i} ({input}): effects");
    }
}

fn always(name: &str, rows: Vec<Row>) {
    check(name, RestartMode::Always, OnDependencyDown::Stop, rows);
}

#[test]
fn begin_connects_or_waits() {
    always(
        "no rule",
        vec![row(
            0,
            Input::Begin,
            HOLDS,
            "running 1",
            vec![publish(Started {}), connect(1)],
        )],
    );
    always(
        "a rule that does not hold, then holds",
        vec![
            row(
                0,
                Input::Begin,
                on(&["db"]),
                "waiting 1 [db]",
                vec![publish(Started {}), waiting(&["db"])],
            ),
            // The same wait is not published twice; a new one is.
            row(1, Input::Rules, on(&["db"]), "waiting 1 [db]", vec![]),
            row(
                2,
                Input::Rules,
                on(&["cache", "db"]),
                "waiting 1 [cache,db]",
                vec![waiting(&["cache", "db"])],
            ),
            row(3, Input::Rules, HOLDS, "running 1", vec![connect(1)]),
        ],
    );
    always(
        "shut down before it began",
        vec![row(
            0,
            Input::Shutdown,
            HOLDS,
            "done",
            vec![
                publish(Started {}),
                publish(Stopping {}),
                stopped("shutdown"),
            ],
        )],
    );
}

#[test]
fn failures_back_off_and_only_flaps_give_up() {
    always(
        "refused twice (never counted), then flapping past the intensity",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                failed_connect(),
                HOLDS,
                "backoff 2",
                backoff(2, 10, 100),
            ),
            row(
                110,
                Input::BackoffElapsed,
                HOLDS,
                "running 2",
                vec![connect(2)],
            ),
            row(
                120,
                failed_connect(),
                HOLDS,
                "backoff 3",
                backoff(3, 120, 200),
            ),
            row(
                320,
                Input::BackoffElapsed,
                HOLDS,
                "running 3",
                vec![connect(3)],
            ),
            row(325, Input::SessionUp, HOLDS, "running 3", vec![]),
            // The session came up: the refusals before it are forgotten,
            // so the first restart after it waits `initial` again.
            row(330, flap(), HOLDS, "backoff 2", backoff(2, 330, 100)),
            row(
                430,
                Input::BackoffElapsed,
                HOLDS,
                "running 2",
                vec![connect(2)],
            ),
            row(440, flap(), HOLDS, "backoff 3", backoff(3, 440, 200)),
            row(
                640,
                Input::BackoffElapsed,
                HOLDS,
                "running 3",
                vec![connect(3)],
            ),
            row(650, flap(), HOLDS, "backoff 4", backoff(4, 650, 400)),
            row(
                1050,
                Input::BackoffElapsed,
                HOLDS,
                "running 4",
                vec![connect(4)],
            ),
            row(
                1060,
                flap(),
                HOLDS,
                "failed",
                vec![publish(GaveUp {
                    restarts: 3,
                    window: Duration::from_secs(60),
                    reason: None,
                    last: Some("peer closed the connection".into()),
                })],
            ),
            // Only a command revives it; the rule alone does not.
            row(1100, Input::Rules, HOLDS, "failed", vec![]),
            row(
                1200,
                Input::Command(Command::Start),
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
        ],
    );
}

#[test]
fn a_backoff_waits_for_the_rule_when_it_is_over() {
    always(
        "the dependency went away during the backoff",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                failed_connect(),
                HOLDS,
                "backoff 2",
                backoff(2, 10, 100),
            ),
            row(50, Input::Rules, on(&["db"]), "backoff 2", vec![]),
            row(
                110,
                Input::BackoffElapsed,
                on(&["db"]),
                "waiting 2 [db]",
                vec![waiting(&["db"])],
            ),
            row(200, Input::Rules, HOLDS, "running 2", vec![connect(2)]),
        ],
    );
}

#[test]
fn restart_policies_decide_after_a_session_ends_by_itself() {
    check(
        "on-failure stops after a clean end",
        RestartMode::OnFailure,
        OnDependencyDown::Stop,
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(5, Input::SessionUp, HOLDS, "running 1", vec![]),
            row(
                50,
                ended(false, true, 45, "finished by the application"),
                HOLDS,
                "stopped",
                vec![stopped(
                    "restart policy on-failure does not restart after: finished by the application",
                )],
            ),
        ],
    );
    check(
        "on-failure restarts after a failure",
        RestartMode::OnFailure,
        OnDependencyDown::Stop,
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                50,
                ended(true, true, 45, "peer closed the connection"),
                HOLDS,
                "backoff 2",
                backoff(2, 50, 100),
            ),
        ],
    );
    check(
        "never stops after anything",
        RestartMode::Never,
        OnDependencyDown::Stop,
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                50,
                ended(true, false, 0, "connect failed: refused"),
                HOLDS,
                "stopped",
                vec![stopped(
                    "restart policy never does not restart after: connect failed: refused",
                )],
            ),
        ],
    );
    always(
        "a session closed from elsewhere stops, whatever the policy",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                50,
                Input::SessionEnded(Box::new(Ended {
                    closed: true,
                    failure: false,
                    was_up: true,
                    uptime: Duration::from_millis(40),
                    reason: "stopped on request".into(),
                })),
                HOLDS,
                "stopped",
                vec![stopped("stopped on request")],
            ),
        ],
    );
}

#[test]
fn commands_end_the_session_and_then_take_effect() {
    always(
        "stop, then start again",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Command(Command::Stop),
                HOLDS,
                "running 1 ending stop",
                vec![
                    publish(Stopping {}),
                    Effect::StopSession(StopCause::Requested),
                ],
            ),
            // A second stop is the same stop.
            row(
                11,
                Input::Command(Command::Stop),
                HOLDS,
                "running 1 ending stop",
                vec![],
            ),
            row(
                20,
                ended(false, true, 15, "stopped on request"),
                HOLDS,
                "stopped",
                vec![stopped("stopped by request")],
            ),
            row(
                30,
                Input::Command(Command::Start),
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
        ],
    );
    always(
        "a burst of restarts is one restart, then the hold gathers the rest",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(5, Input::SessionUp, HOLDS, "running 1", vec![]),
            row(
                10,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 ending restart",
                vec![hold(10), Effect::StopSession(StopCause::Restart)],
            ),
            row(
                11,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 ending restart",
                vec![],
            ),
            row(
                20,
                ended(false, true, 15, "stopped on request"),
                HOLDS,
                "running 1 restarting",
                vec![connect(1)],
            ),
            // Not up yet: the same restart.
            row(
                21,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 restarting",
                vec![],
            ),
            row(25, Input::SessionUp, HOLDS, "running 1", vec![]),
            // Up again, within the hold: held, and as many as come are one.
            row(
                30,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1",
                vec![],
            ),
            row(
                40,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1",
                vec![],
            ),
            row(
                1010,
                Input::HoldElapsed,
                HOLDS,
                "running 1 ending restart",
                vec![hold(1010), Effect::StopSession(StopCause::Restart)],
            ),
            // A hold with nothing held passes quietly.
            row(
                2010,
                Input::HoldElapsed,
                HOLDS,
                "running 1 ending restart",
                vec![],
            ),
        ],
    );
    always(
        "a stop drops a held restart",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(5, Input::SessionUp, HOLDS, "running 1", vec![]),
            row(
                10,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 ending restart",
                vec![hold(10), Effect::StopSession(StopCause::Restart)],
            ),
            row(
                20,
                ended(false, true, 15, "stopped on request"),
                HOLDS,
                "running 1 restarting",
                vec![connect(1)],
            ),
            row(25, Input::SessionUp, HOLDS, "running 1", vec![]),
            row(
                30,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1",
                vec![],
            ),
            row(
                40,
                Input::Command(Command::Stop),
                HOLDS,
                "running 1 ending stop",
                vec![
                    publish(Stopping {}),
                    Effect::StopSession(StopCause::Requested),
                ],
            ),
            row(
                1010,
                Input::HoldElapsed,
                HOLDS,
                "running 1 ending stop",
                vec![],
            ),
        ],
    );
    always(
        "restart skips a backoff; stop ends it",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                failed_connect(),
                HOLDS,
                "backoff 2",
                backoff(2, 10, 100),
            ),
            row(
                20,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 restarting",
                vec![hold(20), connect(1)],
            ),
            row(
                30,
                failed_connect(),
                HOLDS,
                "backoff 2",
                backoff(2, 30, 100),
            ),
            row(
                40,
                Input::Command(Command::Stop),
                HOLDS,
                "stopped",
                vec![stopped("stopped by request")],
            ),
            // A stale timer of the old backoff changes nothing.
            row(130, Input::BackoffElapsed, HOLDS, "stopped", vec![]),
        ],
    );
    always(
        "stop then start while the session ends: it comes back",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Command(Command::Stop),
                HOLDS,
                "running 1 ending stop",
                vec![
                    publish(Stopping {}),
                    Effect::StopSession(StopCause::Requested),
                ],
            ),
            row(
                11,
                Input::Command(Command::Start),
                HOLDS,
                "running 1 ending restart",
                vec![],
            ),
            row(
                20,
                ended(false, true, 15, "stopped on request"),
                HOLDS,
                "running 1 restarting",
                vec![connect(1)],
            ),
        ],
    );
    always(
        "a failed connection stopped by request says so",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                1,
                panicked("supervisor task panicked: boom"),
                HOLDS,
                "failed",
                vec![gave_up("supervisor task panicked: boom")],
            ),
            row(
                2,
                Input::Command(Command::Stop),
                HOLDS,
                "stopped",
                vec![stopped("stopped by request")],
            ),
        ],
    );
}

#[test]
fn shutdown_ends_every_state() {
    always(
        "while up, in time",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Shutdown,
                HOLDS,
                "running 1 ending shutdown",
                vec![
                    publish(Stopping {}),
                    Effect::StopSession(StopCause::Shutdown),
                ],
            ),
            // Nothing overrides a shutdown.
            row(
                11,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 ending shutdown",
                vec![],
            ),
            row(
                20,
                ended(false, true, 15, "stopped on request"),
                HOLDS,
                "done",
                vec![stopped("shutdown")],
            ),
        ],
    );
    always(
        "while up, too slow",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Shutdown,
                HOLDS,
                "running 1 ending shutdown",
                vec![
                    publish(Stopping {}),
                    Effect::StopSession(StopCause::Shutdown),
                ],
            ),
            row(
                5010,
                Input::DeadlinePassed {
                    after: Duration::from_secs(5),
                },
                HOLDS,
                "done",
                vec![Effect::DropSession, stopped("shutdown (forced after 5s)")],
            ),
        ],
    );
    always(
        "a restart in flight becomes the shutdown",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(5, Input::SessionUp, HOLDS, "running 1", vec![]),
            row(
                10,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 ending restart",
                vec![hold(10), Effect::StopSession(StopCause::Restart)],
            ),
            row(
                11,
                Input::Shutdown,
                HOLDS,
                "running 1 ending shutdown",
                vec![publish(Stopping {})],
            ),
            row(
                20,
                ended(false, true, 15, "stopped on request"),
                HOLDS,
                "done",
                vec![stopped("shutdown")],
            ),
        ],
    );
    always(
        "in backoff and waiting",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                failed_connect(),
                HOLDS,
                "backoff 2",
                backoff(2, 10, 100),
            ),
            row(
                20,
                Input::Shutdown,
                HOLDS,
                "done",
                vec![publish(Stopping {}), stopped("shutdown")],
            ),
        ],
    );
    always(
        "a failed connection stays failed",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                1,
                panicked("supervisor task panicked: boom"),
                HOLDS,
                "failed",
                vec![gave_up("supervisor task panicked: boom")],
            ),
            row(2, Input::Shutdown, HOLDS, "done", vec![]),
            // Done is done.
            row(3, Input::Command(Command::Start), HOLDS, "done", vec![]),
        ],
    );
}

#[test]
fn a_reload_ends_every_state_saying_why() {
    always(
        "while up: the session is told, nothing overrides it",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Remove(Removal::Removed),
                HOLDS,
                "running 1 ending removed",
                vec![
                    publish(Stopping {}),
                    Effect::StopSession(StopCause::Removed),
                ],
            ),
            row(
                11,
                Input::Command(Command::Restart),
                HOLDS,
                "running 1 ending removed",
                vec![],
            ),
            row(
                12,
                Input::Shutdown,
                HOLDS,
                "running 1 ending removed",
                vec![],
            ),
            row(
                20,
                ended(false, true, 15, "removed by reload"),
                HOLDS,
                "done",
                vec![stopped("removed by reload")],
            ),
        ],
    );
    always(
        "a changed connection, too slow",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Remove(Removal::Replaced),
                HOLDS,
                "running 1 ending replaced",
                vec![
                    publish(Stopping {}),
                    Effect::StopSession(StopCause::Reconfigured),
                ],
            ),
            row(
                5010,
                Input::DeadlinePassed {
                    after: Duration::from_secs(5),
                },
                HOLDS,
                "done",
                vec![
                    Effect::DropSession,
                    stopped("settings changed by reload (forced after 5s)"),
                ],
            ),
        ],
    );
    always(
        "in backoff",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                failed_connect(),
                HOLDS,
                "backoff 2",
                backoff(2, 10, 100),
            ),
            row(
                20,
                Input::Remove(Removal::Removed),
                HOLDS,
                "done",
                vec![publish(Stopping {}), stopped("removed by reload")],
            ),
        ],
    );
    always(
        "waiting",
        vec![
            row(
                0,
                Input::Begin,
                on(&["db"]),
                "waiting 1 [db]",
                vec![publish(Started {}), waiting(&["db"])],
            ),
            row(
                5,
                Input::Remove(Removal::Replaced),
                on(&["db"]),
                "done",
                vec![publish(Stopping {}), stopped("settings changed by reload")],
            ),
        ],
    );
    always(
        "stopped: it says it was removed",
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                1,
                panicked("supervisor task panicked: boom"),
                HOLDS,
                "failed",
                vec![gave_up("supervisor task panicked: boom")],
            ),
            row(
                2,
                Input::Remove(Removal::Removed),
                HOLDS,
                "done",
                vec![stopped("removed by reload")],
            ),
        ],
    );
}

#[test]
fn dependency_down_under_each_policy() {
    check(
        "stop: end the session and wait for the rule",
        RestartMode::Always,
        OnDependencyDown::Stop,
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Rules,
                on(&["db"]),
                "running 1 ending dependency-down",
                vec![Effect::StopSession(StopCause::DependencyDown {
                    on: vec!["db".into()],
                })],
            ),
            row(
                20,
                ended(false, true, 15, "stopped on request"),
                on(&["db"]),
                "waiting 1 [db]",
                vec![waiting(&["db"])],
            ),
            row(30, Input::Rules, HOLDS, "running 1", vec![connect(1)]),
        ],
    );
    check(
        "keep: stay connected",
        RestartMode::Always,
        OnDependencyDown::Keep,
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(10, Input::Rules, on(&["db"]), "running 1", vec![]),
            row(20, Input::Rules, HOLDS, "running 1", vec![]),
        ],
    );
    check(
        "restart: stay connected, reconnect once it is back",
        RestartMode::Always,
        OnDependencyDown::Restart,
        vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            ),
            row(
                10,
                Input::Rules,
                on(&["db"]),
                "running 1 reconnect-when-back",
                vec![],
            ),
            row(
                20,
                Input::Rules,
                HOLDS,
                "running 1 reconnect-when-back ending reconnect",
                vec![Effect::StopSession(StopCause::DependencyBack)],
            ),
            row(
                30,
                ended(false, true, 25, "stopped on request"),
                HOLDS,
                "running 1",
                vec![connect(1)],
            ),
        ],
    );
}

#[test]
fn a_bounce_missed_as_a_state_is_seen_as_a_new_generation() {
    // The upstream went down and came up again before the task looked: the
    // rule holds at every look, but the up generation moved from 1 to 2.
    for (on_down, acts) in [
        (OnDependencyDown::Stop, true),
        (OnDependencyDown::Restart, true),
        (OnDependencyDown::Keep, false),
    ] {
        let (state, effects) = if acts {
            (
                "running 1 ending reconnect",
                vec![Effect::StopSession(StopCause::DependencyBack)],
            )
        } else {
            ("running 1", vec![])
        };
        let mut rows = vec![
            row(
                0,
                Input::Begin,
                HOLDS,
                "running 1",
                vec![publish(Started {}), connect(1)],
            )
            .generation(1),
            // The same generation: nothing happened upstream.
            row(5, Input::Rules, HOLDS, "running 1", vec![]).generation(1),
            row(10, Input::Rules, HOLDS, state, effects).generation(2),
        ];
        if acts {
            rows.extend([
                // Further news while ending changes nothing.
                row(15, Input::Rules, HOLDS, state, vec![]).generation(3),
                // The new session sees the generation as it is then, and
                // is not ended again for the bounce it follows.
                row(
                    20,
                    ended(false, true, 15, "stopped on request"),
                    HOLDS,
                    "running 1",
                    vec![connect(1)],
                )
                .generation(3),
                row(25, Input::Rules, HOLDS, "running 1", vec![]).generation(3),
            ]);
        } else {
            rows.push(row(15, Input::Rules, HOLDS, "running 1", vec![]).generation(3));
        }
        check(
            &format!("on_dependency_down: {on_down}"),
            RestartMode::Always,
            on_down,
            rows,
        );
    }
    check(
        "a connection that waited connects at the generation it saw",
        RestartMode::Always,
        OnDependencyDown::Stop,
        vec![
            row(
                0,
                Input::Begin,
                on(&["db"]),
                "waiting 1 [db]",
                vec![publish(Started {}), waiting(&["db"])],
            ),
            row(5, Input::Rules, HOLDS, "running 1", vec![connect(1)]).generation(4),
            row(10, Input::Rules, HOLDS, "running 1", vec![]).generation(4),
        ],
    );
}

#[test]
fn phases_follow_the_state() {
    let tracker = RestartTracker::new(policy(RestartMode::Always), 7);
    let mut machine = Lifecycle::new(tracker, OnDependencyDown::Stop);
    let world = |rule| World {
        rule,
        generation: 0,
        now: instant(0),
        wall: wall(0),
    };
    assert_eq!(machine.phase(), Phase::Active);
    machine.step(Input::Begin, &world(on(&["db"])));
    assert_eq!(machine.phase(), Phase::Waiting);
    machine.step(Input::Command(Command::Stop), &world(on(&["db"])));
    assert_eq!(machine.phase(), Phase::Terminal);
}
