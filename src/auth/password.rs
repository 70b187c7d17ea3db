//! argon2id with OWASP's recommended parameters, always run off the async runtime.

use std::sync::LazyLock;

use anyhow::anyhow;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Verified when the e-mail is unknown, so a login takes as long whether or not the account
/// exists (no user enumeration by timing).
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hasher()
        .hash_password(b"quire-dummy-password")
        .expect("hashing a constant succeeds")
        .to_string()
});

/// Each hash holds 19 MiB for tens of milliseconds: at most one per core runs at a time, so a
/// burst of logins queues instead of exhausting memory and the blocking thread pool.
static HASHING_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    )
});

async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let _slot = HASHING_SLOTS
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(e.into()))?
}

pub async fn hash(password: String) -> Result<String> {
    off_runtime(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| Error::Internal(anyhow!("hashing a password: {e}")))
    })
    .await
}

/// Computes the dummy hash ahead of the first login that needs it.
pub async fn prepare() -> Result<()> {
    off_runtime(|| {
        LazyLock::force(&DUMMY_HASH);
        Ok(())
    })
    .await
}

/// `stored` is `None` for an unknown account; the work is done all the same.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    off_runtime(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| Error::Internal(anyhow!("stored password hash is malformed: {e}")))?;
        let matches = hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
}
