//! Runs a sequence of operations against a real admin over HTTP and holds every answer, and
//! every token's fate at the admin and at the edge, to what the model says.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};
use tollgate_admin::times::{now, parse_time, rfc3339};
use tollgate_shared::{Authority, Document};

use crate::harness::{ADMIN, ADMIN_PASSWORD, Admin, PASSWORD, Resp, keyring};
use crate::model::{
    self, Caller, DAY, DEFAULT_TTL, Decision, Kind, Model, ROLES, Refusal, Roles, SESSION_TTL,
    Token, UNAUTHENTICATED,
};
use crate::ops::{Actor, Op, TOKEN_NAMES, Target, TokenPick, USER_NAMES};

/// The admin the test reads everything through. Operations never act as it nor on it.
pub const OBSERVER: &str = "observer";
/// A new token's answer says `active` though its owner's cut-off already voids it.
/// How many trace lines a failure shows.
const TRACE: usize = 60;

/// Counts over a whole run.
#[derive(Debug, Default)]
pub struct Stats {
    pub sequences: u64,
    pub operations: u64,
    /// Per kind: successes, and refusals by status.
    pub by_kind: BTreeMap<&'static str, (u64, BTreeMap<u16, u64>)>,
    /// Refusal codes seen.
    pub codes: BTreeMap<String, u64>,
    /// Uses of each `KNOWN` allowance.
    pub known: BTreeMap<&'static str, u64>,
    pub admin_checks: u64,
    pub edge_checks: u64,
    pub record_checks: u64,
}

impl Stats {
    fn count(&mut self, kind: &'static str, status: u16, code: &str) {
        let e = self.by_kind.entry(kind).or_default();
        if status < 300 {
            e.0 += 1;
        } else {
            *e.1.entry(status).or_default() += 1;
            *self.codes.entry(code.to_owned()).or_default() += 1;
        }
    }
}

/// What the driver expects of an answer, and what it learns from it.
struct Outcome {
    kind: &'static str,
    success: u16,
    decision: Decision,
}

pub struct Run<'a> {
    pub a: &'a Admin,
    pub model: Model,
    observer: String,
    trace: Vec<String>,
    passwords: u32,
    step: usize,
    /// Tokens to ask the admin about after the current step.
    touched: Vec<String>,
    /// The actor of the next operation, when the driver chooses it (prologue, rescue).
    forced: Option<Token>,
    pub stats: &'a mut Stats,
}

type Check = Result<(), String>;

fn roles_json(v: &Value) -> Roles {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn bits(mask: u8) -> Roles {
    ROLES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| (*r).to_owned())
        .collect()
}

fn time_of(v: &Value) -> i64 {
    v.as_str().and_then(|s| parse_time(s).ok()).unwrap_or(-1)
}

fn show(r: &Resp) -> String {
    let body = String::from_utf8_lossy(&r.body);
    let body: String = body.chars().take(300).collect();
    format!("{} {body}", r.status)
}

impl<'a> Run<'a> {
    /// A fresh model of a fresh server: the bootstrap admin with its session, and the observer.
    pub async fn start(a: &'a Admin, stats: &'a mut Stats) -> Run<'a> {
        let mut model = Model::default();
        let me = a.get("/api/v1/me", &a.root).await.expect(200);
        model.users.insert(
            ADMIN.to_owned(),
            model::User {
                name: ADMIN.to_owned(),
                service: false,
                manager: None,
                roles: roles_json(&me["user"]["roles"]),
                active: true,
                deactivated_by_admin: false,
                password: Some(ADMIN_PASSWORD.to_owned()),
                void_before: 0,
                drops: BTreeMap::new(),
            },
        );
        let t = &me["token"];
        model.add_token(Token {
            id: t["id"].as_str().unwrap().to_owned(),
            text: a.root.clone(),
            owner: ADMIN.to_owned(),
            kind: Kind::Session,
            name: t["name"].as_str().unwrap().to_owned(),
            description: String::new(),
            signed_roles: roles_json(&t["roles"]),
            roles: roles_json(&t["roles"]),
            issued_at: time_of(&t["created_at"]),
            expires_at: time_of(&t["expires_at"]),
            enabled: true,
            disabled_by_admin: false,
            revoked_at: None,
            grace_until: None,
            deleted: false,
        });
        // Two personal tokens of the admin's, so that one lost session does not end the run.
        for name in ["admin-cli", "admin-ci"] {
            // `admin` only when asked for by name.
            let all = ["admin", "token_creator", "user"];
            let (text, rec) = a.mint(&a.root, json!({"name": name, "roles": all})).await;
            let roles = roles_json(&rec["roles"]);
            model.add_token(Token {
                id: rec["id"].as_str().unwrap().to_owned(),
                text,
                owner: ADMIN.to_owned(),
                kind: Kind::Personal,
                name: name.to_owned(),
                description: String::new(),
                signed_roles: roles.clone(),
                roles,
                issued_at: time_of(&rec["created_at"]),
                expires_at: time_of(&rec["expires_at"]),
                enabled: true,
                disabled_by_admin: false,
                revoked_at: None,
                grace_until: None,
                deleted: false,
            });
        }
        // The observer: an admin service account no operation touches, read through a token.
        a.post(
            "/api/v1/users",
            &a.root,
            json!({"name": OBSERVER, "service_account": true, "roles": ["admin"]}),
        )
        .await
        .expect(201);
        let (observer, rec) = a
            .mint(
                &a.root,
                json!({"name": "observer", "user": OBSERVER, "roles": ["admin"]}),
            )
            .await;
        let observer_token = Token {
            id: rec["id"].as_str().unwrap().to_owned(),
            text: observer.clone(),
            owner: OBSERVER.to_owned(),
            kind: Kind::Service,
            name: "observer".to_owned(),
            description: String::new(),
            signed_roles: model::roles_of(&["admin"]),
            roles: model::roles_of(&["admin"]),
            issued_at: time_of(&rec["created_at"]),
            expires_at: time_of(&rec["expires_at"]),
            enabled: true,
            disabled_by_admin: false,
            revoked_at: None,
            grace_until: None,
            deleted: false,
        };
        model.users.insert(
            OBSERVER.to_owned(),
            model::User {
                name: OBSERVER.to_owned(),
                service: true,
                manager: None,
                roles: model::roles_of(&["admin"]),
                active: true,
                deactivated_by_admin: false,
                password: None,
                void_before: 0,
                drops: BTreeMap::new(),
            },
        );
        model.add_token(observer_token);
        let mut run = Run {
            a,
            model,
            observer,
            trace: Vec::new(),
            passwords: 0,
            step: 0,
            touched: Vec::new(),
            forced: None,
            stats,
        };
        run.prologue().await;
        run
    }

    /// Every sequence starts from a token creator (`ann`) managing a service account
    /// (`svc-a`), each with a token, made by the same operations and checks as the rest (on the
    /// way, `ann` tries to undo an admin's deactivation of `svc-a`, and is refused).
    async fn prologue(&mut self) {
        let first = |owner: &str, m: &Model| {
            m.tokens
                .iter()
                .rfind(|t| t.owner == owner)
                .cloned()
                .expect("a token")
        };
        let creator_roles = 0b01110; // token_creator, user, deploy
        let steps = [
            (
                ADMIN,
                Op::CreateUser {
                    actor: Actor {
                        idx: 0,
                        stale: false,
                    },
                    name: 0,
                    service: false,
                    roles: Some(creator_roles),
                },
            ),
            (
                ADMIN,
                Op::Mint {
                    actor: Actor {
                        idx: 0,
                        stale: false,
                    },
                    owner: Some(Target {
                        idx: 0,
                        near: false,
                    }),
                    roles: None,
                    within: false,
                    name: 0,
                },
            ),
            (
                "ann",
                Op::CreateUser {
                    actor: Actor {
                        idx: 0,
                        stale: false,
                    },
                    name: 4,
                    service: true,
                    roles: Some(creator_roles),
                },
            ),
            // Only an admin undoes an admin's deactivation: every sequence sees that refusal once.
            (
                ADMIN,
                Op::Deactivate {
                    actor: Actor {
                        idx: 0,
                        stale: false,
                    },
                    user: Target {
                        idx: 4,
                        near: false,
                    },
                },
            ),
            (
                "ann",
                Op::Reactivate {
                    actor: Actor {
                        idx: 0,
                        stale: false,
                    },
                    user: Target {
                        idx: 4,
                        near: false,
                    },
                },
            ),
            (
                ADMIN,
                Op::Reactivate {
                    actor: Actor {
                        idx: 0,
                        stale: false,
                    },
                    user: Target {
                        idx: 4,
                        near: false,
                    },
                },
            ),
            (
                "ann",
                Op::Mint {
                    actor: Actor {
                        idx: 0,
                        stale: false,
                    },
                    owner: Some(Target {
                        idx: 4,
                        near: false,
                    }),
                    roles: None,
                    within: false,
                    name: 1,
                },
            ),
        ];
        for (who, op) in steps {
            self.forced = Some(first(who, &self.model));
            let r = self.step(&op).await;
            self.forced = None;
            if let Err(e) = r {
                panic!("the prologue failed: {e}");
            }
        }
    }

    fn note(&mut self, line: String) {
        self.trace.push(line);
    }

    fn fail(&self, what: String) -> String {
        let from = self.trace.len().saturating_sub(TRACE);
        let mut out = format!(
            "step {}: {what}\n--- the last {} steps (op => answer) ---\n",
            self.step,
            self.trace.len() - from
        );
        for line in &self.trace[from..] {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Tokens operations may use and target (all but the observer's).
    fn pool(&self) -> Vec<&Token> {
        self.model
            .tokens
            .iter()
            .filter(|t| t.owner != OBSERVER)
            .collect()
    }

    fn actor(&self, pick: Actor) -> Option<Token> {
        if let Some(t) = &self.forced {
            return Some(t.clone());
        }
        let now = now();
        let all = self.pool();
        let live: Vec<&Token> = all
            .iter()
            .copied()
            .filter(|t| self.model.admin_accepts(t, now))
            .collect();
        let from = if pick.stale || live.is_empty() {
            &all
        } else {
            &live
        };
        if from.is_empty() {
            return None;
        }
        Some(from[pick.idx as usize % from.len()].clone())
    }

    fn user_name(&self, caller: Option<&Caller>, pick: Target) -> String {
        if pick.near {
            let near: Vec<&String> = self
                .model
                .users
                .values()
                .filter(|u| u.name != OBSERVER)
                .filter(|u| match caller {
                    Some(c) if !c.is_admin() => {
                        u.name == c.user || u.manager.as_deref() == Some(c.user.as_str())
                    }
                    _ => true,
                })
                .map(|u| &u.name)
                .collect();
            if !near.is_empty() {
                return near[pick.idx as usize % near.len()].clone();
            }
        }
        USER_NAMES[pick.idx as usize % USER_NAMES.len()].to_owned()
    }

    fn token_pick(&self, caller: Option<&Caller>, pick: TokenPick) -> Token {
        let all = self.pool();
        if pick.near {
            let near: Vec<&Token> = all
                .iter()
                .copied()
                .filter(|t| !t.deleted && (t.revoked_at.is_none() || pick.idx % 4 == 0))
                .filter(|t| caller.is_none_or(|c| self.model.manages_tokens_of(c, &t.owner)))
                .collect();
            if !near.is_empty() {
                return near[pick.idx as usize % near.len()].clone();
            }
        }
        all[pick.idx as usize % all.len()].clone()
    }

    /// Runs one operation and every check after it. When no token works any more, the
    /// operation gives way to a login (of someone the model says can log in, if anyone can).
    pub async fn step(&mut self, op: &Op) -> Check {
        let at = now();
        let alive = self.pool().iter().any(|t| self.model.admin_accepts(t, at));
        if !alive && self.forced.is_none() && !matches!(op, Op::Login { .. }) {
            let can_log_in = self.model.users.values().any(|u| {
                u.password
                    .as_deref()
                    .is_some_and(|p| self.model.login_ok(&u.name, p))
            });
            if !can_log_in {
                self.rescue().await?;
            }
            let people: Vec<(String, String)> = self
                .model
                .users
                .values()
                .filter_map(|u| Some((u.name.clone(), u.password.clone()?)))
                .filter(|(name, password)| self.model.login_ok(name, password))
                .collect();
            if let Some(i) = people.iter().position(|_| true) {
                let pick = (self.step + i) % people.len();
                let idx = self
                    .model
                    .users
                    .values()
                    .filter(|u| !u.service)
                    .position(|u| u.name == people[pick].0)
                    .expect("a person");
                let login = Op::Login {
                    user: Target {
                        idx: idx as u8,
                        near: true,
                    },
                    right_password: true,
                };
                return Box::pin(self.step(&login)).await;
            }
        }
        self.step += 1;
        self.touched.clear();
        let kind = op.kind();
        self.stats.operations += 1;
        // The actor, and who the model says it is (None: the admin must refuse it, 401).
        let (actor, caller) = match op {
            Op::Login { .. } => (None, None),
            Op::CreateUser { actor, .. }
            | Op::GrantRole { actor, .. }
            | Op::RemoveRole { actor, .. }
            | Op::Deactivate { actor, .. }
            | Op::Reactivate { actor, .. }
            | Op::DeleteUser { actor, .. }
            | Op::Mint { actor, .. }
            | Op::Describe { actor, .. }
            | Op::Shorten { actor, .. }
            | Op::Extend { actor, .. }
            | Op::Disable { actor, .. }
            | Op::Enable { actor, .. }
            | Op::Regenerate { actor, .. }
            | Op::Revoke { actor, .. }
            | Op::Delete { actor, .. }
            | Op::Logout { actor }
            | Op::ChangePassword { actor, .. } => {
                let Some(t) = self.actor(*actor) else {
                    return Ok(());
                };
                let c = self.model.caller(&t, now());
                (Some(t), c)
            }
        };
        if let Some(t) = &actor {
            self.touched.push(t.id.clone());
        }
        let who = match (&actor, &caller) {
            (Some(t), Some(c)) => format!(
                "{} with {} {:?} [{}]",
                c.user,
                t.kind.as_str(),
                t.name,
                c.roles.iter().cloned().collect::<Vec<_>>().join(",")
            ),
            (Some(t), None) => format!("{} with a refused token {:?}", t.owner, t.name),
            (None, _) => "nobody".to_owned(),
        };
        let token_text = actor.as_ref().map(|t| t.text.clone()).unwrap_or_default();
        // Unauthenticated callers: every authenticated operation is refused with 401.
        let deny = Decision::from(Err(UNAUTHENTICATED));
        let c = caller.clone();
        let t0 = now();
        let result = match op {
            Op::CreateUser {
                name,
                service,
                roles,
                ..
            } => {
                let name = USER_NAMES[*name as usize % 7];
                let roles_set = roles.map(bits);
                let mut body = json!({"name": name, "service_account": service});
                if let Some(r) = &roles_set {
                    body["roles"] = json!(r);
                }
                if !service {
                    body["password"] = json!(PASSWORD);
                }
                let roles_set = roles_set.unwrap_or_else(|| model::roles_of(&["user"]));
                let decision = match &c {
                    Some(c) => self.model.decide_create_user(c, name, *service, &roles_set),
                    None => deny,
                };
                let desc = format!(
                    "{who}: create {} {name} {:?}",
                    if *service { "service account" } else { "user" },
                    roles_set
                );
                let r = self.a.post("/api/v1/users", &token_text, body).await;
                let o = Outcome {
                    kind,
                    success: 201,
                    decision,
                };
                let applied = self.answer(&desc, &o, &r)?;
                if applied {
                    let c = c.expect("a caller");
                    let password = (!service).then(|| PASSWORD.to_owned());
                    self.model
                        .create_user(&c, name, *service, roles_set.clone(), password);
                    let v = r.json();
                    let u = &self.model.users[name];
                    let want = json!({
                        "roles": u.roles, "service_account": u.service,
                        "manager": u.manager, "active": true,
                    });
                    for key in ["roles", "service_account", "manager", "active"] {
                        if v[key] != want[key] {
                            return Err(self.fail(format!(
                                "{desc}: answer {key} is {}, the model says {}",
                                v[key], want[key]
                            )));
                        }
                    }
                }
                Ok(())
            }
            Op::GrantRole { user, role, .. } | Op::RemoveRole { user, role, .. } => {
                let grant = matches!(op, Op::GrantRole { .. });
                let name = self.user_name(c.as_ref(), *user);
                let role = ROLES[*role as usize % ROLES.len()];
                let decision = match &c {
                    Some(c) if grant => self.model.decide_grant(c, &name, role),
                    Some(c) => self.model.decide_remove(c, &name, role),
                    None => deny,
                };
                let desc = format!(
                    "{who}: {} {role} {} {name}",
                    if grant { "grant" } else { "remove" },
                    if grant { "to" } else { "from" }
                );
                let body = if grant {
                    json!({"add_roles": [role]})
                } else {
                    json!({"remove_roles": [role]})
                };
                let r = self
                    .a
                    .patch(&format!("/api/v1/users/{name}"), &token_text, body)
                    .await;
                let t1 = now();
                let o = Outcome {
                    kind,
                    success: 200,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    if grant {
                        self.model.grant(&name, role);
                    } else {
                        self.model
                            .remove_roles(&name, &model::roles_of(&[role]), t1);
                        self.settle(t0, t1).await;
                    }
                    self.check_user_answer(&desc, &name, &r)?;
                }
                Ok(())
            }
            Op::Deactivate { user, .. } | Op::Reactivate { user, .. } => {
                let active = matches!(op, Op::Reactivate { .. });
                let name = self.user_name(c.as_ref(), *user);
                let decision = match &c {
                    Some(c) => self.model.decide_set_active(c, &name, active),
                    None => deny,
                };
                let desc = format!(
                    "{who}: {} {name}",
                    if active { "reactivate" } else { "deactivate" }
                );
                let r = self
                    .a
                    .patch(
                        &format!("/api/v1/users/{name}"),
                        &token_text,
                        json!({"active": active}),
                    )
                    .await;
                let t1 = now();
                let o = Outcome {
                    kind,
                    success: 200,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    let c = c.expect("a caller");
                    self.model.set_active(&c, &name, active, t1);
                    if !active {
                        self.settle(t0, t1).await;
                    }
                    self.check_user_answer(&desc, &name, &r)?;
                }
                Ok(())
            }
            Op::DeleteUser { user, .. } => {
                let mut name = self.user_name(c.as_ref(), *user);
                // The bootstrap admin stays: `rescue` brings it back when nobody else can act.
                if name == "root" {
                    name = "ghost".to_owned();
                }
                let decision = match &c {
                    Some(c) => self.model.decide_delete_user(c, &name),
                    None => deny,
                };
                let desc = format!("{who}: delete account {name}");
                let r = self
                    .a
                    .delete(&format!("/api/v1/users/{name}"), &token_text)
                    .await;
                let t1 = now();
                let o = Outcome {
                    kind,
                    success: 204,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    self.model.delete_user(&name, t1);
                    self.settle(t0, t1).await;
                }
                Ok(())
            }
            Op::ChangePassword { user, .. } => {
                let name = self.user_name(c.as_ref(), *user);
                self.passwords += 1;
                let password = format!("new password {}", self.passwords);
                let decision = match &c {
                    Some(c) => self.model.decide_password(c, &name),
                    None => deny,
                };
                let desc = format!("{who}: change the password of {name}");
                let r = self
                    .a
                    .patch(
                        &format!("/api/v1/users/{name}"),
                        &token_text,
                        json!({"password": password}),
                    )
                    .await;
                let t1 = now();
                let o = Outcome {
                    kind,
                    success: 200,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    self.model.set_password(&name, password, t1);
                    self.check_user_answer(&desc, &name, &r)?;
                    let ids: Vec<String> = self
                        .model
                        .tokens
                        .iter()
                        .filter(|t| t.owner == name && t.kind == Kind::Session)
                        .map(|t| t.id.clone())
                        .collect();
                    self.touched.extend(ids);
                }
                Ok(())
            }
            Op::Login {
                user,
                right_password,
            } => {
                let name = if user.near {
                    let people: Vec<&String> = self
                        .model
                        .users
                        .values()
                        .filter(|u| !u.service)
                        .map(|u| &u.name)
                        .collect();
                    people[user.idx as usize % people.len()].clone()
                } else {
                    USER_NAMES[user.idx as usize % USER_NAMES.len()].to_owned()
                };
                let password = match self.model.user(&name).and_then(|u| u.password.clone()) {
                    Some(p) if *right_password => p,
                    _ => "not the password".to_owned(),
                };
                let ok = self.model.login_ok(&name, &password);
                let decision = Decision::from(if ok {
                    Ok(())
                } else {
                    Err(Refusal {
                        status: 401,
                        code: "invalid_credentials",
                    })
                });
                let desc = format!(
                    "log in as {name} with {} password",
                    if *right_password { "the" } else { "a wrong" }
                );
                let body =
                    serde_json::to_vec(&json!({"username": name, "password": password})).unwrap();
                let r = self
                    .a
                    .raw("POST", "/api/v1/login", None, Some(body), &[])
                    .await;
                let o = Outcome {
                    kind,
                    success: 200,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    let v = r.json();
                    let rec = &v["record"];
                    let roles = self.model.users[&name].roles.clone();
                    let t = self.new_token(&v["token"], rec, &name, Kind::Session, roles);
                    if time_of(&rec["expires_at"]) - t.issued_at != SESSION_TTL {
                        return Err(
                            self.fail(format!("{desc}: the session's lifetime is not 12 h: {rec}"))
                        );
                    }
                    self.check_record(&desc, &t, rec)?;
                    self.touched.push(t.id.clone());
                    self.model.add_token(t);
                }
                Ok(())
            }
            Op::Logout { .. } => {
                let decision = match &c {
                    Some(c) => self.model.decide_logout(c),
                    None => deny,
                };
                let desc = format!("{who}: log out");
                let r = self
                    .a
                    .raw("POST", "/api/v1/logout", Some(&token_text), None, &[])
                    .await;
                let o = Outcome {
                    kind,
                    success: 204,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    let id = actor.as_ref().expect("an actor").id.clone();
                    self.model.revoke(&id, t0);
                }
                Ok(())
            }
            Op::Mint {
                owner,
                roles,
                within,
                name,
                ..
            } => {
                let owner_name = owner.map(|o| self.user_name(c.as_ref(), o));
                let wanted = roles.map(bits).map(|w| match (&caller, within) {
                    (Some(c), true) => w.intersection(&c.roles).cloned().collect(),
                    _ => w,
                });
                let tname = TOKEN_NAMES[*name as usize % TOKEN_NAMES.len()];
                let mut body = json!({"name": tname});
                if let Some(o) = &owner_name {
                    body["user"] = json!(o);
                }
                if let Some(w) = &wanted {
                    body["roles"] = json!(w);
                }
                let plan = match &c {
                    Some(c) => {
                        self.model
                            .decide_mint(c, owner_name.as_deref(), wanted.as_ref(), tname)
                    }
                    None => Err(UNAUTHENTICATED),
                };
                let decision = Decision::from(plan.clone().map(|_| ()));
                let desc = format!(
                    "{who}: mint {tname:?} for {} with {}",
                    owner_name.as_deref().unwrap_or("itself"),
                    wanted
                        .as_ref()
                        .map_or("default roles".to_owned(), |w| format!("{w:?}"))
                );
                let r = self.a.post("/api/v1/tokens", &token_text, body).await;
                let o = Outcome {
                    kind,
                    success: 201,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    let (roles, tkind) = plan.expect("a plan");
                    let c = c.expect("a caller");
                    let owner = owner_name.unwrap_or(c.user);
                    let v = r.json();
                    let rec = &v["record"];
                    let t = self.new_token(&v["token"], rec, &owner, tkind, roles);
                    if t.expires_at - t.issued_at != DEFAULT_TTL {
                        return Err(self.fail(format!("{desc}: not the default lifetime: {rec}")));
                    }
                    self.check_record(&desc, &t, rec)?;
                    self.touched.push(t.id.clone());
                    self.model.add_token(t);
                }
                Ok(())
            }
            Op::Describe { token, text, .. } => {
                let t = self.token_pick(c.as_ref(), *token);
                let d = format!("note {text}");
                let decision = match &c {
                    Some(c) => self.model.decide_patch(c, &t.id, None, None, t0),
                    None => deny,
                };
                let desc = format!("{who}: describe {}", self.token_name(&t));
                self.patch_token(
                    &desc,
                    kind,
                    decision,
                    &t,
                    c.as_ref(),
                    &token_text,
                    json!({"description": d}),
                    Some(d),
                    None,
                    None,
                )
                .await
            }
            Op::Shorten { token, days, .. } | Op::Extend { token, days, .. } => {
                let t = self.token_pick(c.as_ref(), *token);
                let shift = i64::from(*days) * DAY;
                let at = if matches!(op, Op::Shorten { .. }) {
                    (t.expires_at - shift).max(t0 + DAY)
                } else {
                    t.expires_at + shift
                };
                let decision = match &c {
                    Some(c) => self.model.decide_patch(c, &t.id, Some(at), None, t0),
                    None => deny,
                };
                let desc = format!(
                    "{who}: move the expiry of {} by {} days",
                    self.token_name(&t),
                    (at - t.expires_at) / DAY
                );
                self.patch_token(
                    &desc,
                    kind,
                    decision,
                    &t,
                    c.as_ref(),
                    &token_text,
                    json!({"expires_at": rfc3339(at)}),
                    None,
                    Some(at),
                    None,
                )
                .await
            }
            Op::Disable { token, .. } | Op::Enable { token, .. } => {
                let enable = matches!(op, Op::Enable { .. });
                let t = self.token_pick(c.as_ref(), *token);
                let decision = match &c {
                    Some(c) => self.model.decide_patch(c, &t.id, None, Some(enable), t0),
                    None => deny,
                };
                let desc = format!(
                    "{who}: {} {}",
                    if enable { "enable" } else { "disable" },
                    self.token_name(&t)
                );
                self.patch_token(
                    &desc,
                    kind,
                    decision,
                    &t,
                    c.as_ref(),
                    &token_text,
                    json!({"enabled": enable}),
                    None,
                    None,
                    Some(enable),
                )
                .await
            }
            Op::Revoke { token, .. } => {
                let t = self.token_pick(c.as_ref(), *token);
                let decision = match &c {
                    Some(c) => self.model.decide_revoke(c, &t.id, t0),
                    None => deny,
                };
                let desc = format!("{who}: revoke {}", self.token_name(&t));
                let r = self
                    .a
                    .post(
                        &format!("/api/v1/tokens/{}/revoke", t.id),
                        &token_text,
                        json!({}),
                    )
                    .await;
                self.touched.push(t.id.clone());
                let o = Outcome {
                    kind,
                    success: 200,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    self.model.revoke(&t.id, t0);
                    let now = now();
                    let m = self.model.token(&t.id).expect("known").clone();
                    self.check_record_at(&desc, &m, &r.json(), now, false)?;
                }
                Ok(())
            }
            Op::Delete { token, .. } => {
                let t = self.token_pick(c.as_ref(), *token);
                let decision = match &c {
                    Some(c) => self.model.decide_delete(c, &t.id),
                    None => deny,
                };
                let desc = format!("{who}: delete {}", self.token_name(&t));
                let r = self
                    .a
                    .delete(&format!("/api/v1/tokens/{}", t.id), &token_text)
                    .await;
                self.touched.push(t.id.clone());
                let o = Outcome {
                    kind,
                    success: 204,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    self.model.delete(&t.id, t0);
                }
                Ok(())
            }
            Op::Regenerate {
                token,
                grace,
                expiry_shift,
                ..
            } => {
                let t = self.token_pick(c.as_ref(), *token);
                let asked = expiry_shift.map(|d| t.expires_at + i64::from(d) * DAY);
                let (decision, new_expiry) = match &c {
                    Some(c) => self.model.decide_regenerate(c, &t.id, asked, t0),
                    None => (deny, 0),
                };
                let mut body = json!({});
                if *grace {
                    body["grace_seconds"] = json!(DAY);
                }
                if let Some(at) = asked {
                    body["expires_at"] = json!(rfc3339(at));
                }
                let desc = format!(
                    "{who}: regenerate {}{}{}",
                    self.token_name(&t),
                    if *grace { " with a day's grace" } else { "" },
                    asked.map_or(String::new(), |at| format!(
                        ", expiring {} days after it",
                        (at - t.expires_at) / DAY
                    ))
                );
                let r = self
                    .a
                    .post(
                        &format!("/api/v1/tokens/{}/regenerate", t.id),
                        &token_text,
                        body,
                    )
                    .await;
                self.touched.push(t.id.clone());
                let o = Outcome {
                    kind,
                    success: 201,
                    decision,
                };
                if self.answer(&desc, &o, &r)? {
                    let v = r.json();
                    let rec = &v["record"];
                    let old = self.model.token(&t.id).expect("known").clone();
                    let mut new =
                        self.new_token(&v["token"], rec, &old.owner, old.kind, old.roles.clone());
                    new.name = old.name.clone();
                    new.description = old.description.clone();
                    if new.expires_at != new_expiry {
                        return Err(self.fail(format!(
                            "{desc}: the new token expires at {}, the model says {} (the old one: {})",
                            rfc3339(new.expires_at), rfc3339(new_expiry), rfc3339(old.expires_at)
                        )));
                    }
                    if rec["replaces"] != json!(old.id) {
                        return Err(self.fail(format!("{desc}: replaces is {}", rec["replaces"])));
                    }
                    let grace_until = grace.then(|| time_of(&v["previous"]["grace_until"]));
                    if let Some(g) = grace_until
                        && !(t0 + DAY..=now() + DAY).contains(&g)
                    {
                        return Err(self.fail(format!("{desc}: grace until {}", v["previous"])));
                    }
                    self.check_record(&desc, &new, rec)?;
                    self.touched.push(new.id.clone());
                    self.model
                        .regenerate(&t.id, grace_until, new.issued_at, new);
                    let now = now();
                    let old = self.model.token(&t.id).expect("known").clone();
                    // Under the KNOWN allowance the answer describes a voided token as live.
                    let known = decision.verdict.is_err();
                    self.check_record_at(&desc, &old, &v["previous"], now, known)?;
                }
                Ok(())
            }
        };
        result?;
        self.check_everything().await
    }

    /// Nobody can act or log in: the observer reactivates the bootstrap admin and gives it
    /// back the admin role (operations like any other, checked the same way).
    async fn rescue(&mut self) -> Check {
        self.forced = self
            .model
            .tokens
            .iter()
            .find(|t| t.owner == OBSERVER)
            .cloned();
        let root = Target {
            idx: 7,
            near: false,
        };
        let actor = Actor {
            idx: 0,
            stale: false,
        };
        let mut r = Box::pin(self.step(&Op::Reactivate { actor, user: root })).await;
        if r.is_ok() {
            let op = Op::GrantRole {
                actor,
                user: root,
                role: 0,
            };
            r = Box::pin(self.step(&op)).await;
        }
        self.forced = None;
        r
    }

    fn token_name(&self, t: &Token) -> String {
        format!(
            "{}'s {} {:?} ({})",
            t.owner,
            t.kind.as_str(),
            t.name,
            &t.id[..8]
        )
    }

    /// After a cut-off decided at a second the driver cannot tell (the request straddled two),
    /// waits for the next second so no later token can share the cut-off's second.
    async fn settle(&self, t0: i64, t1: i64) {
        if t0 != t1 {
            while now() <= t1 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// A token just handed out, from its text and record.
    fn new_token(&self, text: &Value, rec: &Value, owner: &str, kind: Kind, roles: Roles) -> Token {
        Token {
            id: rec["id"].as_str().unwrap_or_default().to_owned(),
            text: text.as_str().unwrap_or_default().to_owned(),
            owner: owner.to_owned(),
            kind,
            name: rec["name"].as_str().unwrap_or_default().to_owned(),
            description: String::new(),
            signed_roles: roles.clone(),
            roles,
            issued_at: time_of(&rec["created_at"]),
            expires_at: time_of(&rec["expires_at"]),
            enabled: true,
            disabled_by_admin: false,
            revoked_at: None,
            grace_until: None,
            deleted: false,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn patch_token(
        &mut self,
        desc: &str,
        kind: &'static str,
        decision: Decision,
        t: &Token,
        c: Option<&Caller>,
        token_text: &str,
        body: Value,
        description: Option<String>,
        expires_at: Option<i64>,
        enable: Option<bool>,
    ) -> Check {
        let r = self
            .a
            .patch(&format!("/api/v1/tokens/{}", t.id), token_text, body)
            .await;
        self.touched.push(t.id.clone());
        let o = Outcome {
            kind,
            success: 200,
            decision,
        };
        if self.answer(desc, &o, &r)? {
            let c = c.expect("a caller").clone();
            self.model.patch(&c, &t.id, description, expires_at, enable);
            let m = self.model.token(&t.id).expect("known").clone();
            let known = decision.verdict.is_err();
            self.check_record_at(desc, &m, &r.json(), now(), known)?;
        }
        Ok(())
    }

    /// Holds an answer to the decision; true if the change took effect (and the model must
    /// apply it).
    fn answer(&mut self, desc: &str, o: &Outcome, r: &Resp) -> Result<bool, String> {
        let code = if r.status >= 300 {
            serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_default()
        } else {
            String::new()
        };
        self.stats.count(o.kind, r.status, &code);
        let line = format!("{:>4} {desc} => {}", self.step, show(r));
        if std::env::var_os("TOLLGATE_MODEL_TRACE").is_some() {
            println!("{line}");
        }
        self.note(line);
        let matches = |verdict: Result<(), Refusal>| match verdict {
            Ok(()) => r.status == o.success,
            Err(f) => r.status == f.status && (f.code == "*" || f.code == code),
        };
        if matches(o.decision.verdict) {
            return Ok(o.decision.verdict.is_ok());
        }
        // KNOWN: a server behaviour the rules call a bug, allowed here so the run goes on;
        // each use is counted and printed, and listed in the final report.
        if let Some((name, verdict)) = o.decision.known
            && matches(verdict)
        {
            *self.stats.known.entry(name).or_default() += 1;
            self.note(format!("     KNOWN {name}"));
            return Ok(verdict.is_ok());
        }
        let want = match o.decision.verdict {
            Ok(()) => format!("{}", o.success),
            Err(f) => format!("{} {}", f.status, f.code),
        };
        Err(self.fail(format!(
            "{desc}: the model expects {want}, the admin answered {}",
            show(r)
        )))
    }

    fn check_user_answer(&self, desc: &str, name: &str, r: &Resp) -> Check {
        let v = r.json();
        let u = &self.model.users[name];
        if roles_json(&v["roles"]) != u.roles || v["active"] != json!(u.active) {
            return Err(self.fail(format!(
                "{desc}: answer {v}, the model says roles {:?}, active {}",
                u.roles, u.active
            )));
        }
        Ok(())
    }

    /// The record in the answer that hands out a new token (mint, login, regenerate).
    fn check_record(&mut self, desc: &str, t: &Token, rec: &Value) -> Check {
        self.check_record_at(desc, t, rec, now(), false)
    }

    /// A token record against the model. `stale_state`: the answer to a change the rules
    /// refuse but the server makes (`KNOWN`): its state is not held to the model's.
    fn check_record_at(
        &self,
        desc: &str,
        t: &Token,
        rec: &Value,
        now: i64,
        stale_state: bool,
    ) -> Check {
        let mut wrong = Vec::new();
        let state = model::record_state(&self.model, t, now);
        if !stale_state && rec["state"] != json!(state) {
            wrong.push(format!("state {} (model: {state})", rec["state"]));
        }
        if roles_json(&rec["roles"]) != t.roles {
            wrong.push(format!("roles {} (model: {:?})", rec["roles"], t.roles));
        }
        if rec["enabled"] != json!(t.enabled) {
            wrong.push(format!("enabled {} (model: {})", rec["enabled"], t.enabled));
        }
        if time_of(&rec["expires_at"]) != t.expires_at {
            wrong.push(format!(
                "expires_at {} (model: {})",
                rec["expires_at"],
                rfc3339(t.expires_at)
            ));
        }
        if rec["owner"] != json!(t.owner) || rec["kind"] != json!(t.kind.as_str()) {
            wrong.push(format!("owner/kind {}/{}", rec["owner"], rec["kind"]));
        }
        if rec["name"] != json!(t.name) || rec["description"] != json!(t.description) {
            wrong.push(format!(
                "name/description {}/{}",
                rec["name"], rec["description"]
            ));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(self.fail(format!(
                "{desc}: the record of {} says {}",
                self.token_name(t),
                wrong.join("; ")
            )))
        }
    }

    /// After every step: each user's record, each token's record, each token at the edge (the
    /// signed list, verified as the edge verifies), and the tokens the step touched at the
    /// admin (`/me`).
    async fn check_everything(&mut self) -> Check {
        self.check_users().await?;
        self.check_records().await?;
        self.check_edge().await?;
        let ids: Vec<String> = std::mem::take(&mut self.touched);
        let mut seen = BTreeSet::new();
        for id in ids {
            if seen.insert(id.clone()) {
                self.check_me(&id).await?;
            }
        }
        Ok(())
    }

    /// Every token at the admin (the end of a sequence).
    pub async fn check_all_at_admin(&mut self) -> Check {
        let ids: Vec<String> = self.pool().iter().map(|t| t.id.clone()).collect();
        for id in ids {
            self.check_me(&id).await?;
        }
        Ok(())
    }

    async fn check_me(&mut self, id: &str) -> Check {
        let t = self.model.token(id).expect("known").clone();
        let r = self.a.get("/api/v1/me", &t.text).await;
        let now = now();
        self.stats.admin_checks += 1;
        let accepted = self.model.admin_accepts(&t, now);
        match (accepted, r.status) {
            (true, 200) => {
                let v = r.json();
                if roles_json(&v["token"]["roles"]) != t.roles
                    || v["user"]["name"] != json!(t.owner)
                {
                    return Err(self.fail(format!(
                        "the admin accepts {} as {} with roles {}, the model says roles {:?}",
                        self.token_name(&t),
                        v["user"]["name"],
                        v["token"]["roles"],
                        t.roles
                    )));
                }
                Ok(())
            }
            (false, 401) => Ok(()),
            (accepted, _) => Err(self.fail(format!(
                "at the admin, {} ({}): the model says {}, the admin answered {}",
                self.token_name(&t),
                model::record_state(&self.model, &t, now),
                if accepted { "accepted" } else { "refused" },
                show(&r)
            ))),
        }
    }

    async fn check_users(&mut self) -> Check {
        let v = self
            .a
            .get("/api/v1/users?limit=500", &self.observer)
            .await
            .expect(200);
        let mut listed = BTreeSet::new();
        for u in v["users"].as_array().unwrap() {
            let name = u["name"].as_str().unwrap().to_owned();
            let Some(m) = self.model.user(&name) else {
                return Err(self.fail(format!("the admin lists a user the model lacks: {u}")));
            };
            if roles_json(&u["roles"]) != m.roles
                || u["active"] != json!(m.active)
                || u["service_account"] != json!(m.service)
                || u["manager"] != json!(m.manager)
            {
                return Err(self.fail(format!(
                    "user {name}: the admin says {u}, the model says roles {:?}, active {}, service {}, manager {:?}",
                    m.roles, m.active, m.service, m.manager
                )));
            }
            listed.insert(name);
        }
        if listed.len() != self.model.users.len() {
            return Err(self.fail(format!(
                "the admin lists users {listed:?}, the model {:?}",
                self.model.users.keys().collect::<Vec<_>>()
            )));
        }
        Ok(())
    }

    async fn check_records(&mut self) -> Check {
        let tokens: Vec<Token> = self.pool().into_iter().cloned().collect();
        for chunk in tokens.chunks(100) {
            let ids: Vec<&str> = chunk.iter().map(|t| t.id.as_str()).collect();
            let v = self
                .a
                .get(
                    &format!("/api/v1/tokens?ids={}", ids.join(",")),
                    &self.observer,
                )
                .await
                .expect(200);
            let now = now();
            let missing: BTreeSet<&str> = v["missing"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let records: BTreeMap<&str, &Value> = v["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["id"].as_str().unwrap_or_default(), r))
                .collect();
            for t in chunk {
                self.stats.record_checks += 1;
                match (
                    t.deleted,
                    records.get(t.id.as_str()),
                    missing.contains(t.id.as_str()),
                ) {
                    (true, None, true) => {}
                    (false, Some(rec), false) => {
                        self.check_record_at("records", t, rec, now, false)?;
                    }
                    (deleted, _, _) => {
                        return Err(self.fail(format!(
                            "{}: deleted {deleted} in the model, but the admin {}",
                            self.token_name(t),
                            if deleted {
                                "still shows it"
                            } else {
                                "does not show it"
                            }
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    async fn check_edge(&mut self) -> Check {
        let r = self
            .a
            .raw("GET", "/api/v1/revocations", None, None, &[])
            .await;
        if r.status != 200 {
            return Err(self.fail(format!("the list: {}", show(&r))));
        }
        let Ok(Document::Full(list)) = Document::decode(&r.body, &keyring()) else {
            return Err(self.fail("the list does not decode as a full, signed list".to_owned()));
        };
        let authority = Authority::new(keyring());
        let now = now();
        let pool = self.pool();
        for t in &pool {
            let want = self.model.edge_roles(t, now);
            let got = authority
                .verify(&t.text, now as u64, &list)
                .map(|v| v.roles().map(str::to_owned).collect::<Roles>());
            let same = match (&want, &got) {
                (Some(w), Ok(g)) => w == g,
                (None, Err(_)) => true,
                _ => false,
            };
            if !same {
                return Err(self.fail(format!(
                    "at the edge, {} (issued {}): the model says {}, the edge decides {:?}",
                    self.token_name(t),
                    t.issued_at,
                    want.map_or("refused".to_owned(), |w| format!("roles {w:?}")),
                    got
                )));
            }
        }
        let n = pool.len() as u64;
        self.stats.edge_checks += n;
        Ok(())
    }
}
