//! `Authority::verify` allocates nothing, with or without a revocation list.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]
#![allow(
    unsafe_code,
    reason = "a counting global allocator must implement GlobalAlloc"
)]
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tollgate_shared::{
    Authority, Claims, Entry, Keyring, Kind, RevocationList, SubjectRule, TokenId,
};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const NOW: u64 = 1_800_000_000;

#[test]
fn verify_allocates_nothing() {
    let a =
        Authority::new(Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap());
    let claims = Claims {
        token_id: TokenId([3; 16]),
        subject: "alice".into(),
        kind: Kind::Personal,
        roles: vec!["admin".into(), "pool:ml-team".into(), "user".into()],
        issued_at: NOW - 60,
        expires_at: NOW + 3600,
    };
    let token = a.mint(&claims).unwrap();
    let mut list = RevocationList::new(1, NOW);
    list.insert(TokenId([4; 16]), Entry::revoked(NOW + 60));
    let mut rule = SubjectRule {
        expires_at: NOW + 9999,
        ..Default::default()
    };
    rule.drop_roles.insert("admin".into(), NOW);
    list.set_subject("alice".into(), rule);
    let empty = RevocationList::default();

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let plain = a.verify(&token, NOW, &empty).unwrap();
    let cut = a.verify(&token, NOW, &list).unwrap();
    let refused = a.verify(&token[..token.len() - 1], NOW, &empty);
    let (has_admin, cut_has_admin) = (plain.has_role("admin"), cut.has_role("admin"));
    let roles = cut.roles().count();
    let subject_len = cut.subject().len();
    let after = ALLOCATIONS.load(Ordering::Relaxed);

    assert_eq!(after - before, 0, "verify and reading its result allocated");
    assert!(has_admin && !cut_has_admin && roles == 2 && subject_len == 5 && refused.is_err());
    // The counter does see allocations: an owned copy of the claims makes some.
    assert_eq!(cut.claims().roles, ["pool:ml-team", "user"]);
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > after);
}
