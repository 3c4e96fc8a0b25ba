//! `linesman-bench curve`: the scale curve — a supervisor of 1k, 5k, 10k
//! and 19k connections (the per-process descriptor limit here is 20,000),
//! each to a testkit echo peer in a child process.
//!
//! Per size, in a fresh child process of its own (this executable, re-run
//! as the scale child `curve`, so no size reuses another's freed memory):
//! the time until all are up, resident memory per connection and the
//! median `snapshot()` time, measured as `scale` measures them. Then the
//! real daemon: the release `linesman` binary (`LINESMAN_BIN`, else the
//! one beside this executable) runs a generated YAML of the same size
//! against a fresh peer child; once `linesman status` says all are up, the
//! time of a whole `linesman status -o json` (process start, control
//! request, JSON out) is the median of [`daemon::STATUS_RUNS`], and the
//! daemon's whole resident memory is divided by the size.
//!
//! Case names end in the size: `1k`, `5k`, `10k`, `19k`. There is no
//! same-run baseline: what the curve shows is whether the cost per
//! connection stays flat from one size to the next.

mod daemon;

use anyhow::Context;

use crate::report::{Better, Measurement};

const BENCH: &str = "curve";
/// The sizes of the curve, with the label their case names end in.
const SIZES: &[(usize, &str)] = &[
    (1_000, "1k"),
    (5_000, "5k"),
    (10_000, "10k"),
    (19_000, "19k"),
];
/// The size a `curve` child measures.
const SIZE_ENV: &str = "LINESMAN_BENCH_CURVE_SIZE";
/// Connections per peer (per destination address and port); see
/// [`PER_PEER`].
const PER_PEER_ENV: &str = "LINESMAN_BENCH_CURVE_PER_PEER";
/// At most this many connections go to one peer: Linux's `connect()` picks
/// a source port trying the even ports of `ip_local_port_range` first
/// (14,116 of 32768–60999 here), and once one destination has used them
/// all every further connect to it scans them before an odd one is found —
/// a cost per connect that grows with the count (one destination: 12k up
/// in 0.7 s, 15k in 2.8 s, 19k in 6–8 s). Real fleets connect to many
/// peers; the curve measures linesman, not that scan.
const PER_PEER: usize = 10_000;

/// How many peers `count` connections are spread over.
fn peers_for(count: usize) -> anyhow::Result<usize> {
    let per_peer = match std::env::var(PER_PEER_ENV) {
        Ok(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("{PER_PEER_ENV}={n} is not a positive number"))?,
        Err(_) => PER_PEER,
    };
    Ok(count.div_ceil(per_peer))
}

/// `19k` for 19,000; the plain number when it is not whole thousands.
fn label(count: usize) -> String {
    if count.is_multiple_of(1000) {
        format!("{}k", count / 1000)
    } else {
        count.to_string()
    }
}

/// Runs every size; a size that fails is reported on stderr and left out.
pub(crate) fn run() -> Vec<Measurement> {
    let binary = match daemon::binary() {
        Ok(binary) => Some(binary),
        Err(error) => {
            eprintln!("curve: {error:#}");
            None
        }
    };
    let mut out = Vec::new();
    for &(count, label) in SIZES {
        match in_child(count) {
            Ok(figures) => out.extend(figures),
            Err(error) => eprintln!("curve {label}: {error:#}"),
        }
        let Some(binary) = &binary else { continue };
        let measured = peers_for(count).and_then(|peers| daemon::measure(binary, count, peers));
        match measured {
            Ok(figures) => {
                out.push(figure(
                    &format!("status -o json {label}"),
                    "ms",
                    figures.status_ms,
                ));
                out.push(figure(
                    &format!("daemon rss per connection {label}"),
                    "bytes",
                    figures.rss_per_conn,
                ));
            }
            Err(error) => eprintln!("curve {label} daemon: {error:#}"),
        }
    }
    out
}

/// The `curve` child's part: one size, in this (fresh) process.
pub(crate) fn point() -> anyhow::Result<Vec<Measurement>> {
    let count: usize = std::env::var(SIZE_ENV)
        .context("no curve size given")?
        .parse()
        .context("the curve size is not a number")?;
    let label = label(count);
    let (all_up_ms, rss_per_conn, snapshot_ms) = crate::scale::supervise(count, peers_for(count)?)?;
    Ok(vec![
        figure(&format!("all up {label}"), "ms", all_up_ms),
        figure(
            &format!("rss per connection {label}"),
            "bytes",
            rss_per_conn,
        ),
        figure(&format!("snapshot {label}"), "ms", snapshot_ms),
    ])
}

fn in_child(count: usize) -> anyhow::Result<Vec<Measurement>> {
    let output = crate::scale::child_command("curve")?
        .env(SIZE_ENV, count.to_string())
        .output()
        .context("cannot run the curve child")?;
    anyhow::ensure!(
        output.status.success(),
        "the curve child failed: {}",
        output.status
    );
    let mut out = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).context("the curve child printed no JSON")?;
        let (Some(case), Some(linesman)) = (value["case"].as_str(), value["linesman"].as_f64())
        else {
            anyhow::bail!("the curve child printed {line}, not a figure");
        };
        let unit = if value["unit"] == "bytes" {
            "bytes"
        } else {
            "ms"
        };
        out.push(figure(case, unit, linesman));
    }
    anyhow::ensure!(
        out.len() == 3,
        "the curve child gave {} figures, not 3",
        out.len()
    );
    Ok(out)
}

fn figure(case: &str, unit: &'static str, linesman: f64) -> Measurement {
    Measurement {
        bench: BENCH,
        case: case.to_owned(),
        unit,
        linesman,
        baseline: None,
        better: Better::Lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_thousands_when_whole() {
        assert_eq!(label(19_000), "19k");
        assert_eq!(label(1_000), "1k");
        assert_eq!(label(1_500), "1500");
    }

    #[test]
    fn every_size_has_its_label_and_a_peer_per_ten_thousand() {
        for &(count, name) in SIZES {
            assert_eq!(label(count), name);
        }
        if std::env::var_os(PER_PEER_ENV).is_none() {
            assert_eq!(peers_for(1_000).ok(), Some(1));
            assert_eq!(peers_for(10_000).ok(), Some(1));
            assert_eq!(peers_for(19_000).ok(), Some(2));
        }
    }
}
