//! The status table: NAME STATE SINCE ENDPOINT RESTARTS DETAIL, drawn with
//! comfy-table without borders (columns two spaces apart, like `kubectl`),
//! with the state coloured when the output is a terminal.

use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table};
use linesman_control::State;

use crate::view::detail::detail;
use crate::view::model::Model;
use crate::view::time::age;

/// The column headers, in order.
pub(crate) const HEADERS: [&str; 6] = ["NAME", "STATE", "SINCE", "ENDPOINT", "RESTARTS", "DETAIL"];

/// Draws `model` at `now_ms`; `terminal` colours STATE and wraps DETAIL
/// to the terminal's width.
pub(crate) fn render(model: &Model, now_ms: u64, terminal: bool) -> String {
    let mut table = Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header(HEADERS);
    if terminal {
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .enforce_styling();
    } else {
        table
            .set_content_arrangement(ContentArrangement::Disabled)
            .force_no_tty();
    }
    for row in &model.rows {
        let mut state = Cell::new(row.state);
        if terminal {
            state = state.fg(state_color(row.state));
        }
        let detail = detail(row, model, now_ms);
        table.add_row(vec![
            Cell::new(&row.name),
            state,
            Cell::new(age(now_ms.saturating_sub(row.since_ms))),
            Cell::new(if row.endpoint.is_empty() {
                "-"
            } else {
                &row.endpoint
            }),
            Cell::new(row.restarts),
            Cell::new(if detail.is_empty() { "-" } else { &detail }),
        ]);
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if index == 4 {
            column.set_cell_alignment(CellAlignment::Right);
        }
        if index < 5 {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    let mut text = String::new();
    for line in table.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
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

    #[test]
    fn the_table_has_aligned_columns_and_no_borders() {
        let mut quotes = status("quotes", State::Up);
        quotes.detail = "connected to 127.0.0.1:76".to_owned();
        let mut hw = status("hw-programmer", State::Waiting);
        hw.waiting_on = vec!["quotes".to_owned()];
        hw.restarts = 12;
        let model = Model::from_status(
            &StatusResponse {
                connections: vec![quotes, hw],
            },
            50_000,
        );
        insta::assert_snapshot!(render(&model, 52_500, false), @r"
        NAME           STATE    SINCE  ENDPOINT             RESTARTS  DETAIL
        quotes         up       3.5s   tcp://127.0.0.1:76          2  connected to 127.0.0.1:76
        hw-programmer  waiting  3.5s   tcp://127.0.0.1:713        12  waiting on quotes (up)
        ");
    }
}
