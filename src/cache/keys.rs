//! Pieces of cache keys built from user-supplied values.

use sha2::{Digest, Sha256};

/// Length-prefixed, so that no combination of user-supplied values can collide with another.
pub fn part(value: &str) -> String {
    format!("{}:{value}", value.len())
}

/// A short digest of `parts` for keys whose inputs can be long. Each part is length-prefixed,
/// so that no two inputs run together into the same bytes.
pub fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(&hasher.finalize()[..16])
}
