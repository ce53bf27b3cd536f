//! What the admin's benchmarks share: the keyring, the server's settings, a login.

use serde_json::json;
use tollgate_admin::Settings;
use tollgate_admin::config::BootstrapAdmin;
use tollgate_shared::Keyring;

/// The keyring every benchmark server signs with.
pub const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A number from the environment, or `default`.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Settings for a server on `database`, on a free port of 127.0.0.1, whose first admin is
/// `root` / `bench-password`.
pub fn settings(database: String) -> Settings {
    let mut s = Settings::new(database, Keyring::parse(KEYS).unwrap());
    s.listen = "127.0.0.1:0".parse().unwrap();
    s.bootstrap_admin = Some(BootstrapAdmin {
        username: "root".into(),
        password: "bench-password".into(),
    });
    s
}

/// A session token of `root`.
pub async fn login(http: &reqwest::Client, base: &str) -> String {
    let r: serde_json::Value = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"username": "root", "password": "bench-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_owned()
}
