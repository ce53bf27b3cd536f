//! `cargo bench -p tollgate-shared`: verification against `jsonwebtoken`'s HS256
//! in the same run, minting, and lookups in a 100 000-entry revocation list.
//! Prints ns/op (median of several rounds) and the ratio.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use tollgate_shared::*;

const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const ROUNDS: usize = 7;

#[derive(serde::Serialize, serde::Deserialize)]
struct JwtClaims {
    jti: String,
    sub: String,
    kind: String,
    roles: Vec<String>,
    iat: u64,
    exp: u64,
}

/// Iterations that take about 100 ms.
fn calibrate(f: &mut impl FnMut()) -> u64 {
    let mut iters = 1u64;
    loop {
        let t = Instant::now();
        (0..iters).for_each(|_| f());
        if t.elapsed() > Duration::from_millis(10) {
            return iters * 10;
        }
        iters *= 2;
    }
}

/// ns/op of one timed round of `iters` calls.
fn round(f: &mut impl FnMut(), iters: u64) -> f64 {
    let t = Instant::now();
    (0..iters).for_each(|_| f());
    t.elapsed().as_nanos() as f64 / iters as f64
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Median ns/op of `f` over several timed rounds.
fn measure(mut f: impl FnMut()) -> f64 {
    let iters = calibrate(&mut f);
    median((0..ROUNDS).map(|_| round(&mut f, iters)).collect())
}

/// `a` and `b` timed in alternating rounds, so both see the same machine:
/// the median ns/op of each and the median of the per-round ratios b/a.
fn compare(mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64, f64) {
    let (ia, ib) = (calibrate(&mut a), calibrate(&mut b));
    let rounds: Vec<(f64, f64)> = (0..2 * ROUNDS + 1)
        .map(|_| (round(&mut a, ia), round(&mut b, ib)))
        .collect();
    (
        median(rounds.iter().map(|r| r.0).collect()),
        median(rounds.iter().map(|r| r.1).collect()),
        median(rounds.iter().map(|r| r.1 / r.0).collect()),
    )
}

fn main() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ring = Keyring::parse(&format!("k1:{KEY_B64}")).unwrap();
    let authority = Authority::new(ring.clone());
    let claims = Claims {
        token_id: TokenId::random().unwrap(),
        subject: "alice".into(),
        kind: Kind::Personal,
        roles: vec!["pool:ml-team".into(), "user".into()],
        issued_at: now - 60,
        expires_at: now + 3600,
    };
    let token = authority.mint(&claims).unwrap();
    let empty = RevocationList::default();
    assert!(authority.verify(&token, now, &empty).is_ok());

    use base64::Engine as _;
    let secret = base64::engine::general_purpose::STANDARD
        .decode(KEY_B64)
        .unwrap();
    let jwt_claims = JwtClaims {
        jti: claims.token_id.to_string(),
        sub: claims.subject.clone(),
        kind: "personal".into(),
        roles: claims.roles.clone(),
        iat: claims.issued_at,
        exp: claims.expires_at,
    };
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &jwt_claims,
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    let decoding = DecodingKey::from_secret(&secret);
    let validation = Validation::new(Algorithm::HS256);
    assert!(jsonwebtoken::decode::<JwtClaims>(&jwt, &decoding, &validation).is_ok());

    let jwt_decode = || {
        black_box(
            jsonwebtoken::decode::<JwtClaims>(black_box(&jwt), &decoding, &validation).unwrap(),
        );
    };
    // `verify` is what the edge and the admin call: every check, claims readable in place.
    let (ours, theirs, ratio) = compare(
        || {
            black_box(authority.verify(black_box(&token), now, &empty).unwrap());
        },
        jwt_decode,
    );
    // The same plus an owned copy of the claims, as `jsonwebtoken` hands back.
    let (owned, theirs_owned, ratio_owned) = compare(
        || {
            black_box(
                authority
                    .verify(black_box(&token), now, &empty)
                    .unwrap()
                    .claims(),
            );
        },
        jwt_decode,
    );
    let mint = measure(|| {
        black_box(authority.mint(black_box(&claims)).unwrap());
    });
    println!(
        "token length         tollgate {} chars, jwt {} chars",
        token.len(),
        jwt.len()
    );
    println!("verify  tollgate     {ours:>9.1} ns/op");
    println!(
        "verify  jwt HS256    {theirs:>9.1} ns/op   (jsonwebtoken 10, same claims, alternating rounds)"
    );
    println!("ratio   jwt/tollgate {ratio:>9.1}x");
    println!(
        "verify  tollgate + owned claims {owned:>6.1} ns/op, jwt {theirs_owned:.1} ns/op, ratio {ratio_owned:.1}x"
    );
    println!("mint    tollgate     {mint:>9.1} ns/op");

    // What the edge adds per forwarded request: verify, then sign the origin assertion.
    let keys = assertion::AssertionKeys::from_keyring(&ring);
    let origin_keys =
        assertion::AssertionKeys::parse(&assertion::AssertionKeys::export(&ring)).unwrap();
    let verified = authority
        .verify(&token, now, &RevocationList::default())
        .unwrap();
    let path = "/api/v1/reports/2026/q4/summary";
    let sign = measure(|| {
        let roles: Vec<&str> = verified.roles().collect();
        black_box(keys.sign(&assertion::Parts {
            token_id: verified.token_id(),
            subject: verified.subject(),
            kind: verified.kind(),
            roles: &roles,
            method: "GET",
            path: black_box(path),
            issued_at: now,
            lifetime: 60,
        }));
    });
    let roles: Vec<&str> = verified.roles().collect();
    let text = keys.sign(&assertion::Parts {
        token_id: verified.token_id(),
        subject: verified.subject(),
        kind: verified.kind(),
        roles: &roles,
        method: "GET",
        path,
        issued_at: now,
        lifetime: 60,
    });
    let check = measure(|| {
        black_box(
            origin_keys
                .verify(black_box(&text), "GET", path, now, 5)
                .unwrap(),
        );
    });
    println!(
        "assertion sign       {sign:>9.1} ns/op   ({} chars, {path}; {:.1}x a token verify)",
        text.len(),
        sign / ours
    );
    println!("assertion verify     {check:>9.1} ns/op   (at the origin)");

    // A 100 000-entry revocation list.
    let mut list = RevocationList::new(1, now);
    let ids: Vec<TokenId> = (0..100_000).map(|_| TokenId::random().unwrap()).collect();
    for (i, id) in ids.iter().enumerate() {
        list.insert(*id, Entry::revoked(now + 60 + (i as u64 % 7_776_000)));
    }
    let absent = claims.token_id;
    let mut i = 0;
    let hit = measure(|| {
        i = (i + 7919) % ids.len();
        black_box(list.get(black_box(&ids[i])));
    });
    let miss = measure(|| {
        black_box(list.get(black_box(&absent)));
    });
    let verify_big = measure(|| {
        black_box(authority.verify(black_box(&token), now, &list).unwrap());
    });
    let t = Instant::now();
    let bytes = list.encode(&ring);
    let encode_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let decoded = Document::decode(&bytes, &ring).unwrap();
    let decode_ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(matches!(decoded, Document::Full(ref l) if l.len() == 100_000));
    println!("list 100k  lookup hit {hit:>6.1} ns/op, miss {miss:>6.1} ns/op");
    println!("verify  with 100k list{verify_big:>8.1} ns/op");
    println!(
        "list 100k  {} bytes ({:.2} MiB), encode {encode_ms:.1} ms, decode+verify {decode_ms:.1} ms",
        bytes.len(),
        bytes.len() as f64 / 1048576.0
    );
}
