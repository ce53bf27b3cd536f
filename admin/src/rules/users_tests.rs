//! Tests of deleting accounts, handing service accounts on, and the service account a token
//! creates (`users.rs`).

use super::*;
use crate::rules::fixtures::{NOW, caller, user};

#[test]
fn who_deletes_whom() {
    let admin = caller("root", &["admin"]);
    let tc = caller("tc", &["token_creator", "user"]);
    let plain = caller("tc", &["user"]);
    let alice = user("alice", &["user"], None);
    let svc = user("svc", &["user"], Some("tc"));
    let code = |r: Result<UserRow, Refusal>| r.unwrap_err().code;
    let gone = decide_delete(&admin, &alice, 0, 1, NOW).unwrap();
    assert!(!gone.active && gone.password_hash.is_none() && gone.void_before == NOW.plus(1));
    let root = user("root", &["admin"], None);
    assert_eq!(
        code(decide_delete(&admin, &root, 0, 5, NOW)),
        ErrorCode::Forbidden
    );
    assert!(decide_delete(&tc, &svc, 0, 1, NOW).is_ok());
    assert_eq!(
        code(decide_delete(&plain, &svc, 0, 1, NOW)),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(decide_delete(&tc, &alice, 0, 1, NOW)),
        ErrorCode::Forbidden
    );
    let others = user("svc", &["user"], Some("bob"));
    assert_eq!(
        code(decide_delete(&tc, &others, 0, 1, NOW)),
        ErrorCode::Forbidden
    );
    let mut held = svc.clone();
    held.active = false;
    held.deactivated_by_admin = true;
    assert_eq!(
        code(decide_delete(&tc, &held, 0, 1, NOW)),
        ErrorCode::DeactivatedByAdmin
    );
    assert!(decide_delete(&admin, &held, 0, 1, NOW).is_ok());
}

#[test]
fn no_deletion_leaves_accounts_unmanaged_or_no_admin() {
    let admin = caller("root", &["admin"]);
    let tc = user("tc", &["token_creator", "user"], None);
    assert_eq!(
        decide_delete(&admin, &tc, 1, 1, NOW).unwrap_err().code,
        ErrorCode::ManagesServiceAccounts
    );
    let other = user("other", &["admin"], None);
    assert_eq!(
        decide_delete(&admin, &other, 0, 0, NOW).unwrap_err().code,
        ErrorCode::LastAdmin
    );
    assert!(decide_delete(&admin, &other, 0, 1, NOW).is_ok());
}

fn manager_change(svc: &UserRow) -> UserChange {
    let admin = caller("root", &["admin"]);
    let edit = check_edit(&UserEdit {
        manager: Some("bob"),
        ..UserEdit::default()
    })
    .unwrap();
    decide_edit(&admin, svc, None, &edit, None, 1, NOW).unwrap()
}

#[test]
fn an_admin_hands_a_service_account_to_a_person_holding_its_roles() {
    let admin = caller("root", &["admin"]);
    let svc = user("svc", &["deploy", "user"], Some("tc"));
    let bob = user("bob", &["deploy", "user"], None);
    let mut change = manager_change(&svc);
    decide_manager(&admin, &mut change, "bob", Some(&bob)).unwrap();
    assert_eq!(change.user.manager.as_deref(), Some("bob"));
    assert_eq!(change.details, ["manager tc -> bob"]);

    let code = |who: &Caller, u: &UserRow, m: Option<&UserRow>| {
        decide_manager(who, &mut manager_change(u), "bob", m)
            .unwrap_err()
            .code
    };
    let tc = caller("tc", &["token_creator", "user"]);
    assert_eq!(code(&tc, &svc, Some(&bob)), ErrorCode::Forbidden);
    let short = user("bob", &["user"], None);
    assert_eq!(code(&admin, &svc, Some(&short)), ErrorCode::RoleNotHeld);
    assert_eq!(code(&admin, &svc, None), ErrorCode::InvalidUser);
    let mut off = bob.clone();
    off.active = false;
    assert_eq!(code(&admin, &svc, Some(&off)), ErrorCode::InvalidUser);
    let bot = user("bob", &["deploy", "user"], Some("tc"));
    assert_eq!(code(&admin, &svc, Some(&bot)), ErrorCode::InvalidUser);
    let person = user("alice", &["user"], None);
    assert_eq!(
        code(&admin, &person, Some(&bob)),
        ErrorCode::ConflictingFields
    );
    let edit = check_edit(&UserEdit {
        manager: Some("bob"),
        ..UserEdit::default()
    })
    .unwrap();
    assert_eq!(
        decide_edit(&tc, &svc, None, &edit, None, 1, NOW)
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "a manager does not hand its account on"
    );
}
