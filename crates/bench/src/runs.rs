//! `--runs N`: the selected benchmarks run N times; per case, the median of
//! each figure and of the ratio, and the spread (min–max) over the runs.
//!
//! A single run on a shared machine moves ratios by 30 % or more; the
//! median of at least 5 with its spread is what docs/benchmarks.md records.

use std::io::{self, Write};

use serde::Serialize;

use crate::report::{Better, Measurement, column_widths, format_figure};

/// One case over every run: medians and spread.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Summary {
    /// The benchmark, e.g. `e2e`.
    pub(crate) bench: &'static str,
    /// The case, e.g. `frames 64 B`.
    pub(crate) case: String,
    /// The unit of both figures.
    pub(crate) unit: &'static str,
    /// How many runs produced this case.
    pub(crate) runs: usize,
    /// Median of linesman's figure.
    pub(crate) linesman: f64,
    /// Median of the baseline's figure, when there is one.
    pub(crate) baseline: Option<f64>,
    /// Median of the per-run ratios (linesman / baseline), when there is a baseline.
    pub(crate) ratio: Option<f64>,
    /// Smallest and largest of what the spread is taken of: the per-run
    /// ratios when there is a baseline, else linesman's figures.
    pub(crate) min: f64,
    /// See [`Summary::min`].
    pub(crate) max: f64,
    /// Which direction is better.
    pub(crate) better: Better,
}

/// The median of `values` (the mean of the middle two for an even count);
/// `None` for none.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Groups the measurements of every run by benchmark and case (in the order
/// cases first appear) and summarizes each group.
pub(crate) fn summarize(runs: &[Vec<Measurement>]) -> Vec<Summary> {
    let mut groups: Vec<Vec<&Measurement>> = Vec::new();
    for m in runs.iter().flatten() {
        match groups
            .iter_mut()
            .find(|g| g[0].bench == m.bench && g[0].case == m.case)
        {
            Some(group) => group.push(m),
            None => groups.push(vec![m]),
        }
    }
    groups
        .into_iter()
        .filter_map(|group| {
            let first = group[0];
            let linesman: Vec<f64> = group.iter().map(|m| m.linesman).collect();
            let baselines: Vec<f64> = group.iter().filter_map(|m| m.baseline).collect();
            let ratios: Vec<f64> = group.iter().filter_map(|m| m.ratio()).collect();
            let spread_of = if ratios.is_empty() {
                &linesman
            } else {
                &ratios
            };
            let min = spread_of.iter().copied().fold(f64::INFINITY, f64::min);
            let max = spread_of.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Some(Summary {
                bench: first.bench,
                case: first.case.clone(),
                unit: first.unit,
                runs: group.len(),
                linesman: median(&linesman)?,
                baseline: median(&baselines),
                ratio: median(&ratios),
                min,
                max,
                better: first.better,
            })
        })
        .collect()
}

/// One JSON object per case.
pub(crate) fn write_json(out: &mut impl Write, summaries: &[Summary]) -> io::Result<()> {
    for s in summaries {
        serde_json::to_writer(&mut *out, s)?;
        writeln!(out)?;
    }
    Ok(())
}

/// A table: case, median figures, median ratio, the spread (of the ratio,
/// or of linesman's figure when there is no baseline) and the run count.
pub(crate) fn write_table(out: &mut impl Write, summaries: &[Summary]) -> io::Result<()> {
    let (case_width, unit_width) =
        column_widths(summaries.iter().map(|s| (s.bench, s.case.as_str(), s.unit)));
    writeln!(
        out,
        "{:<case_width$}  {:>14}  {:>14}  {:<unit_width$}  {:>7}  {:>21}  runs  better",
        "case (medians)", "linesman", "baseline", "unit", "ratio", "spread (min-max)"
    )?;
    for s in summaries {
        let baseline = s.baseline.map_or_else(|| "-".to_owned(), format_figure);
        let (ratio, spread) = match s.ratio {
            Some(r) => (format!("{r:.2}x"), format!("{:.2}x-{:.2}x", s.min, s.max)),
            None => (
                "-".to_owned(),
                format!("{}-{}", format_figure(s.min), format_figure(s.max)),
            ),
        };
        writeln!(
            out,
            "{:<case_width$}  {:>14}  {:>14}  {:<unit_width$}  {:>7}  {:>21}  {:>4}  {}",
            format!("{} {}", s.bench, s.case),
            format_figure(s.linesman),
            baseline,
            s.unit,
            ratio,
            spread,
            s.runs,
            s.better.word(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(case: &str, linesman: f64, baseline: Option<f64>) -> Measurement {
        Measurement {
            bench: "e2e",
            case: case.to_owned(),
            unit: "frames/s",
            linesman,
            baseline,
            better: Better::Higher,
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
    }

    #[test]
    fn the_median_ratio_is_of_per_run_ratios_with_their_spread() {
        // Ratios 2.0, 0.5, 1.0: median 1.0, spread 0.5-2.0; the median of
        // the figures alone (200/200) would hide nothing here but is kept.
        let runs = vec![
            vec![m("a", 200.0, Some(100.0)), m("b", 7.0, None)],
            vec![m("a", 100.0, Some(200.0)), m("b", 5.0, None)],
            vec![m("a", 150.0, Some(150.0)), m("b", 6.0, None)],
        ];
        let summaries = summarize(&runs);
        assert_eq!(summaries.len(), 2);
        let a = &summaries[0];
        assert_eq!((a.case.as_str(), a.runs), ("a", 3));
        assert_eq!(a.ratio, Some(1.0));
        assert_eq!((a.min, a.max), (0.5, 2.0));
        assert_eq!((a.linesman, a.baseline), (150.0, Some(150.0)));
        let b = &summaries[1];
        assert_eq!((b.ratio, b.baseline), (None, None));
        assert_eq!((b.linesman, b.min, b.max), (6.0, 5.0, 7.0));
    }

    #[test]
    fn a_case_missing_from_a_run_counts_the_runs_it_has() {
        let runs = vec![vec![m("a", 1.0, None)], vec![], vec![m("a", 3.0, None)]];
        let summaries = summarize(&runs);
        assert_eq!(summaries[0].runs, 2);
        assert_eq!(summaries[0].linesman, 2.0);
    }

    #[test]
    fn table_and_json_show_the_spread() {
        let runs = vec![
            vec![m("a", 200.0, Some(100.0))],
            vec![m("a", 100.0, Some(100.0))],
        ];
        let summaries = summarize(&runs);
        let mut table = Vec::new();
        write_table(&mut table, &summaries).expect("writing to a Vec cannot fail");
        let table = String::from_utf8(table).expect("UTF-8");
        assert!(table.contains("1.50x"), "{table}");
        assert!(table.contains("1.00x-2.00x"), "{table}");
        let mut json = Vec::new();
        write_json(&mut json, &summaries).expect("writing to a Vec cannot fail");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
        assert_eq!(value["runs"], 2);
        assert_eq!(value["ratio"], 1.5);
        assert_eq!(value["min"], 1.0);
        assert_eq!(value["max"], 2.0);
    }
}
