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
    /// Aligned columns for people, cut to the terminal's width, with relative times.
    #[default]
    #[value(alias = "text")]
    Table,
    /// Every column, exact UTC times, nothing cut.
    Wide,
    /// The server's JSON records, pretty-printed, for scripts.
    Json,
    /// The server's records as YAML.
    Yaml,
}

impl Format {
    /// True for the formats meant for programs (the server's records as they are).
    pub fn machine(self) -> bool {
        matches!(self, Format::Json | Format::Yaml)
    }

    /// Prints a record in this format: YAML for `yaml`, pretty JSON otherwise.
    pub fn print(self, value: &Value) {
        if self == Format::Yaml {
            match yaml_serde::to_string(value) {
                Ok(text) => print!("{text}"),
                Err(_) => print_json(value),
            }
        } else {
            print_json(value);
        }
    }
}

/// Prints a JSON value, pretty, on stdout.
pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// Renders an RFC 3339 time relative to `now`: `in 6 days`, `2 h ago`, `now`; an absent time
/// as `-`, and other text as it is.
pub fn relative(time: Option<&str>, now: OffsetDateTime) -> String {
    let Some(text) = time.filter(|t| !t.is_empty()) else {
        return "-".to_owned();
    };
    let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) else {
        return text.to_owned();
    };
    let seconds = (at - now).whole_seconds();
    let span = ago_or_in(seconds.unsigned_abs());
    match seconds {
        -59..=59 => "now".to_owned(),
        s if s > 0 => format!("in {span}"),
        _ => format!("{span} ago"),
    }
}

/// A span in its largest whole unit, rounded: `45 s`, `5 min`, `2 h`, `6 days`, `1 year`.
fn ago_or_in(seconds: u64) -> String {
    const UNITS: [(u64, &str, &str); 5] = [
        (365 * 86_400, "year", "years"),
        (86_400, "day", "days"),
        (3_600, "h", "h"),
        (60, "min", "min"),
        (1, "s", "s"),
    ];
    for (size, one, many) in UNITS {
        if seconds >= size {
            let n = (seconds + size / 2) / size;
            return format!("{n} {}", if n == 1 { one } else { many });
        }
    }
    "0 s".to_owned()
}

/// The width tables are cut to: the terminal's when standard output is one, else `COLUMNS`
/// when set, else none.
pub fn table_width() -> Option<usize> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal()
        && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size()
    {
        return Some(usize::from(w));
    }
    std::env::var("COLUMNS").ok()?.trim().parse().ok()
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
    /// Columns that may be cut to fit a width, the first cut first.
    shrinkable: Vec<usize>,
}

/// Narrowest a cut column becomes.
const MIN_CUT: usize = 8;

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
            shrinkable: Vec::new(),
        }
    }

    /// Lets these columns (by header) be cut, with `…`, to fit a width; the first named is
    /// cut first.
    pub fn shrink(mut self, headers: &[&str]) -> Self {
        self.shrinkable = headers
            .iter()
            .filter_map(|h| self.headers.iter().position(|x| x == h))
            .collect();
        self
    }

    /// Cuts the shrinkable columns until every line fits in `width` characters (as far as
    /// they can be cut).
    pub fn fit(&mut self, width: usize) {
        let mut widths = self.widths();
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
        for &col in &self.shrinkable {
            let over = total(&widths).saturating_sub(width);
            if over == 0 {
                break;
            }
            let floor = MIN_CUT.max(self.headers[col].chars().count());
            widths[col] = widths[col].saturating_sub(over).max(floor);
            for row in &mut self.rows {
                if let Some(cell) = row.get_mut(col) {
                    *cell = cut(cell, widths[col]);
                }
            }
        }
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(widths.len()) {
                widths[i] = widths[i].max(clean(cell).chars().count());
            }
        }
        widths
    }

    /// Appends a row (one cell per header).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let widths = self.widths();
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

    /// Prints the table on stdout, cut to [`table_width`] when it has shrinkable columns.
    pub fn print(mut self) {
        if let Some(w) = table_width() {
            self.fit(w);
        }
        print!("{}", self.render());
    }
}

/// A cell as one line: newlines and tabs become spaces.
fn clean(cell: &str) -> String {
    cell.replace(['\n', '\t', '\r'], " ")
}

/// `text` in at most `width` characters, ending in `…` when cut.
fn cut(text: &str, width: usize) -> String {
    let text = clean(text);
    if text.chars().count() <= width {
        return text;
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
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
    fn relative_times_name_the_largest_unit() {
        let now = OffsetDateTime::parse("2026-11-25T12:00:00Z", &Rfc3339).unwrap();
        let at = |t: &str| relative(Some(t), now);
        assert_eq!(at("2026-12-01T12:00:00Z"), "in 6 days");
        assert_eq!(at("2026-11-25T10:00:00Z"), "2 h ago");
        assert_eq!(at("2026-11-25T12:00:30Z"), "now");
        assert_eq!(at("2026-11-25T12:05:00Z"), "in 5 min");
        assert_eq!(at("2027-11-26T12:00:00Z"), "in 1 year");
        assert_eq!(relative(None, now), "-");
        assert_eq!(at("soon"), "soon");
    }

    #[test]
    fn tables_are_cut_to_a_width_in_the_columns_allowed() {
        let mut t = Table::new(&["ID", "DESCRIPTION", "NAME"]).shrink(&["DESCRIPTION", "NAME"]);
        t.row(vec![
            "0123".into(),
            "deploys the staging cluster".into(),
            "ci-deploy-staging".into(),
        ]);
        t.fit(40);
        let text = t.render();
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(text.contains("deploys the st…"), "{text}");
        assert!(text.contains("0123"), "{text}");
        // Too narrow to fit: cut columns stop at their floor, nothing else is cut.
        t.fit(5);
        assert!(t.render().contains("0123  "), "{}", t.render());
    }

    #[test]
    fn formats_take_the_names_people_bring() {
        assert_eq!(Format::from_str("text", true), Ok(Format::Table));
        assert!(Format::Yaml.machine() && Format::Json.machine() && !Format::Wide.machine());
    }

    #[test]
    fn fields_align_values() {
        let text = fields(&[("ID", "1".into()), ("Name", "x\ny".into())]);
        assert_eq!(text, "ID    1\nName  x\n      y\n");
    }
}
