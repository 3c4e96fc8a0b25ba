//! The status table: NAME STATE SINCE ENDPOINT RESTARTS FAILURES DETAIL
//! (restarts after a session that was up; connect attempts that failed),
//! drawn with
//! comfy-table without borders (columns two spaces apart, like `kubectl`),
//! with the state coloured when the output is a terminal.
//!
//! Every row is one line: control characters in a cell become spaces, and
//! when a width is given (see `fit.rs`) DETAIL and ENDPOINT are cut with
//! `…` — the wider of the two first — down to [`MIN_CUT`] characters each,
//! then NAME; what still does not fit runs past the width rather than wrap.

use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table};
use linesman_control::State;

use crate::view::detail::detail;
use crate::view::fit::{cut_end, cut_middle, one_line, width};
use crate::view::model::Model;
use crate::view::time::age;

/// The column headers, in order.
pub(crate) const HEADERS: [&str; COLUMNS] = [
    "NAME", "STATE", "SINCE", "ENDPOINT", "RESTARTS", "FAILURES", "DETAIL",
];

/// How many columns there are.
const COLUMNS: usize = 7;

/// The columns that are cut first, and NAME, cut last.
const ENDPOINT: usize = 3;
const DETAIL: usize = 6;
/// The columns of numbers, aligned right.
const NUMBERS: [usize; 2] = [4, 5];
const NAME: usize = 0;

/// The fewest characters a cut ENDPOINT, DETAIL or NAME keeps.
pub(crate) const MIN_CUT: usize = 10;

/// The spaces between two columns.
const GAP: usize = 2;

/// How the table is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Look {
    /// Colour STATE (stdout is a terminal).
    pub(crate) colour: bool,
    /// The width to fit each line to (`None`: no limit, `-o wide`).
    pub(crate) width: Option<usize>,
}

/// Draws `model` at `now_ms` as `look` says.
pub(crate) fn render(model: &Model, now_ms: u64, look: Look) -> String {
    let mut rows: Vec<[String; COLUMNS]> = model
        .rows
        .iter()
        .map(|row| {
            let detail = detail(row, model, now_ms);
            [
                one_line(&row.name),
                row.state.to_string(),
                age(now_ms.saturating_sub(row.since_ms)),
                one_line(if row.endpoint.is_empty() {
                    "-"
                } else {
                    &row.endpoint
                }),
                row.restarts.to_string(),
                row.connect_failures.to_string(),
                one_line(if detail.is_empty() { "-" } else { &detail }),
            ]
        })
        .collect();
    if let Some(limit) = look.width {
        fit(&mut rows, limit);
    }

    let mut table = Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header(HEADERS);
    table.set_content_arrangement(ContentArrangement::Disabled);
    if look.colour {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for (row, cells) in model.rows.iter().zip(rows) {
        let mut cells = cells.map(Cell::new);
        if look.colour {
            cells[1] = Cell::new(row.state).fg(state_color(row.state));
        }
        table.add_row(cells);
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, GAP as u16));
        if NUMBERS.contains(&index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
    let mut text = String::new();
    for line in table.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Cuts the cells of `rows` so that each line is at most `limit`
/// characters, as far as [`MIN_CUT`] allows.
fn fit(rows: &mut [[String; COLUMNS]], limit: usize) {
    let mut widths: [usize; COLUMNS] = HEADERS.map(width);
    for row in rows.iter() {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let total = |widths: &[usize; COLUMNS]| widths.iter().sum::<usize>() + GAP * (widths.len() - 1);
    let mut excess = total(&widths).saturating_sub(limit);
    // Take from the wider of DETAIL and ENDPOINT, a character at a time, so
    // that both keep as much as they can.
    while excess > 0 {
        let widest = [DETAIL, ENDPOINT]
            .into_iter()
            .filter(|&c| widths[c] > MIN_CUT.max(width(HEADERS[c])))
            .max_by_key(|&c| widths[c]);
        let Some(column) = widest else { break };
        widths[column] -= 1;
        excess -= 1;
    }
    let name_floor = MIN_CUT.max(width(HEADERS[NAME]));
    let from_name = excess.min(widths[NAME].saturating_sub(name_floor));
    widths[NAME] -= from_name;
    for row in rows.iter_mut() {
        row[NAME] = cut_end(&row[NAME], widths[NAME]);
        row[ENDPOINT] = cut_middle(&row[ENDPOINT], widths[ENDPOINT]);
        row[DETAIL] = cut_end(&row[DETAIL], widths[DETAIL]);
    }
}

fn state_color(state: State) -> Color {
    match state {
        State::Up => Color::Green,
        State::Connecting | State::Waiting => Color::Yellow,
        State::Backoff => Color::DarkYellow,
        State::Failed => Color::Red,
        State::Stopped => Color::Grey,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::model::tests::status;
    use linesman_control::StatusResponse;

    fn two() -> Model {
        let mut quotes = status("quotes", State::Up);
        quotes.detail = "connected to 127.0.0.1:76".to_owned();
        let mut hw = status("hw-programmer", State::Waiting);
        hw.waiting_on = vec!["quotes".to_owned()];
        hw.restarts = 12;
        hw.connect_failures = 3;
        Model::from_status(
            &StatusResponse {
                connections: vec![quotes, hw],
            },
            50_000,
        )
    }

    #[test]
    fn the_table_has_aligned_columns_and_no_borders() {
        insta::assert_snapshot!(render(&two(), 52_500, Look::default()), @r"
        NAME           STATE    SINCE  ENDPOINT             RESTARTS  FAILURES  DETAIL
        quotes         up       3.5s   tcp://127.0.0.1:76          2         0  connected to 127.0.0.1:76
        hw-programmer  waiting  3.5s   tcp://127.0.0.1:713        12         3  waiting on quotes (up)
        ");
    }

    #[test]
    fn a_narrow_width_cuts_detail_and_endpoint_to_one_line_each() {
        let mut model = two();
        model.rows[0].endpoint = format!("unix:///{}/quotes.sock", "d".repeat(80));
        model.rows[1].note = "line one\nline two".to_owned();
        model.rows[1].waiting_on.clear();
        let look = Look {
            colour: false,
            width: Some(80),
        };
        let text = render(&model, 52_500, look);
        insta::assert_snapshot!(text, @r"
        NAME           STATE    SINCE  ENDPOINT       RESTARTS  FAILURES  DETAIL
        quotes         up       3.5s   unix:/…s.sock         2         0  connected to …
        hw-programmer  waiting  3.5s   tcp://….1:713        12         3  line one line…
        ");
        for line in text.lines() {
            assert!(width(line) <= 80, "{line:?} is wider than 80");
        }
        assert_eq!(text.lines().count(), 3, "a header and one line a row");
    }

    #[test]
    fn what_cannot_be_cut_further_runs_past_the_width() {
        let look = Look {
            colour: false,
            width: Some(20),
        };
        let text = render(&two(), 52_500, look);
        assert_eq!(text.lines().count(), 3, "never wrapped");
        assert!(text.contains("hw-progra…"), "NAME cut last: {text}");
    }
}
