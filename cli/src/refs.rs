//! Tokens named on the command line: by name (unique among the owner's live tokens), by full
//! id, or by a unique prefix of the id of at least [`MIN_PREFIX`] hexadecimal digits.
//! Arguments are split at whitespace, so `"$(tollgate token list --quiet)"`, one argument
//! holding a line per token, names every token it lists.

use serde_json::Value;

use super::client::ClientError;
use super::commands::Session;
use super::errors::{CliError, CliResult};
use super::records::decode;
use tollgate_api::tokens::TokenRecord;

/// Fewest hexadecimal digits that may stand for an id.
pub const MIN_PREFIX: usize = 8;
/// Length of a full token id.
const ID_LEN: usize = 32;
/// Most ids the admin answers in one `?ids=` request.
const BATCH: usize = 100;

/// A token found from a reference: enough to name it in a prompt and act on it by id.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub id: String,
    pub name: String,
    pub owner: String,
    /// The token's record as the server answered it.
    pub record: Value,
}

impl Target {
    fn of(record: &Value, url: &str) -> Result<Self, ClientError> {
        let view: TokenRecord = decode(record, url)?;
        Ok(Target {
            id: view.id,
            name: view.name,
            owner: view.owner,
            record: record.clone(),
        })
    }

    /// `"name" (id prefix)`, and the owner when it is not `me`.
    pub fn label(&self, me: &str) -> String {
        let short = self.id.get(..MIN_PREFIX).unwrap_or(&self.id);
        if self.owner == me {
            format!("{:?} ({short})", self.name)
        } else {
            format!("{:?} ({short}, owner {})", self.name, self.owner)
        }
    }
}

/// The references in `args`, split at whitespace; a usage error if there are none.
pub fn split(args: &[String]) -> CliResult<Vec<String>> {
    let refs: Vec<String> = args
        .iter()
        .flat_map(|a| a.split_whitespace())
        .map(str::to_owned)
        .collect();
    if refs.is_empty() {
        return Err(CliError::usage(
            "no token given: name tokens by name, id or id prefix (none were listed?)",
        ));
    }
    Ok(refs)
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True for a full token id.
fn is_full_id(text: &str) -> bool {
    text.len() == ID_LEN && is_hex(text)
}

/// True if `text` could be a token name (the admin holds the full rule).
fn plausible_name(text: &str) -> bool {
    (1..=64).contains(&text.chars().count()) && !text.chars().any(char::is_control)
}

/// True if `text` may stand for the start of an id.
fn may_be_prefix(text: &str) -> bool {
    (MIN_PREFIX..ID_LEN).contains(&text.len()) && is_hex(text)
}

/// Finds the tokens `refs` name, in order and without repeats. Names are looked up among
/// `owner`'s tokens (default: the caller's); prefixes among every token the caller may see.
/// Fails, naming every reference that found nothing or more than one token.
pub fn resolve(session: &Session, owner: Option<&str>, refs: &[String]) -> CliResult<Vec<Target>> {
    let owner = match owner {
        Some(o) => o.to_owned(),
        None => session.username()?,
    };
    let ids: Vec<&String> = refs.iter().filter(|r| is_full_id(r)).collect();
    let mut by_id = fetch_ids(session, &ids)?;
    let mut found: Vec<Target> = Vec::new();
    let mut problems = Vec::new();
    for r in refs {
        let result = if is_full_id(r) {
            // A repeated id was taken out of `by_id` the first time.
            let again = found.iter().find(|t| t.id == *r).cloned();
            by_id.remove(r).or(again).into_iter().collect()
        } else {
            lookup(session, &owner, r)?
        };
        match result.as_slice() {
            [one] => {
                if !found.iter().any(|t| t.id == one.id) {
                    found.push(one.clone());
                }
            }
            [] => problems.push(format!("no token {r:?}")),
            many => problems.push(ambiguous(r, many, &owner)),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(not_found(problems))
    }
}

fn ambiguous(reference: &str, many: &[Target], me: &str) -> String {
    let labels: Vec<String> = many.iter().map(|t| t.label(me)).collect();
    format!(
        "{reference:?} names {} tokens ({}): give the full id",
        many.len(),
        labels.join(", ")
    )
}

fn not_found(problems: Vec<String>) -> CliError {
    let all_missing = problems.iter().all(|p| p.starts_with("no token"));
    let (status, code) = if all_missing {
        (404, "not_found")
    } else {
        (409, "ambiguous")
    };
    ClientError::Refused {
        status,
        code: code.into(),
        message: problems.join("; "),
    }
    .into()
}

/// Fetches full ids in batches; those not found or not visible are left out.
fn fetch_ids(
    session: &Session,
    ids: &[&String],
) -> CliResult<std::collections::HashMap<String, Target>> {
    let mut out = std::collections::HashMap::new();
    let mut unique: Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
    unique.sort_unstable();
    unique.dedup();
    for chunk in unique.chunks(BATCH) {
        let answer = session
            .client
            .get("/api/v1/tokens", &[("ids", chunk.join(","))])?;
        for t in targets(session, &answer)? {
            out.insert(t.id.clone(), t);
        }
    }
    Ok(out)
}

/// The tokens a name or an id prefix finds (both when the text could be either).
fn lookup(session: &Session, owner: &str, reference: &str) -> CliResult<Vec<Target>> {
    let mut found: Vec<Target> = Vec::new();
    if plausible_name(reference) {
        let query = [("name", reference.to_owned()), ("user", owner.to_owned())];
        let answer = session.client.get("/api/v1/tokens", &query)?;
        found.extend(targets(session, &answer)?);
    }
    if may_be_prefix(reference) {
        let query = [
            ("id_prefix", reference.to_owned()),
            ("kind", "all".to_owned()),
            ("limit", "3".to_owned()),
        ];
        let answer = session.client.get("/api/v1/tokens", &query)?;
        for t in targets(session, &answer)? {
            if !found.iter().any(|f| f.id == t.id) {
                found.push(t);
            }
        }
    }
    Ok(found)
}

fn targets(session: &Session, answer: &Value) -> CliResult<Vec<Target>> {
    let url = session.client.base();
    let tokens = answer
        .get("tokens")
        .and_then(Value::as_array)
        .ok_or_else(|| ClientError::BadAnswer {
            url: url.to_owned(),
            reason: "the answer holds no tokens".into(),
        })?;
    Ok(tokens
        .iter()
        .map(|t| Target::of(t, url))
        .collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_at_whitespace() {
        let args = vec!["a b\nc\n".to_owned(), "d".to_owned()];
        assert_eq!(split(&args).unwrap(), ["a", "b", "c", "d"]);
        assert!(split(&["\n".to_owned()]).is_err());
        assert!(split(&[]).is_err());
    }

    #[test]
    fn ids_and_prefixes() {
        assert!(is_full_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_full_id("0123456789ABCDEF0123456789abcdef"));
        assert!(may_be_prefix("0123abcd"));
        assert!(!may_be_prefix("0123abc"), "too short");
        assert!(!may_be_prefix("0123abcz"));
        assert!(
            !may_be_prefix("0123456789abcdef0123456789abcdef"),
            "a full id"
        );
    }

    #[test]
    fn labels_name_the_owner_only_when_it_is_someone_else() {
        let t = Target {
            id: "0123456789abcdef0123456789abcdef".into(),
            name: "ci".into(),
            owner: "bob".into(),
            record: Value::Null,
        };
        assert_eq!(t.label("bob"), "\"ci\" (01234567)");
        assert_eq!(t.label("ann"), "\"ci\" (01234567, owner bob)");
    }
}
