//! Several servers on one PostgreSQL (one server on SQLite) minting and revoking concurrently:
//! every change gets its own sequence number, numbers strictly increase, and a sequence number
//! always stands for the same document on every replica.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use tollgate_shared::{Document, TokenId};

use crate::harness::{Admin, Db, PASSWORD, both_backends, keyring, settings};

const WORKERS_PER_SERVER: usize = 3;
const ROUNDS: usize = 12;

async fn concurrent_changes_get_distinct_increasing_sequences(db: Db) {
    let mut servers = vec![Arc::new(Admin::start(&db).await)];
    if db.is_postgres() {
        servers.push(Arc::new(Admin::with(settings(&db)).await));
    }
    servers[0].user("alice", &["user", "token_creator"]).await;
    let start = servers[0].sequence().await;

    // Pollers record every document each server hands out.
    let stop = Arc::new(AtomicBool::new(false));
    let mut pollers = Vec::new();
    for s in &servers {
        let (s, stop) = (s.clone(), stop.clone());
        pollers.push(tokio::spawn(async move {
            let mut seen: Vec<(u64, Vec<u8>)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (seq, _, bytes) = s.revocations().await;
                seen.push((seq, bytes));
            }
            seen
        }));
    }

    let mut workers = Vec::new();
    for (n, s) in servers.iter().enumerate() {
        for w in 0..WORKERS_PER_SERVER {
            let s = s.clone();
            // Revoke through the other server when there is one.
            let other = servers[(n + 1) % servers.len()].clone();
            workers.push(tokio::spawn(async move {
                let alice = s.login("alice", PASSWORD).await;
                let alice_other = other.login("alice", PASSWORD).await;
                let mut out = Vec::new();
                for round in 0..ROUNDS {
                    let (_, rec) = s
                        .mint(&alice, json!({"name": format!("s{n}w{w}r{round}")}))
                        .await;
                    let id = rec["id"].as_str().unwrap().to_owned();
                    let r = other
                        .post(
                            &format!("/api/v1/tokens/{id}/revoke"),
                            &alice_other,
                            json!({}),
                        )
                        .await;
                    r.expect(200);
                    let seq: u64 = r
                        .header("x-tollgate-revocation-sequence")
                        .unwrap()
                        .parse()
                        .unwrap();
                    out.push((id.parse::<TokenId>().unwrap(), seq));
                }
                out
            }));
        }
    }
    let mut revoked: Vec<(TokenId, u64)> = Vec::new();
    for w in workers {
        revoked.extend(w.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let mut observed = Vec::new();
    for p in pollers {
        observed.push(p.await.unwrap());
    }

    // One new version per revocation, each handed out once, without gaps.
    let total = servers.len() * WORKERS_PER_SERVER * ROUNDS;
    let mut seqs: Vec<u64> = revoked.iter().map(|(_, s)| *s).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(
        seqs.len(),
        total,
        "every revocation got a sequence number of its own"
    );
    assert_eq!(
        seqs,
        ((start + 1)..=(start + total as u64)).collect::<Vec<_>>()
    );

    // Each poller saw sequence numbers that never went down; the same number always meant the
    // same bytes, on every server; and the list at S holds exactly the revocations up to S.
    let revoked_at: HashMap<TokenId, u64> = revoked.iter().copied().collect();
    let mut by_sequence: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for seen in &observed {
        assert!(!seen.is_empty());
        assert!(
            seen.windows(2).all(|w| w[0].0 <= w[1].0),
            "sequence went backwards"
        );
        for (seq, bytes) in seen {
            let known = by_sequence.entry(*seq).or_insert_with(|| bytes.clone());
            assert_eq!(known, bytes, "two documents for sequence {seq}");
        }
    }
    for (seq, bytes) in &by_sequence {
        let Document::Full(list) = Document::decode(bytes, &keyring()).unwrap() else {
            panic!()
        };
        let expected: Vec<&TokenId> = revoked_at
            .iter()
            .filter(|(_, s)| **s <= *seq)
            .map(|(id, _)| id)
            .collect();
        assert_eq!(list.len(), expected.len(), "sequence {seq}");
        assert!(
            expected.iter().all(|id| list.get(id).is_some()),
            "sequence {seq}"
        );
    }

    // At rest, every server serves the same final document.
    let finals: Vec<_> = {
        let mut v = Vec::new();
        for s in &servers {
            v.push(s.revocations().await);
        }
        v
    };
    for (seq, list, bytes) in &finals {
        assert_eq!(*seq, start + total as u64);
        assert_eq!(bytes, &finals[0].2);
        assert_eq!(list.len(), total);
    }
}

both_backends!(concurrent_changes_get_distinct_increasing_sequences);
