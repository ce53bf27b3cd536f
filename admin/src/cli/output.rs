//! Printing records: aligned tables and key/value blocks for people, JSON for scripts.
//! Times are shown in UTC with the zone named.

use clap::ValueEnum;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// How records are printed (`--output`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// The server's JSON records, pretty-printed, for scripts.
    Json,
}

/// Prints a JSON value, pretty, on stdout.
pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// Renders an RFC 3339 time as `2026-11-23 23:41:05 UTC`; other text is returned as it is,
/// and an absent time as `-`.
pub fn utc(time: Option<&str>) -> String {
    let Some(text) = time.filter(|t| !t.is_empty()) else {
        return "-".to_owned();
    };
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&format).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// `yes` or `no`.
pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A list joined with `, `, or `-` when empty.
pub fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(", ")
    }
}

/// Text or `-` when absent or empty.
pub fn or_dash(text: Option<&str>) -> String {
    match text {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => "-".to_owned(),
    }
}

/// A table with a header row and left-aligned columns separated by two spaces.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (one cell per header).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let clean = |s: &str| s.replace(['\n', '\t', '\r'], " ");
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(widths.len()) {
                widths[i] = widths[i].max(clean(cell).chars().count());
            }
        }
        let line = |cells: Vec<String>| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(widths[i].saturating_sub(cell.chars().count())));
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut text = line(self.headers.iter().map(|h| h.to_string()).collect());
        for row in &self.rows {
            text.push_str(&line(row.iter().map(|c| clean(c)).collect()));
        }
        text
    }

    /// Prints the table on stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// Renders `label  value` lines with the values aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        let pad = " ".repeat(width - k.chars().count());
        let v = v.replace('\n', &format!("\n{}", " ".repeat(width + 2)));
        out.push_str(&format!("{k}{pad}  {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_with_the_zone_named() {
        assert_eq!(utc(Some("2027-01-15T08:00:00Z")), "2027-01-15 08:00:00 UTC");
        assert_eq!(
            utc(Some("2027-01-15T09:00:00+01:00")),
            "2027-01-15 08:00:00 UTC"
        );
        assert_eq!(utc(None), "-");
        assert_eq!(utc(Some("soon")), "soon");
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(&["ID", "NAME"]);
        t.row(vec!["1".into(), "ci".into()]);
        t.row(vec!["1234".into(), "deploy\nbot".into()]);
        assert_eq!(t.render(), "ID    NAME\n1     ci\n1234  deploy bot\n");
        assert_eq!(Table::new(&["A", "B"]).render(), "A  B\n");
    }

    #[test]
    fn fields_align_values() {
        let text = fields(&[("ID", "1".into()), ("Name", "x\ny".into())]);
        assert_eq!(text, "ID    1\nName  x\n      y\n");
    }
}
