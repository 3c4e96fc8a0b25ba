//! One measured figure beside its baseline, and the two ways of printing a
//! list of them: a human table with the ratio, and one JSON object per line.
//!
//! Every benchmark of `linesman-bench` reports through this module, so all of
//! them share the same JSON form:
//! `{"bench":"codec","case":"decode 64 B","unit":"frames/s","linesman":…,"baseline":…,"better":"higher"}`.

use serde::Serialize;
use std::io::{self, Write};

/// Which direction of a figure is the good one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Better {
    /// More is better (throughput).
    Higher,
    /// Less is better (latency, memory).
    Lower,
}

impl Better {
    /// The table's word for it.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
        }
    }
}

/// The widths of the case column (`bench case`) and of the unit column of
/// a table of `rows`, each (bench, case, unit); at least 4 each.
pub(crate) fn column_widths<'a>(
    rows: impl Iterator<Item = (&'a str, &'a str, &'a str)> + Clone,
) -> (usize, usize) {
    let widest = |width: fn(&(&str, &str, &str)) -> usize| {
        rows.clone().map(|r| width(&r)).max().unwrap_or(4).max(4)
    };
    (
        widest(|(bench, case, _)| bench.len() + 1 + case.len()),
        widest(|(_, _, unit)| unit.len()),
    )
}

/// One figure of one benchmark case, with the same-run baseline when there is one.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Measurement {
    /// The benchmark (subcommand) this figure belongs to, e.g. `codec`.
    pub(crate) bench: &'static str,
    /// What the figure measures, e.g. `decode 64 B`.
    pub(crate) case: String,
    /// The unit of both figures, e.g. `frames/s`, `ms`, `us`, `bytes`.
    pub(crate) unit: &'static str,
    /// linesman's figure.
    pub(crate) linesman: f64,
    /// The plain tokio/tokio-util figure measured in the same run, if any.
    pub(crate) baseline: Option<f64>,
    /// Which direction is better.
    pub(crate) better: Better,
}

impl Measurement {
    /// linesman's figure divided by the baseline's, when there is a baseline.
    pub(crate) fn ratio(&self) -> Option<f64> {
        self.baseline
            .filter(|b| *b != 0.0)
            .map(|baseline| self.linesman / baseline)
    }
}

/// Writes one JSON object per line.
pub(crate) fn write_json(out: &mut impl Write, measurements: &[Measurement]) -> io::Result<()> {
    for m in measurements {
        serde_json::to_writer(&mut *out, m)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Writes a table: case, linesman, baseline, unit, ratio (linesman / baseline)
/// and which direction is better.
pub(crate) fn write_table(out: &mut impl Write, measurements: &[Measurement]) -> io::Result<()> {
    let (case_width, unit_width) = column_widths(
        measurements
            .iter()
            .map(|m| (m.bench, m.case.as_str(), m.unit)),
    );
    writeln!(
        out,
        "{:<case_width$}  {:>14}  {:>14}  {:<unit_width$}  {:>7}  better",
        "case", "linesman", "baseline", "unit", "ratio"
    )?;
    for m in measurements {
        let baseline = m.baseline.map_or_else(|| "-".to_owned(), format_figure);
        let ratio = m
            .ratio()
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"));
        writeln!(
            out,
            "{:<case_width$}  {:>14}  {:>14}  {:<unit_width$}  {:>7}  {}",
            format!("{} {}", m.bench, m.case),
            format_figure(m.linesman),
            baseline,
            m.unit,
            ratio,
            m.better.word(),
        )?;
    }
    Ok(())
}

/// A figure as the tables print it: whole from 100 up, else 3 decimals.
pub(crate) fn format_figure(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Measurement {
        Measurement {
            bench: "codec",
            case: "decode 64 B".to_owned(),
            unit: "frames/s",
            linesman: 200.0,
            baseline: Some(100.0),
            better: Better::Higher,
        }
    }

    #[test]
    fn json_has_the_documented_keys() {
        let mut out = Vec::new();
        write_json(&mut out, &[sample()]).expect("writing to a Vec cannot fail");
        let line = String::from_utf8(out).expect("JSON is UTF-8");
        let value: serde_json::Value = serde_json::from_str(line.trim()).expect("valid JSON");
        assert_eq!(value["bench"], "codec");
        assert_eq!(value["case"], "decode 64 B");
        assert_eq!(value["unit"], "frames/s");
        assert_eq!(value["linesman"], 200.0);
        assert_eq!(value["baseline"], 100.0);
        assert_eq!(value["better"], "higher");
    }

    #[test]
    fn missing_baseline_is_null_and_has_no_ratio() {
        let m = Measurement {
            baseline: None,
            ..sample()
        };
        assert_eq!(m.ratio(), None);
        let mut out = Vec::new();
        write_json(&mut out, &[m]).expect("writing to a Vec cannot fail");
        let value: serde_json::Value =
            serde_json::from_slice(&out).expect("one JSON object is valid JSON");
        assert!(value["baseline"].is_null());
    }

    #[test]
    fn table_shows_the_ratio() {
        let mut out = Vec::new();
        write_table(&mut out, &[sample()]).expect("writing to a Vec cannot fail");
        let table = String::from_utf8(out).expect("table is UTF-8");
        assert!(table.contains("2.00x"), "{table}");
        assert!(table.contains("codec decode 64 B"), "{table}");
    }
}
