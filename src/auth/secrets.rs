//! Hashing of what people know (PIN, password: argon2id) and of what we hand out (session tokens, API
//! keys: random, so SHA-256 suffices). Nothing secret is ever stored in clear.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Prefix that marks a partner API key (user session tokens have none).
pub const API_KEY_PREFIX: &str = "nsk_";

/// OWASP's recommended argon2id parameters: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    // The constants are valid by construction; `Params::DEFAULT` is the same set.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Each hash takes 19 MiB and a core for tens of milliseconds: at most one per core at a time, so a login
/// storm queues instead of exhausting memory.
static HASHING_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));

/// Verified against when the account does not exist, so unknown phones take as long as wrong PINs.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("dummy secret for unknown accounts").unwrap_or_default());

fn hash_blocking(secret: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(argon2().hash_password(secret.as_bytes(), &salt)?.to_string())
}

async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let _slot = HASHING_SLOTS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work).await.map_err(AppError::internal)
}

/// The argon2id PHC string of a PIN or password.
pub async fn hash_secret(secret: String) -> Result<String, AppError> {
    off_runtime(move || hash_blocking(&secret))
        .await?
        .map_err(|e| AppError::internal(anyhow::anyhow!("hashing failed: {e}")))
}

/// Whether `secret` matches `hash`; with no hash (unknown account) it spends the same time and says no.
pub async fn verify_secret(secret: String, hash: Option<String>) -> Result<bool, AppError> {
    off_runtime(move || {
        let stored = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches =
            PasswordHash::new(&stored).is_ok_and(|parsed| argon2().verify_password(secret.as_bytes(), &parsed).is_ok());
        matches && stored != *DUMMY_HASH
    })
    .await
}

fn random_base64(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// What is stored for a token or key: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new session token (256 random bits) and its hash.
pub fn new_session_token() -> (String, String) {
    let token = random_base64(32);
    let hash = token_hash(&token);
    (token, hash)
}

/// A new partner API key, the short prefix shown in key lists, and its hash.
pub fn new_api_key() -> (String, String, String) {
    let key = format!("{API_KEY_PREFIX}{}", random_base64(30));
    let prefix = key[..12].to_owned();
    let hash = token_hash(&key);
    (key, prefix, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hash = hash_secret("482915".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_secret("482915".into(), Some(hash.clone())).await.expect("verify"));
        assert!(!verify_secret("482916".into(), Some(hash)).await.expect("verify"));
        assert!(!verify_secret("dummy secret for unknown accounts".into(), None).await.expect("verify"));
    }

    #[test]
    fn tokens_and_keys_are_random_and_hashed() {
        let (a, a_hash) = new_session_token();
        let (b, _) = new_session_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), a_hash);
        let (key, prefix, hash) = new_api_key();
        assert!(key.starts_with("nsk_") && key.starts_with(&prefix) && key.len() == 44);
        assert_eq!(token_hash(&key), hash);
    }
}
