//! Publishing the signed revocation list.
//!
//! The list at version `S` is a pure function of the database at `S`: the listed tokens and
//! subject rules whose expiry is after `generated_at(S) - PRUNE_MARGIN`. Replicas therefore
//! serve identical bytes for a sequence number. Each server keeps the latest document in
//! memory and moves it forward by applying the changes recorded since, so serving costs one
//! small query while nothing changes.

pub mod entries;
pub mod maintenance;
pub mod subjects;

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use tollgate_shared::{Delta, Keyring, RevocationList, TokenId};

use crate::store::list::{self, ChangedSubject, ChangedToken};
use crate::store::{Store, StoreError, Tx};
use entries::{PRUNE_MARGIN, entry, rule};

/// One published version: the list and its encoded, signed bytes.
#[derive(Debug)]
pub struct Snapshot {
    pub list: RevocationList,
    pub body: Bytes,
    pub sequence: i64,
    pub generated_at: i64,
}

/// Keeps the current document and produces deltas.
pub struct Publisher {
    keyring: Keyring,
    cache: RwLock<Option<Arc<Snapshot>>>,
    refresh: tokio::sync::Mutex<()>,
}

fn cutoff(generated_at: i64) -> i64 {
    (generated_at - PRUNE_MARGIN).max(0)
}

impl Publisher {
    /// A publisher signing with `keyring`'s signing key.
    pub fn new(keyring: Keyring) -> Self {
        Publisher {
            keyring,
            cache: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// The document currently held, if any.
    pub fn cached(&self) -> Option<Arc<Snapshot>> {
        self.cache.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The document at sequence `want` or later, refreshed from the store if needed.
    pub async fn at_least(&self, store: &Store, want: i64) -> Result<Arc<Snapshot>, StoreError> {
        if let Some(s) = self.cached().filter(|s| s.sequence >= want) {
            return Ok(s);
        }
        let _guard = self.refresh.lock().await;
        let previous = self.cached();
        if let Some(s) = previous.clone().filter(|s| s.sequence >= want) {
            return Ok(s);
        }
        let mut tx = store.snapshot().await?;
        let (sequence, generated_at) = list::state(&mut tx).await?;
        let mut list = match previous {
            Some(p) if p.sequence <= sequence => {
                let changed_tokens = list::changed_tokens(&mut tx, p.sequence, sequence).await?;
                let changed_subjects =
                    list::changed_subjects(&mut tx, p.sequence, sequence).await?;
                let mut list = p.list.clone();
                apply_changes(&mut list, changed_tokens, changed_subjects);
                list
            }
            _ => full_list(&mut tx, cutoff(generated_at)).await?,
        };
        drop(tx);
        list.sequence = sequence as u64;
        list.generated_at = generated_at as u64;
        list.prune(cutoff(generated_at) as u64);
        let keyring = self.keyring.clone();
        let (list, body) = tokio::task::spawn_blocking(move || {
            let body = Bytes::from(list.encode(&keyring));
            (list, body)
        })
        .await
        .map_err(|e| {
            StoreError::Database(sqlx::Error::Protocol(format!("list encoding failed: {e}")))
        })?;
        let snapshot = Arc::new(Snapshot {
            list,
            body,
            sequence,
            generated_at,
        });
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// The signed delta from version `since` to `snap`, or `None` if `since` is not a version on
    /// record before `snap` (the caller then sends the whole list).
    pub async fn delta(
        &self,
        store: &Store,
        snap: &Snapshot,
        since: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if since >= snap.sequence || since < 1 {
            return Ok(None);
        }
        let mut tx = store.snapshot().await?;
        let Some(since_generated) = list::version(&mut tx, since).await? else {
            return Ok(None);
        };
        let (lo, hi) = (cutoff(since_generated), cutoff(snap.generated_at));
        let mut ids: BTreeSet<String> = list::changed_tokens(&mut tx, since, snap.sequence)
            .await?
            .into_iter()
            .map(|c| c.token_id)
            .collect();
        let mut subjects: BTreeSet<String> = list::changed_subjects(&mut tx, since, snap.sequence)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        if hi > lo {
            // Entries that expired out of the list between the two versions.
            ids.extend(list::expiring_tokens(&mut tx, lo, hi).await?);
            subjects.extend(list::expiring_subjects(&mut tx, lo, hi).await?);
        }
        drop(tx);
        let mut delta = Delta {
            base_sequence: since as u64,
            sequence: snap.sequence as u64,
            generated_at: snap.generated_at as u64,
            ..Default::default()
        };
        for id in ids.iter().filter_map(|id| id.parse::<TokenId>().ok()) {
            match snap.list.get(&id) {
                Some(e) => delta.upserts.push((id, *e)),
                None => delta.removed.push(id),
            }
        }
        for s in subjects {
            match snap.list.subject_rule(&s) {
                Some(r) => delta.subjects.push((s, r.clone())),
                None => delta.removed_subjects.push(s),
            }
        }
        Ok(Some(delta.encode(&self.keyring)))
    }
}

async fn full_list(tx: &mut Tx, cutoff: i64) -> Result<RevocationList, StoreError> {
    let mut list = RevocationList::default();
    for t in list::listed_tokens(tx, cutoff).await? {
        if let (Ok(id), Some(e)) = (
            t.id.parse::<TokenId>(),
            entry(t.list_kind, t.list_from, t.list_expires),
        ) {
            list.insert(id, e);
        }
    }
    for r in list::live_rules(tx, cutoff).await? {
        let published = rule(&r);
        list.set_subject(r.subject, published);
    }
    Ok(list)
}

fn apply_changes(
    list: &mut RevocationList,
    tokens: Vec<ChangedToken>,
    subjects: Vec<ChangedSubject>,
) {
    for t in tokens {
        let Ok(id) = t.token_id.parse::<TokenId>() else {
            continue;
        };
        let e = match (t.list_kind, t.list_from, t.list_expires) {
            (Some(k), Some(f), Some(x)) => entry(k, f, x),
            _ => None,
        };
        match e {
            Some(e) => list.insert(id, e),
            None => {
                list.remove(&id);
            }
        }
    }
    for s in subjects {
        match (s.void_before, s.drop_roles, s.expires_at) {
            (Some(void_before), Some(drop_roles), Some(expires_at)) => {
                let row = list::SubjectRow {
                    subject: s.name.clone(),
                    void_before,
                    drop_roles,
                    expires_at,
                };
                list.set_subject(s.name, rule(&row));
            }
            _ => {
                list.remove_subject(&s.name);
            }
        }
    }
}
