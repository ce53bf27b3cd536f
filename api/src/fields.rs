//! How optional request fields are read and written: a field left out is `None`, `null` is
//! refused (the document says a field is a string, a number...; it never says "or null"), and
//! a client leaves `None` fields out.

use serde::{Deserialize, Deserializer};

/// For an optional body field, with `#[serde(default, deserialize_with = "present")]`: a field
/// left out is `None`, and `null` is refused like any other value of the wrong type.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// As [`present`], for a count: a JSON number that is a non-negative whole number, written
/// `60`, `60.0` or `6e1` alike (JSON Schema's `integer`). Beyond `u64`, it is `u64::MAX`, which
/// every limit refuses with its own code.
pub fn present_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(n) = n.as_u64() {
        return Ok(Some(n));
    }
    // serde_json reads a long decimal to within a unit in the last place or so (`60.0` with 16
    // digits before the point may come back as `...59.5`): a number that close to a whole one
    // is that whole number.
    let whole = |f: f64| f >= 0.0 && (f - f.round()).abs() <= f * f64::EPSILON;
    match n.as_f64() {
        Some(f) if whole(f) => Ok(Some(if f.round() >= u64::MAX as f64 {
            u64::MAX
        } else {
            f.round() as u64
        })),
        _ => Err(serde::de::Error::custom(format!(
            "invalid value: {n}, expected a whole number, 0 or more"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "present_count")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "present")]
        s: Option<String>,
    }

    fn read(text: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn left_out_is_none_and_null_is_refused() {
        let b = read("{}").map_err(|e| e.to_string());
        assert!(matches!(b, Ok(Body { n: None, s: None })), "{b:?}");
        assert!(read(r#"{"s": null}"#).is_err());
        assert!(read(r#"{"n": null}"#).is_err());
    }

    #[test]
    fn counts_are_whole_numbers_however_written() {
        for text in [r#"{"n": 60}"#, r#"{"n": 60.0}"#, r#"{"n": 6e1}"#] {
            assert_eq!(read(text).map(|b| b.n).ok(), Some(Some(60)), "{text}");
        }
        assert_eq!(
            read(r#"{"n": 1e30}"#).map(|b| b.n).ok(),
            Some(Some(u64::MAX))
        );
        assert!(read(r#"{"n": -1}"#).is_err());
        assert!(read(r#"{"n": 1.5}"#).is_err());
    }
}
