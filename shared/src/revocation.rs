//! The signed revocation list the edge holds in memory.
//!
//! It lists what the edge must refuse among tokens that have not expired yet:
//! revoked and disabled token ids (with their expiry, so they can be dropped
//! once the token is dead anyway) and per-subject cut-offs. A monotonic
//! sequence number orders versions; a [`Delta`] carries the changes from one
//! sequence number to a later one.
//!
//! Binary layout (all integers varint unless noted):
//! ```text
//! "TGRL" format:u8=1 doc:u8(0 full,1 delta) key_id:len8+bytes
//! sequence:u64be base_sequence:u64be generated_at:u64be
//! entries:   count, (((expires_at - previous) << 1 | disabled), id:16)*   ascending (expires_at, id)
//! removed:   count, id:16*                                                ascending; full lists: 0
//! subjects:  count, (name:len8, void_before, expires_at, roles: count, (role:len8, before)*)*  ascending
//! gone:      count, name:len8*                                            ascending; full lists: 0
//! tag:       HMAC-SHA256(revocation-list key of key_id, everything above)   32 bytes
//! ```
//! Everything is canonical: one encoding per document, trailing bytes rejected.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use hmac::Mac;

use crate::codec::{Invalid, Reader, Writer};
use crate::keyring::{Keyring, MAX_KEY_ID_LEN, valid_key_id};
use crate::token::{MAX_ROLE_LEN, MAX_SUBJECT_LEN, TokenId, valid_role, valid_subject};

const MAGIC: &[u8; 4] = b"TGRL";
const FORMAT: u8 = 1;
const TAG_LEN: usize = 32;
/// Times are clamped to this (year ~1.4e11) so deltas never overflow: an expiry difference is
/// shifted left by two bits when encoded, and 2^62 itself would wrap to 0.
const MAX_TIME: u64 = (1 << 62) - 1;

/// Why a list document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// Not a well-formed list document.
    #[error("the revocation list is malformed")]
    Malformed,
    /// Signed with a key id this keyring does not hold.
    #[error("the revocation list was signed with an unknown key")]
    UnknownKey,
    /// The signature does not match.
    #[error("the revocation list's signature is invalid")]
    BadSignature,
    /// Its sequence number is lower than the list already held.
    #[error("the revocation list is older (sequence {got}) than the one held ({have})")]
    Stale { have: u64, got: u64 },
    /// A delta that does not start at the sequence number held.
    #[error("the delta starts at sequence {base}, but the list held is at {have}")]
    BaseMismatch { have: u64, base: u64 },
}

impl ListError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ListError::Malformed => "malformed",
            ListError::UnknownKey => "unknown_key",
            ListError::BadSignature => "bad_signature",
            ListError::Stale { .. } => "stale",
            ListError::BaseMismatch { .. } => "base_mismatch",
        }
    }
}

impl From<Invalid> for ListError {
    fn from(_: Invalid) -> Self {
        ListError::Malformed
    }
}

/// What the list says about one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// Refused from instant `from` on (0: at once). A regenerated token's grace period ends at `from`.
    Revoked {
        /// Unix seconds from which the token is refused.
        from: u64,
    },
    /// Refused until re-enabled.
    Disabled,
    /// The token's expiry was changed after minting (shortened, or extended by an admin):
    /// it expires at the entry's `expires_at` instead of its signed expiry.
    ExpiryChanged,
}

/// One listed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// What applies to the token.
    pub state: EntryState,
    /// The token's effective expiry; after it the entry may be dropped.
    pub expires_at: u64,
}

impl Entry {
    /// The entry with its times within what the encoding carries.
    fn clamped(mut self) -> Self {
        self.expires_at = self.expires_at.min(MAX_TIME);
        if let EntryState::Revoked { from } = &mut self.state {
            *from = (*from).min(MAX_TIME);
        }
        self
    }

    /// Revoked at once.
    pub fn revoked(expires_at: u64) -> Self {
        Entry {
            state: EntryState::Revoked { from: 0 },
            expires_at,
        }
    }
}

/// Cut-offs for every token of one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectRule {
    /// Tokens issued before this instant are void (0: none).
    pub void_before: u64,
    /// Role → tokens issued before this instant no longer carry the role.
    pub drop_roles: BTreeMap<String, u64>,
    /// No token the rule could affect is alive after this instant; the rule may then be dropped.
    pub expires_at: u64,
}

/// Hashes a [`TokenId`] by its first 8 bytes: ids are random and come from signed documents.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    #[allow(clippy::indexing_slicing, reason = "chunks(8) yields at most 8 bytes")]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl Hash for TokenId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(b));
        state.write(&self.0[8..]);
    }
}

type IdMap<V> = HashMap<TokenId, V, BuildHasherDefault<IdHasher>>;

/// A whole list, as held by the edge: O(1) lookups by token id and subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    /// Version; strictly increases with every change.
    pub sequence: u64,
    /// When the publisher produced it (Unix seconds).
    pub generated_at: u64,
    entries: IdMap<Entry>,
    subjects: HashMap<String, SubjectRule>,
}

/// The changes between two versions of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// The version this delta applies to.
    pub base_sequence: u64,
    /// The version it produces.
    pub sequence: u64,
    pub generated_at: u64,
    /// Entries added or changed.
    pub upserts: Vec<(TokenId, Entry)>,
    /// Entries no longer listed (a re-enabled token, say).
    pub removed: Vec<TokenId>,
    /// Subject rules added or replaced whole.
    pub subjects: Vec<(String, SubjectRule)>,
    /// Subject rules dropped.
    pub removed_subjects: Vec<String>,
}

/// A decoded, signature-checked document: a whole list or a delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    Full(RevocationList),
    Delta(Delta),
}

impl RevocationList {
    /// An empty list at `sequence`.
    pub fn new(sequence: u64, generated_at: u64) -> Self {
        RevocationList {
            sequence,
            generated_at,
            ..Default::default()
        }
    }

    /// The entry for `id`, if listed. O(1).
    #[inline]
    pub fn get(&self, id: &TokenId) -> Option<&Entry> {
        if self.entries.is_empty() {
            return None;
        }
        self.entries.get(id)
    }

    /// The cut-offs for `subject`, if any.
    #[inline]
    pub fn subject_rule(&self, subject: &str) -> Option<&SubjectRule> {
        if self.subjects.is_empty() {
            return None;
        }
        self.subjects.get(subject)
    }

    /// Lists `id` (replacing any earlier entry).
    pub fn insert(&mut self, id: TokenId, entry: Entry) {
        self.entries.insert(id, entry.clamped());
    }

    /// Unlists `id`.
    pub fn remove(&mut self, id: &TokenId) -> Option<Entry> {
        self.entries.remove(id)
    }

    /// Sets the whole rule for `subject`.
    pub fn set_subject(&mut self, subject: String, mut rule: SubjectRule) {
        rule.expires_at = rule.expires_at.min(MAX_TIME);
        rule.void_before = rule.void_before.min(MAX_TIME);
        rule.drop_roles
            .values_mut()
            .for_each(|t| *t = (*t).min(MAX_TIME));
        self.subjects.insert(subject, rule);
    }

    /// Drops the rule for `subject`.
    pub fn remove_subject(&mut self, subject: &str) -> Option<SubjectRule> {
        self.subjects.remove(subject)
    }

    /// Number of listed token ids.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no token id and no subject rule is listed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.subjects.is_empty()
    }

    /// All listed token ids, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (&TokenId, &Entry)> {
        self.entries.iter()
    }

    /// All subject rules, in no particular order.
    pub fn subjects(&self) -> impl Iterator<Item = (&String, &SubjectRule)> {
        self.subjects.iter()
    }

    /// Drops entries and rules that expired at or before `cutoff`.
    /// Pass `now` minus the verifier's leeway, so nothing still accepted is dropped.
    pub fn prune(&mut self, cutoff: u64) {
        self.entries.retain(|_, e| e.expires_at > cutoff);
        self.subjects.retain(|_, r| r.expires_at > cutoff);
    }

    /// Encodes and signs the whole list with the keyring's signing key.
    pub fn encode(&self, keyring: &Keyring) -> Vec<u8> {
        let mut upserts: Vec<_> = self.entries.iter().map(|(id, e)| (*id, *e)).collect();
        let mut subjects: Vec<_> = self
            .subjects
            .iter()
            .map(|(s, r)| (s.clone(), r.clone()))
            .collect();
        upserts.sort_by_key(|(id, e)| (e.expires_at, *id));
        subjects.sort_by(|a, b| a.0.cmp(&b.0));
        encode_doc(
            keyring,
            0,
            self.sequence,
            0,
            self.generated_at,
            &upserts,
            &[],
            &subjects,
            &[],
        )
    }

    /// Applies `delta` in place; its base must be this list's sequence and it must move forward.
    pub fn apply(&mut self, delta: Delta) -> Result<(), ListError> {
        if delta.base_sequence != self.sequence {
            return Err(ListError::BaseMismatch {
                have: self.sequence,
                base: delta.base_sequence,
            });
        }
        for id in &delta.removed {
            self.entries.remove(id);
        }
        for (id, e) in delta.upserts {
            self.insert(id, e);
        }
        for s in &delta.removed_subjects {
            self.subjects.remove(s);
        }
        for (s, r) in delta.subjects {
            self.set_subject(s, r);
        }
        self.sequence = delta.sequence;
        self.generated_at = delta.generated_at;
        Ok(())
    }

    /// Takes a newly fetched document: a newer full list replaces this one, a delta is applied.
    /// Returns `Ok(false)` if the document is at the sequence already held. Never moves backwards.
    pub fn update(&mut self, doc: Document) -> Result<bool, ListError> {
        let got = match &doc {
            Document::Full(l) => l.sequence,
            Document::Delta(d) => d.sequence,
        };
        if got < self.sequence {
            return Err(ListError::Stale {
                have: self.sequence,
                got,
            });
        }
        if got == self.sequence {
            return Ok(false);
        }
        match doc {
            Document::Full(list) => *self = list,
            Document::Delta(delta) => self.apply(delta)?,
        }
        Ok(true)
    }
}

impl Delta {
    /// The delta that turns `old` into `new`.
    pub fn between(old: &RevocationList, new: &RevocationList) -> Delta {
        let mut d = Delta {
            base_sequence: old.sequence,
            sequence: new.sequence,
            generated_at: new.generated_at,
            ..Default::default()
        };
        d.upserts = new
            .entries
            .iter()
            .filter(|(id, e)| old.entries.get(*id) != Some(*e))
            .map(|(id, e)| (*id, *e))
            .collect();
        d.removed = old
            .entries
            .keys()
            .filter(|id| !new.entries.contains_key(*id))
            .copied()
            .collect();
        d.subjects = new
            .subjects
            .iter()
            .filter(|(s, r)| old.subjects.get(*s) != Some(*r))
            .map(|(s, r)| (s.clone(), r.clone()))
            .collect();
        d.removed_subjects = old
            .subjects
            .keys()
            .filter(|s| !new.subjects.contains_key(*s))
            .cloned()
            .collect();
        d
    }

    /// Encodes and signs the delta with the keyring's signing key.
    pub fn encode(&self, keyring: &Keyring) -> Vec<u8> {
        let mut upserts = self.upserts.clone();
        upserts.iter_mut().for_each(|(_, e)| *e = e.clamped());
        upserts.sort_by_key(|(id, e)| (e.expires_at, *id));
        upserts.dedup_by_key(|(id, _)| *id);
        let mut removed = self.removed.clone();
        removed.sort();
        removed.dedup();
        let mut subjects = self.subjects.clone();
        subjects.sort_by(|a, b| a.0.cmp(&b.0));
        subjects.dedup_by(|a, b| a.0 == b.0);
        let mut gone = self.removed_subjects.clone();
        gone.sort();
        gone.dedup();
        encode_doc(
            keyring,
            1,
            self.sequence,
            self.base_sequence,
            self.generated_at,
            &upserts,
            &removed,
            &subjects,
            &gone,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn encode_doc(
    keyring: &Keyring,
    doc: u8,
    sequence: u64,
    base: u64,
    generated_at: u64,
    upserts: &[(TokenId, Entry)],
    removed: &[TokenId],
    subjects: &[(String, SubjectRule)],
    gone: &[String],
) -> Vec<u8> {
    let key = keyring.signing();
    let mut out = Vec::with_capacity(64 + upserts.len() * 19 + removed.len() * 16);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.push(doc);
    out.short_str(&key.id);
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(&base.to_be_bytes());
    out.extend_from_slice(&generated_at.to_be_bytes());
    out.varint(upserts.len() as u64);
    let mut prev = 0;
    for (id, e) in upserts {
        let (tag, from) = match e.state {
            EntryState::Revoked { from: 0 } => (0, None),
            EntryState::Disabled => (1, None),
            EntryState::Revoked { from } => (2, Some(from.min(MAX_TIME))),
            EntryState::ExpiryChanged => (3, None),
        };
        out.varint((e.expires_at - prev) << 2 | tag);
        out.extend_from_slice(&id.0);
        if let Some(from) = from {
            out.varint(from);
        }
        prev = e.expires_at;
    }
    out.varint(removed.len() as u64);
    removed.iter().for_each(|id| out.extend_from_slice(&id.0));
    out.varint(subjects.len() as u64);
    for (name, rule) in subjects {
        out.short_str(name);
        out.varint(rule.void_before.min(MAX_TIME));
        out.varint(rule.expires_at.min(MAX_TIME));
        out.varint(rule.drop_roles.len() as u64);
        for (role, before) in &rule.drop_roles {
            out.short_str(role);
            out.varint((*before).min(MAX_TIME));
        }
    }
    out.varint(gone.len() as u64);
    gone.iter().for_each(|s| out.short_str(s));
    let tag = key
        .list_mac
        .clone()
        .chain_update(&out)
        .finalize()
        .into_bytes();
    out.extend_from_slice(&tag);
    out
}

impl Document {
    /// Checks the signature, then decodes strictly. Never panics, whatever the bytes.
    pub fn decode(bytes: &[u8], keyring: &Keyring) -> Result<Document, ListError> {
        if bytes.len() < TAG_LEN + 6 {
            return Err(ListError::Malformed);
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut r = Reader::new(body);
        if r.bytes(4)? != MAGIC || r.u8()? != FORMAT {
            return Err(ListError::Malformed);
        }
        let doc = r.u8()?;
        if doc > 1 {
            return Err(ListError::Malformed);
        }
        let key_id = r.short_str(MAX_KEY_ID_LEN, valid_key_id)?;
        let key = keyring
            .get(key_id.as_bytes())
            .ok_or(ListError::UnknownKey)?;
        key.list_mac
            .clone()
            .chain_update(body)
            .verify_slice(tag)
            .map_err(|_| ListError::BadSignature)?;

        let sequence = r.u64()?;
        let base_sequence = r.u64()?;
        let generated_at = r.u64()?;
        if (doc == 0 && base_sequence != 0) || (doc == 1 && sequence <= base_sequence) {
            return Err(ListError::Malformed);
        }
        let mut upserts = Vec::new();
        let n = r.count(r.remaining() / 17)?;
        upserts.reserve_exact(n);
        let mut prev: Option<(u64, TokenId)> = None;
        for _ in 0..n {
            let v = r.varint()?;
            let id = TokenId(r.array()?);
            let expires_at = prev
                .map_or(0, |p| p.0)
                .checked_add(v >> 2)
                .filter(|t| *t <= MAX_TIME)
                .ok_or(Invalid)?;
            if prev.is_some_and(|p| (expires_at, id) <= p) {
                return Err(ListError::Malformed);
            }
            prev = Some((expires_at, id));
            let state = match v & 3 {
                0 => EntryState::Revoked { from: 0 },
                1 => EntryState::Disabled,
                2 => match bounded_time(&mut r)? {
                    0 => return Err(ListError::Malformed), // canonical form of "at once" is tag 0
                    from => EntryState::Revoked { from },
                },
                _ => EntryState::ExpiryChanged,
            };
            upserts.push((id, Entry { state, expires_at }));
        }
        let n = r.count(r.remaining() / 16)?;
        let mut removed: Vec<TokenId> = Vec::with_capacity(n);
        for _ in 0..n {
            let id = TokenId(r.array()?);
            if removed.last().is_some_and(|p| id <= *p) {
                return Err(ListError::Malformed);
            }
            removed.push(id);
        }
        let n = r.count(r.remaining() / 5)?;
        let mut subjects: Vec<(String, SubjectRule)> = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.short_str(MAX_SUBJECT_LEN, valid_subject)?;
            if subjects.last().is_some_and(|(p, _)| name <= p.as_str()) {
                return Err(ListError::Malformed);
            }
            let void_before = bounded_time(&mut r)?;
            let expires_at = bounded_time(&mut r)?;
            let mut drop_roles = BTreeMap::new();
            let mut last: Option<&str> = None;
            for _ in 0..r.count(r.remaining() / 3)? {
                let role = r.short_str(MAX_ROLE_LEN, valid_role)?;
                if last.is_some_and(|p| role <= p) {
                    return Err(ListError::Malformed);
                }
                last = Some(role);
                drop_roles.insert(role.to_owned(), bounded_time(&mut r)?);
            }
            subjects.push((
                name.to_owned(),
                SubjectRule {
                    void_before,
                    drop_roles,
                    expires_at,
                },
            ));
        }
        let n = r.count(r.remaining() / 2)?;
        let mut gone: Vec<String> = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.short_str(MAX_SUBJECT_LEN, valid_subject)?;
            if gone.last().is_some_and(|p| name <= p.as_str()) {
                return Err(ListError::Malformed);
            }
            gone.push(name.to_owned());
        }
        r.finish()?;
        debug_assert_eq!(r.position(), body.len());

        if doc == 0 {
            if !removed.is_empty() || !gone.is_empty() {
                return Err(ListError::Malformed);
            }
            let mut list = RevocationList::new(sequence, generated_at);
            list.entries.reserve(upserts.len());
            list.entries.extend(upserts);
            list.subjects.extend(subjects);
            Ok(Document::Full(list))
        } else {
            Ok(Document::Delta(Delta {
                base_sequence,
                sequence,
                generated_at,
                upserts,
                removed,
                subjects,
                removed_subjects: gone,
            }))
        }
    }
}

fn bounded_time(r: &mut Reader<'_>) -> Result<u64, Invalid> {
    let t = r.varint()?;
    if t > MAX_TIME { Err(Invalid) } else { Ok(t) }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn ring() -> Keyring {
        Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap()
    }

    fn sample(sequence: u64) -> RevocationList {
        let mut l = RevocationList::new(sequence, 1_000);
        l.insert(TokenId([1; 16]), Entry::revoked(5_000));
        l.insert(
            TokenId([2; 16]),
            Entry {
                state: EntryState::Disabled,
                expires_at: 5_000,
            },
        );
        l.insert(
            TokenId([3; 16]),
            Entry {
                state: EntryState::Revoked { from: 2_000 },
                expires_at: 4_000,
            },
        );
        l.insert(
            TokenId([4; 16]),
            Entry {
                state: EntryState::ExpiryChanged,
                expires_at: 3_000,
            },
        );
        let mut rule = SubjectRule {
            void_before: 900,
            expires_at: 9_000,
            ..Default::default()
        };
        rule.drop_roles.insert("admin".into(), 950);
        l.set_subject("bob".into(), rule);
        l
    }

    #[test]
    fn full_list_round_trip() {
        let l = sample(7);
        let bytes = l.encode(&ring());
        assert_eq!(
            Document::decode(&bytes, &ring()),
            Ok(Document::Full(l.clone()))
        );
        // encoding is canonical: same content, same bytes
        assert_eq!(bytes, sample(7).encode(&ring()));
    }

    /// Found by the `revocation_list` fuzz target: an expiry at the clamp, first in the list,
    /// used to encode as a difference of 2^62, whose shift wrapped to 0.
    #[test]
    fn the_largest_times_survive_encoding() {
        let mut l = RevocationList::new(1, 0);
        l.insert(TokenId([0x11; 16]), Entry::revoked(u64::MAX));
        l.insert(
            TokenId([0x22; 16]),
            Entry {
                state: EntryState::Revoked { from: u64::MAX },
                expires_at: u64::MAX,
            },
        );
        let decoded = Document::decode(&l.encode(&ring()), &ring());
        assert_eq!(decoded, Ok(Document::Full(l.clone())));
        let Ok(Document::Full(decoded)) = decoded else {
            unreachable!()
        };
        let entry = decoded.get(&TokenId([0x11; 16])).unwrap();
        assert_eq!(entry.expires_at, MAX_TIME, "not wrapped to 0");
        assert_eq!(
            decoded.get(&TokenId([0x22; 16])).unwrap().state,
            EntryState::Revoked { from: MAX_TIME },
            "a grace end is clamped on insert as the encoding clamps it"
        );
    }

    #[test]
    fn delta_round_trip_and_apply() {
        let old = sample(7);
        let mut new = old.clone();
        new.sequence = 9;
        new.remove(&TokenId([2; 16]));
        new.insert(TokenId([5; 16]), Entry::revoked(6_000));
        new.remove_subject("bob");
        new.set_subject(
            "carol".into(),
            SubjectRule {
                void_before: 10,
                expires_at: 20,
                ..Default::default()
            },
        );
        let delta = Delta::between(&old, &new);
        let doc = Document::decode(&delta.encode(&ring()), &ring()).unwrap();
        let mut held = old.clone();
        assert_eq!(held.update(doc.clone()), Ok(true));
        assert_eq!(held, new);
        // the same delta again no longer fits
        assert_eq!(held.update(doc), Ok(false));
        let mut other = sample(8);
        let Document::Delta(d) = Document::decode(&delta.encode(&ring()), &ring()).unwrap() else {
            panic!()
        };
        assert_eq!(
            other.apply(d),
            Err(ListError::BaseMismatch { have: 8, base: 7 })
        );
    }

    #[test]
    fn never_moves_backwards() {
        let mut held = sample(9);
        let older = Document::decode(&sample(8).encode(&ring()), &ring()).unwrap();
        assert_eq!(
            held.update(older),
            Err(ListError::Stale { have: 9, got: 8 })
        );
        assert_eq!(held.sequence, 9);
    }

    #[test]
    fn signature_and_key_checks() {
        let bytes = sample(3).encode(&ring());
        let mut tampered = bytes.clone();
        tampered[40] ^= 1;
        assert_eq!(
            Document::decode(&tampered, &ring()),
            Err(ListError::BadSignature)
        );
        let other = Keyring::parse("k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        assert_eq!(Document::decode(&bytes, &other), Err(ListError::UnknownKey));
        let same_id = Keyring::parse("k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").unwrap();
        assert_eq!(
            Document::decode(&bytes, &same_id),
            Err(ListError::BadSignature)
        );
        assert_eq!(
            Document::decode(&bytes[..10], &ring()),
            Err(ListError::Malformed)
        );
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Document::decode(&extra, &ring()).is_err());
    }

    #[test]
    fn prune_drops_dead_entries() {
        let mut l = sample(1);
        l.prune(3_000);
        assert!(l.get(&TokenId([4; 16])).is_none());
        assert!(l.get(&TokenId([3; 16])).is_some());
        l.prune(9_000);
        assert!(l.is_empty());
    }

    #[test]
    fn stays_small_at_100k_entries() {
        let mut l = RevocationList::new(1, 0);
        for i in 0..100_000u32 {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            id[4..8].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
            l.insert(
                TokenId(id),
                Entry::revoked(1_800_000_000 + u64::from(i) * 37),
            );
        }
        let bytes = l.encode(&ring());
        assert!(bytes.len() <= 2 * 1024 * 1024, "{} bytes", bytes.len());
        let Document::Full(back) = Document::decode(&bytes, &ring()).unwrap() else {
            panic!()
        };
        assert_eq!(back.len(), 100_000);
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Signed but arbitrary bodies reach the parser; it must refuse or accept, never panic.
        #[test]
        fn decode_never_panics_on_signed_garbage(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), doc in 0u8..3) {
            let ring = ring();
            let mut bytes = b"TGRL\x01".to_vec();
            bytes.push(doc);
            bytes.extend_from_slice(b"\x02k1");
            bytes.extend_from_slice(&body);
            let tag = ring.signing().list_mac.clone().chain_update(&bytes).finalize().into_bytes();
            bytes.extend_from_slice(&tag);
            let _ = Document::decode(&bytes, &ring);
        }

        #[test]
        fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = Document::decode(&bytes, &ring());
        }
    }
}
