//! The key that seals channel credentials: `DIALOOG_SECRET_KEY`, or a key
//! file made in the data folder at first run (readable by its owner only).

use anyhow::Context as _;
use dialoog_engine::Cipher;
use std::path::{Path, PathBuf};

/// Where the key file lives.
pub fn key_file(data: &Path) -> PathBuf {
    data.join("secret.key")
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write the key file {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// The cipher for this installation, making the key file when there is none.
pub fn load(data: &Path) -> anyhow::Result<Cipher> {
    if let Ok(text) = std::env::var("DIALOOG_SECRET_KEY")
        && !text.trim().is_empty()
    {
        return Cipher::from_text(&text).context("DIALOOG_SECRET_KEY");
    }
    let path = key_file(data);
    if !path.exists() {
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create the data folder {}", data.display()))?;
        write_private(&path, &Cipher::generate_key_text()?)?;
        tracing::info!(path = %path.display(), "made a new secret key; back it up with the database");
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    Cipher::from_text(&text).with_context(|| format!("the key file {} is damaged", path.display()))
}

/// Re-seals every channel's credentials with a new key. With a key file the
/// new key replaces it (the old one is kept as `secret.key.old`); with
/// `DIALOOG_SECRET_KEY` the new key is returned for the operator to set.
pub async fn rotate(store: &dialoog_store::Store, data: &Path) -> anyhow::Result<Option<String>> {
    let old = load(data)?;
    let new_text = Cipher::generate_key_text()?;
    let new = Cipher::from_text(&new_text)?;
    let from_env = std::env::var("DIALOOG_SECRET_KEY").is_ok_and(|k| !k.trim().is_empty());
    let path = key_file(data);
    let pending = data.join("secret.key.new");
    if !from_env {
        // The new key is on disk before any credential depends on it.
        write_private(&pending, &new_text)?;
    }
    let mut resealed = vec![];
    for (id, sealed) in store.all_channel_credentials().await? {
        let plain = old
            .open(&sealed)
            .with_context(|| format!("channel {id}: cannot be opened with the current key"))?;
        resealed.push((id, new.seal(&plain)?));
    }
    store.reseal_channels(&resealed).await?;
    if from_env {
        return Ok(Some(new_text));
    }
    std::fs::rename(&path, data.join("secret.key.old")).context("cannot keep the old key")?;
    std::fs::rename(&pending, &path).context("cannot put the new key in place")?;
    Ok(None)
}
