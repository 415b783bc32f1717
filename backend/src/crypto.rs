//! Secrets handling: AES-256-GCM encryption of stored credentials, the key (environment or a
//! 0600 key file), random tokens, hashing and constant-time comparison.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Length of a GCM nonce in bytes (96 bits).
pub const NONCE_LEN: usize = 12;

/// `n` bytes from the operating system's random generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Whether two secrets are equal, in time that does not depend on where they differ: both are
/// hashed first, so not even their lengths leak.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    sha256(a.as_bytes()).ct_eq(&sha256(b.as_bytes())).into()
}

/// Parses a 64-hex-digit AES-256 key.
pub fn parse_hex_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("expected exactly 64 hexadecimal digits (32 bytes)".into());
    }
    let mut key = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(chunk).expect("hex digits are ASCII");
        key[i] = u8::from_str_radix(pair, 16).expect("checked hex");
    }
    Ok(key)
}

/// The id of a key given without one (`HEX` rather than `ID:HEX`): every key before key ids.
pub const DEFAULT_KEY_ID: &str = "default";

/// Whether `id` can name a key: 1 to 32 letters, digits, `-`, `_` or `.`.
pub fn is_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Parses a key with its id, `ID:HEX`, or a bare `HEX` (id [`DEFAULT_KEY_ID`]).
pub fn parse_key_spec(text: &str) -> Result<(String, [u8; 32]), String> {
    let text = text.trim();
    let (id, hex) = match text.split_once(':') {
        Some((id, hex)) => (id.trim(), hex),
        None => (DEFAULT_KEY_ID, text),
    };
    if !is_key_id(id) {
        return Err("a key id must be 1 to 32 letters, digits, '-', '_' or '.' (ID:HEX)".into());
    }
    Ok((id.to_string(), parse_hex_key(hex)?))
}

/// Where the encryption key came from, for the start-up line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `CONNECT_UI_ENCRYPTION_KEY`.
    Environment,
    /// An existing key file.
    File,
    /// A key file created at this start.
    NewFile,
}

/// Reads the key file at `path`, or creates it with a fresh random key and mode 0600 when it
/// does not exist. An existing file that other users can read is refused.
pub fn load_or_create_key_file(path: &Path) -> Result<(String, [u8; 32], KeySource), String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if !meta.is_file() {
                return Err(format!(
                    "the key file {} is not a regular file",
                    path.display()
                ));
            }
            check_permissions(path, &meta)?;
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
            let (id, key) = parse_key_spec(&text)
                .map_err(|e| format!("the key file {} is not a key: {e}", path.display()))?;
            Ok((id, key, KeySource::File))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                crate::files::create_private_dir_all(parent)
                    .map_err(|e| format!("creating {}: {e}", parent.display()))?;
            }
            let key = random_bytes::<32>();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| format!("cannot create the key file {}: {e}", path.display()))?;
            file.write_all(format!("{}\n", hex(&key)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write the key file {}: {e}", path.display()))?;
            Ok((DEFAULT_KEY_ID.to_string(), key, KeySource::NewFile))
        }
        Err(e) => Err(format!("cannot read the key file {}: {e}", path.display())),
    }
}

/// Refuses a key file that users other than its owner (and group) can read or write.
#[cfg(unix)]
fn check_permissions(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o007 != 0 {
        return Err(format!(
            "the key file {} is accessible to every user (mode {mode:03o}); \
             run `chmod 600 {}` and start again",
            path.display(),
            path.display()
        ));
    }
    if mode & 0o070 != 0 {
        tracing::warn!(
            path = %path.display(),
            "the key file is readable by its group; chmod 600 is recommended"
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// What the idempotency hash key is derived with (HMAC-SHA256 of this label under the
/// encryption key), so the two keys are never the same bytes.
const REQUEST_HASH_LABEL: &[u8] = b"connect-ui idempotency request hash v1";

/// Encrypts stored credentials with AES-256-GCM under the current key (whose id is stored
/// beside each value), decrypts with the key a value names (current or older, for rotation),
/// and keys the idempotency request hash with a key derived from the current secret.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
    hash_key: [u8; 32],
    id: Arc<str>,
    older: Arc<Vec<(String, Aes256Gcm)>>,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(<key redacted>)")
    }
}

/// Decryption failed: wrong key, or the data or its associated id was altered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptError;

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("decryption failed (wrong key or altered data)")
    }
}

impl std::error::Error for DecryptError {}

impl Cipher {
    /// A cipher with this 256-bit key, id [`DEFAULT_KEY_ID`].
    pub fn new(key: &[u8; 32]) -> Self {
        Self::with_id(DEFAULT_KEY_ID, key)
    }

    /// A cipher whose current key is `key`, named `id`.
    pub fn with_id(id: &str, key: &[u8; 32]) -> Self {
        Self {
            aead: Aes256Gcm::new(key.into()),
            hash_key: hmac_sha256(key, REQUEST_HASH_LABEL),
            id: id.into(),
            older: Arc::default(),
        }
    }

    /// Adds an older key, which only decrypts (values it encrypted until a rekey).
    pub fn with_older(mut self, id: &str, key: &[u8; 32]) -> Self {
        Arc::make_mut(&mut self.older).push((id.to_string(), Aes256Gcm::new(key.into())));
        self
    }

    /// The id of the current key, stored beside every value it encrypts.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// Every key's id, the current first.
    pub fn key_ids(&self) -> Vec<&str> {
        std::iter::once(&*self.id)
            .chain(self.older.iter().map(|(id, _)| id.as_str()))
            .collect()
    }

    /// [`Cipher::decrypt`] with the key named `key_id` (`None`: the current one); fails when no
    /// configured key has that id.
    pub fn decrypt_with(
        &self,
        key_id: Option<&str>,
        blob: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        match key_id {
            None => self.decrypt(blob, aad),
            Some(id) if id == &*self.id => self.decrypt(blob, aad),
            Some(id) => {
                let (_, aead) = self
                    .older
                    .iter()
                    .find(|(k, _)| k == id)
                    .ok_or(DecryptError)?;
                open(aead, blob, aad)
            }
        }
    }

    /// HMAC-SHA256 of `data` under the derived hash key: recognises a repeated request without
    /// letting someone holding only the database check guesses against it.
    pub fn keyed_hash(&self, data: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.hash_key, data)
    }

    /// `nonce || ciphertext+tag` of `plaintext`, bound to `aad` (the connection id), with a
    /// fresh random 96-bit nonce.
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = random_bytes::<NONCE_LEN>();
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption of a small message cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext of a blob made by [`Cipher::encrypt`] (current key) with the same `aad`.
    pub fn decrypt(&self, blob: &[u8], aad: &[u8]) -> Result<Vec<u8>, DecryptError> {
        open(&self.aead, blob, aad)
    }
}

/// Opens `nonce || ciphertext+tag` with `aead`.
fn open(aead: &Aes256Gcm, blob: &[u8], aad: &[u8]) -> Result<Vec<u8>, DecryptError> {
    if blob.len() < NONCE_LEN {
        return Err(DecryptError);
    }
    let (nonce, sealed) = blob.split_at(NONCE_LEN);
    aead.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
        .map_err(|_| DecryptError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_round_trips_and_is_bound_to_the_id() {
        let c = Cipher::new(&[7u8; 32]);
        let a = c.encrypt(b"sk_test_secret", b"conn_1");
        let b = c.encrypt(b"sk_test_secret", b"conn_1");
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(c.decrypt(&a, b"conn_1").unwrap(), b"sk_test_secret");
        assert_eq!(c.decrypt(&a, b"conn_2"), Err(DecryptError));
        assert_eq!(
            Cipher::new(&[8u8; 32]).decrypt(&a, b"conn_1"),
            Err(DecryptError)
        );
        assert_eq!(c.decrypt(&a[..5], b"conn_1"), Err(DecryptError));
        assert!(!format!("{c:?}").contains('7'));
    }

    #[test]
    fn the_request_hash_key_is_derived_not_the_encryption_key() {
        let a = Cipher::new(&[7u8; 32]);
        assert_ne!(a.hash_key, [7u8; 32]);
        assert_eq!(a.keyed_hash(b"x"), Cipher::new(&[7u8; 32]).keyed_hash(b"x"));
        assert_ne!(a.keyed_hash(b"x"), Cipher::new(&[8u8; 32]).keyed_hash(b"x"));
        assert_ne!(a.keyed_hash(b"x"), sha256(b"x"));
    }

    #[test]
    fn values_decrypt_with_the_key_they_name_current_or_older() {
        let old = Cipher::with_id("k1", &[1u8; 32]);
        let blob = old.encrypt(b"secret", b"conn_1");
        let rotated = Cipher::with_id("k2", &[2u8; 32]).with_older("k1", &[1u8; 32]);
        assert_eq!(rotated.key_id(), "k2");
        assert_eq!(rotated.key_ids(), ["k2", "k1"]);
        assert_eq!(
            rotated.decrypt_with(Some("k1"), &blob, b"conn_1").unwrap(),
            b"secret"
        );
        assert_eq!(
            rotated.decrypt_with(Some("k2"), &blob, b"conn_1"),
            Err(DecryptError)
        );
        assert_eq!(
            rotated.decrypt_with(Some("k9"), &blob, b"conn_1"),
            Err(DecryptError)
        );
        let fresh = rotated.encrypt(b"secret", b"conn_1");
        assert_eq!(
            rotated.decrypt_with(None, &fresh, b"conn_1").unwrap(),
            b"secret"
        );
        assert_eq!(
            parse_key_spec(&format!("k2:{}", "0f".repeat(32))).unwrap(),
            ("k2".to_string(), [15u8; 32])
        );
        assert_eq!(parse_key_spec(&"0f".repeat(32)).unwrap().0, DEFAULT_KEY_ID);
        assert!(parse_key_spec(&format!("bad id:{}", "0f".repeat(32))).is_err());
        assert!(parse_key_spec("k2:abc").is_err());
    }

    #[test]
    fn hex_keys_parse_strictly() {
        let key = parse_hex_key(&"0f".repeat(32)).unwrap();
        assert_eq!(key, [15u8; 32]);
        assert_eq!(hex(&key), "0f".repeat(32));
        assert!(parse_hex_key(&"0f".repeat(31)).is_err());
        assert!(parse_hex_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn secret_comparison_is_exact() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/db.key");
        let (id, bytes, source) = load_or_create_key_file(&path).unwrap();
        assert_eq!(source, KeySource::NewFile);
        assert_eq!(id, DEFAULT_KEY_ID);
        let key = (id, bytes);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            load_or_create_key_file(&path).unwrap(),
            (key.0, key.1, KeySource::File)
        );

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create_key_file(&path).unwrap_err();
        assert!(err.contains("chmod 600") && err.contains("644"), "{err}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "not a key").unwrap();
        assert!(load_or_create_key_file(&path)
            .unwrap_err()
            .contains("is not a key"));
    }
}
