//! The JWT secret: explicit (and strong enough in production), or generated once in
//! development and kept beside the embedded database so tokens survive restarts.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use rand::RngCore;

use super::{Backend, Environment, sqlite_file};

const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

pub(super) fn resolve_jwt_secret(
    explicit: Option<String>,
    env: Environment,
    database_url: &str,
    backend: Backend,
) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = explicit.filter(|s| !s.is_empty()) {
        if env == Environment::Production && secret.len() < MIN_PRODUCTION_SECRET_BYTES {
            bail!(
                "QUIRE_JWT_SECRET must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes in production"
            );
        }
        return Ok(secret.into_bytes());
    }
    if env == Environment::Production {
        bail!(
            "QUIRE_JWT_SECRET is required in production (at least {MIN_PRODUCTION_SECRET_BYTES} random bytes)"
        );
    }
    // Development: keep a generated secret beside the embedded database so tokens survive
    // restarts; for a server database, beside the working directory.
    let path = match (backend, sqlite_file(database_url)) {
        (Backend::Sqlite, Some(db)) => {
            let mut name = db.into_os_string();
            name.push(".jwt-secret");
            PathBuf::from(name)
        }
        _ => PathBuf::from("quire.jwt-secret"),
    };
    load_or_create_secret(&path)
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = read_secret(path)? {
        return Ok(secret);
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    // Published atomically: instances starting together on a fresh directory must all end up
    // with the one secret that was linked into place first.
    let staged = path.with_extension(format!("tmp{}", std::process::id()));
    write_private(&staged, &secret)
        .with_context(|| format!("writing the generated JWT secret to {}", staged.display()))?;
    let linked = std::fs::hard_link(&staged, path);
    let _ = std::fs::remove_file(&staged);
    match linked {
        Ok(()) => Ok(secret.into_bytes()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => read_secret(path)?
            .with_context(|| format!("{} vanished while starting", path.display())),
        Err(err) => {
            Err(err).with_context(|| format!("storing the JWT secret at {}", path.display()))
        }
    }
}

fn read_secret(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read_to_string(path) {
        Ok(existing) if existing.trim().len() >= MIN_PRODUCTION_SECRET_BYTES => {
            Ok(Some(existing.trim().as_bytes().to_vec()))
        }
        Ok(_) => bail!(
            "{} holds a JWT secret shorter than {MIN_PRODUCTION_SECRET_BYTES} bytes: delete it or set QUIRE_JWT_SECRET",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => {
            Err(err).with_context(|| format!("reading the JWT secret at {}", path.display()))
        }
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}
