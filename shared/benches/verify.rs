//! `cargo bench -p tollgate-shared`: verification against `jsonwebtoken`'s HS256
//! in the same run, minting, and lookups in a 100 000-entry revocation list.
//! Prints ns/op (median of several rounds) and the ratio.

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

/// Median ns/op of `f` over several timed rounds of about 300 ms each.
fn measure(mut f: impl FnMut()) -> f64 {
    let mut iters = 1u64;
    loop {
        let t = Instant::now();
        (0..iters).for_each(|_| f());
        if t.elapsed() > Duration::from_millis(30) {
            break;
        }
        iters *= 2;
    }
    iters *= 10;
    let mut samples: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            (0..iters).for_each(|_| f());
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[ROUNDS / 2]
}

fn main() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
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
    let secret = base64::engine::general_purpose::STANDARD.decode(KEY_B64).unwrap();
    let jwt_claims = JwtClaims {
        jti: claims.token_id.to_string(),
        sub: claims.subject.clone(),
        kind: "personal".into(),
        roles: claims.roles.clone(),
        iat: claims.issued_at,
        exp: claims.expires_at,
    };
    let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &jwt_claims, &EncodingKey::from_secret(&secret)).unwrap();
    let decoding = DecodingKey::from_secret(&secret);
    let validation = Validation::new(Algorithm::HS256);
    assert!(jsonwebtoken::decode::<JwtClaims>(&jwt, &decoding, &validation).is_ok());

    let ours = measure(|| {
        black_box(authority.verify(black_box(&token), now, &empty).unwrap());
    });
    let theirs = measure(|| {
        black_box(jsonwebtoken::decode::<JwtClaims>(black_box(&jwt), &decoding, &validation).unwrap());
    });
    let mint = measure(|| {
        black_box(authority.mint(black_box(&claims)).unwrap());
    });
    println!("token length         tollgate {} chars, jwt {} chars", token.len(), jwt.len());
    println!("verify  tollgate     {ours:>9.1} ns/op");
    println!("verify  jwt HS256    {theirs:>9.1} ns/op   (jsonwebtoken 10, same claims)");
    println!("ratio   jwt/tollgate {:>9.1}x", theirs / ours);
    println!("mint    tollgate     {mint:>9.1} ns/op");

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
