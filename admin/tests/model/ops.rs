//! Operations as proptest generates them. They name actors, users and tokens by position
//! (resolved against the model's state when they run), so any sequence is meaningful whatever
//! happened before it. Names come from small pools so that collisions happen.

use proptest::prelude::*;

/// Users operations create and target. `Ann` collides with `ann` (names may not differ only in
/// case); `root` is the bootstrap admin; `ghost` never exists.
pub const USER_NAMES: [&str; 9] = [
    "ann", "bob", "cy", "Ann", "svc-a", "svc-b", "svc-c", "root", "ghost",
];
/// Token names: three, so that an owner's live tokens clash.
pub const TOKEN_NAMES: [&str; 3] = ["ci", "deploy", "laptop"];

/// Who acts: a token the model says works (`idx` among them), or now and then any token
/// handed out so far, working or not (`stale`).
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub idx: u16,
    pub stale: bool,
}

/// A user: among those the actor manages (itself, its service accounts, everyone for an
/// admin) when `near`, else any name of [`USER_NAMES`].
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub idx: u8,
    pub near: bool,
}

/// A token: among those the actor may manage when `near`, else any token handed out so far.
#[derive(Debug, Clone, Copy)]
pub struct TokenPick {
    pub idx: u16,
    pub near: bool,
}

#[derive(Debug, Clone)]
pub enum Op {
    CreateUser {
        actor: Actor,
        name: u8,
        service: bool,
        /// Bits over `model::ROLES`; `None`: the default (`user`).
        roles: Option<u8>,
    },
    GrantRole {
        actor: Actor,
        user: Target,
        role: u8,
    },
    RemoveRole {
        actor: Actor,
        user: Target,
        role: u8,
    },
    Deactivate {
        actor: Actor,
        user: Target,
    },
    Reactivate {
        actor: Actor,
        user: Target,
    },
    /// Deletes an account (never the bootstrap admin, whom a stalled sequence needs).
    DeleteUser {
        actor: Actor,
        user: Target,
    },
    Mint {
        actor: Actor,
        /// `None`: for oneself.
        owner: Option<Target>,
        roles: Option<u8>,
        /// Ask only for roles (of `roles`) the actor's token carries.
        within: bool,
        name: u8,
    },
    Describe {
        actor: Actor,
        token: TokenPick,
        text: u8,
    },
    /// Brings the expiry forward by `days` (staying at least a day ahead).
    Shorten {
        actor: Actor,
        token: TokenPick,
        days: u8,
    },
    /// Moves the expiry back by `days` (past 90 days from issue when large).
    Extend {
        actor: Actor,
        token: TokenPick,
        days: u8,
    },
    Disable {
        actor: Actor,
        token: TokenPick,
    },
    Enable {
        actor: Actor,
        token: TokenPick,
    },
    Regenerate {
        actor: Actor,
        token: TokenPick,
        /// A day of grace for the old token, or none.
        grace: bool,
        /// Ask for an expiry this many days after the old one's (negative: before).
        expiry_shift: Option<i8>,
    },
    Revoke {
        actor: Actor,
        token: TokenPick,
    },
    Delete {
        actor: Actor,
        token: TokenPick,
    },
    Login {
        user: Target,
        right_password: bool,
    },
    Logout {
        actor: Actor,
    },
    ChangePassword {
        actor: Actor,
        user: Target,
    },
}

impl Op {
    /// The operation's kind, for the statistics.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::CreateUser { service: false, .. } => "create_user",
            Op::CreateUser { service: true, .. } => "create_service_account",
            Op::GrantRole { .. } => "grant_role",
            Op::RemoveRole { .. } => "remove_role",
            Op::Deactivate { .. } => "deactivate",
            Op::Reactivate { .. } => "reactivate",
            Op::DeleteUser { .. } => "delete_user",
            Op::Mint { .. } => "mint",
            Op::Describe { .. } => "edit_description",
            Op::Shorten { .. } => "shorten_expiry",
            Op::Extend { .. } => "extend_expiry",
            Op::Disable { .. } => "disable",
            Op::Enable { .. } => "enable",
            Op::Regenerate { grace: false, .. } => "regenerate",
            Op::Regenerate { grace: true, .. } => "regenerate_with_grace",
            Op::Revoke { .. } => "revoke",
            Op::Delete { .. } => "delete",
            Op::Login { .. } => "login",
            Op::Logout { .. } => "logout",
            Op::ChangePassword { .. } => "change_password",
        }
    }
}

/// Every kind [`Op::kind`] names.
pub const KINDS: [&str; 20] = [
    "create_user",
    "create_service_account",
    "grant_role",
    "remove_role",
    "deactivate",
    "reactivate",
    "delete_user",
    "mint",
    "edit_description",
    "shorten_expiry",
    "extend_expiry",
    "disable",
    "enable",
    "regenerate",
    "regenerate_with_grace",
    "revoke",
    "delete",
    "login",
    "logout",
    "change_password",
];

fn actor() -> impl Strategy<Value = Actor> {
    (any::<u16>(), prop::bool::weighted(0.05)).prop_map(|(idx, stale)| Actor { idx, stale })
}

fn target() -> impl Strategy<Value = Target> {
    (any::<u8>(), prop::bool::weighted(0.6)).prop_map(|(idx, near)| Target { idx, near })
}

fn token() -> impl Strategy<Value = TokenPick> {
    (any::<u16>(), prop::bool::weighted(0.8)).prop_map(|(idx, near)| TokenPick { idx, near })
}

fn role_bits() -> impl Strategy<Value = Option<u8>> {
    prop::option::weighted(0.7, 0u8..32)
}

/// One operation. Weights keep logins and password changes (argon2, slow) a small share.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (actor(), 0u8..9, any::<bool>(), role_bits())
            .prop_map(|(actor, name, service, roles)| Op::CreateUser { actor, name, service, roles }),
        6 => (actor(), target(), 0u8..5).prop_map(|(actor, user, role)| Op::GrantRole { actor, user, role }),
        5 => (actor(), target(), 0u8..5).prop_map(|(actor, user, role)| Op::RemoveRole { actor, user, role }),
        3 => (actor(), target()).prop_map(|(actor, user)| Op::Deactivate { actor, user }),
        4 => (actor(), target()).prop_map(|(actor, user)| Op::Reactivate { actor, user }),
        2 => (actor(), target()).prop_map(|(actor, user)| Op::DeleteUser { actor, user }),
        14 => (actor(), prop::option::weighted(0.5, target()), role_bits(), prop::bool::weighted(0.6), 0u8..3)
            .prop_map(|(actor, owner, roles, within, name)| Op::Mint { actor, owner, roles, within, name }),
        3 => (actor(), token(), any::<u8>()).prop_map(|(actor, token, text)| Op::Describe { actor, token, text }),
        3 => (actor(), token(), 1u8..5).prop_map(|(actor, token, days)| Op::Shorten { actor, token, days }),
        3 => (actor(), token(), prop_oneof![1u8..10, 60u8..80])
            .prop_map(|(actor, token, days)| Op::Extend { actor, token, days }),
        5 => (actor(), token()).prop_map(|(actor, token)| Op::Disable { actor, token }),
        5 => (actor(), token()).prop_map(|(actor, token)| Op::Enable { actor, token }),
        7 => (actor(), token(), any::<bool>(), prop::option::weighted(0.3, prop_oneof![-3i8..0, 1i8..4, 60i8..80]))
            .prop_map(|(actor, token, grace, expiry_shift)| Op::Regenerate { actor, token, grace, expiry_shift }),
        4 => (actor(), token()).prop_map(|(actor, token)| Op::Revoke { actor, token }),
        3 => (actor(), token()).prop_map(|(actor, token)| Op::Delete { actor, token }),
        3 => (target(), prop::bool::weighted(0.8))
            .prop_map(|(user, right_password)| Op::Login { user, right_password }),
        2 => actor().prop_map(|actor| Op::Logout { actor }),
        1 => (actor(), target()).prop_map(|(actor, user)| Op::ChangePassword { actor, user }),
    ]
}
