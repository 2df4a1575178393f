//! Self-contained temporary credentials: the session token carries its own claims.
//!
//! A token is the standard base64 of
//!
//! ```text
//! version (1 byte) | key-id length (1 byte) | key id | nonce (24 bytes) | ciphertext
//! ```
//!
//! where the ciphertext is XChaCha20-Poly1305 over the JSON [`SessionClaims`], with the
//! header bytes before the nonce as associated data. The claims include the temporary
//! secret access key, so any replica holding the key can verify a request signed with it,
//! and nobody without the key learns anything from the token.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::error::StsError;
use super::wire::Tag;
use crate::clock::is_representable;
use crate::credentials::SecretKey;

const TOKEN_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
/// Longest token `open` looks at; larger inputs are rejected before decoding.
const MAX_TOKEN_LEN: usize = 64 * 1024;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The secret of a session, written into and read from its sealed claims as text.
mod secret_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::credentials::SecretKey;

    pub(super) fn serialize<S: Serializer>(key: &SecretKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(key.expose_secret())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretKey, D::Error> {
        String::deserialize(d).map(SecretKey::new)
    }
}

/// What a session is about, before key material is minted for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewSession {
    /// The role's account (12 digits).
    pub account: String,
    /// The role's full ARN, path included.
    pub role_arn: String,
    /// The role's unique id (`AROA…`, 21 characters).
    pub role_unique_id: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// The inline session policy JSON, if one was passed.
    pub session_policy: Option<String>,
    /// Session tags.
    pub tags: Vec<Tag>,
    /// `SourceIdentity`, if set.
    pub source_identity: Option<String>,
    /// Whether the caller was itself a role session (role chaining).
    pub chained: bool,
}

impl NewSession {
    /// A session with no policy, tags or source identity, not chained.
    pub fn new(
        account: impl Into<String>,
        role_arn: impl Into<String>,
        role_unique_id: impl Into<String>,
        session_name: impl Into<String>,
    ) -> Self {
        NewSession {
            account: account.into(),
            role_arn: role_arn.into(),
            role_unique_id: role_unique_id.into(),
            session_name: session_name.into(),
            session_policy: None,
            tags: Vec::new(),
            source_identity: None,
            chained: false,
        }
    }

    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION` (the role's path dropped).
    pub fn session_arn(&self) -> String {
        session_arn(&self.role_arn, &self.account, &self.session_name)
    }

    /// `AROA…:SESSION`, the `AssumedRoleId` and `aws:userid` of the session.
    pub fn assumed_role_id(&self) -> String {
        format!("{}:{}", self.role_unique_id, self.session_name)
    }
}

/// Everything a session token carries, as recovered by [`TokenKeyring::open`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionClaims {
    /// The role's account.
    #[serde(rename = "acct")]
    pub account: String,
    /// The role's full ARN, path included.
    #[serde(rename = "role")]
    pub role_arn: String,
    /// The role's unique id (`AROA…`).
    #[serde(rename = "rid")]
    pub role_unique_id: String,
    /// `RoleSessionName`.
    #[serde(rename = "sn")]
    pub session_name: String,
    /// The temporary access key id (`ASIA…`).
    #[serde(rename = "akid")]
    pub access_key_id: String,
    /// The temporary secret access key.
    #[serde(rename = "sak", with = "secret_text")]
    pub secret_access_key: SecretKey,
    /// Issue time, unix seconds.
    ///
    /// [`TokenKeyring::open`] accepts only tokens whose issue and expiry times lie within
    /// the years -9999 to 9999, issue first.
    #[serde(rename = "iat")]
    pub issued_at: i64,
    /// Expiry time, unix seconds; the token is expired from this second on.
    #[serde(rename = "exp")]
    pub expires_at: i64,
    /// The inline session policy JSON.
    #[serde(rename = "pol", default, skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<String>,
    /// Session tags.
    #[serde(rename = "tags", default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// `SourceIdentity`.
    #[serde(rename = "src", default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Whether the session was assumed by role chaining.
    #[serde(rename = "chn", default)]
    pub chained: bool,
}

impl SessionClaims {
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION` (the role's path dropped).
    pub fn session_arn(&self) -> String {
        session_arn(&self.role_arn, &self.account, &self.session_name)
    }

    /// `AROA…:SESSION`, the `aws:userid` of the session.
    pub fn assumed_role_id(&self) -> String {
        format!("{}:{}", self.role_unique_id, self.session_name)
    }

    /// The role's name: the last segment of its ARN's resource.
    pub fn role_name(&self) -> &str {
        role_name(&self.role_arn)
    }
}

fn role_name(role_arn: &str) -> &str {
    let resource = role_arn.splitn(6, ':').nth(5).unwrap_or(role_arn);
    resource.rsplit('/').next().unwrap_or(resource)
}

fn session_arn(role_arn: &str, account: &str, session_name: &str) -> String {
    let partition = match role_arn.split(':').nth(1) {
        Some(p) if role_arn.starts_with("arn:") && !p.is_empty() => p,
        _ => "aws",
    };
    format!(
        "arn:{partition}:sts::{account}:assumed-role/{}/{session_name}",
        role_name(role_arn)
    )
}

/// Temporary credentials as returned by AssumeRole.
#[derive(Clone)]
#[non_exhaustive]
pub struct TemporaryCredentials {
    /// `ASIA` and 16 characters of `[A-Z2-7]`.
    pub access_key_id: String,
    /// 40 characters of `[A-Za-z0-9+/]`.
    pub secret_access_key: SecretKey,
    /// The session token (standard base64).
    pub session_token: String,
    /// When the credentials expire (whole seconds).
    pub expiration: OffsetDateTime,
}

impl TemporaryCredentials {
    /// Credentials from their parts (for instance to replay a stored response).
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: SecretKey,
        session_token: impl Into<String>,
        expiration: OffsetDateTime,
    ) -> Self {
        TemporaryCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key,
            session_token: session_token.into(),
            expiration,
        }
    }
}

impl fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &"***")
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Why a session token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a token of ours: malformed, unknown key, tampered, or for another access key.
    Invalid,
    /// Authentic, but past its expiry.
    Expired,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenError::Invalid => "invalid session token",
            TokenError::Expired => "expired session token",
        })
    }
}

impl std::error::Error for TokenError {}

impl From<TokenError> for StsError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Invalid => StsError::invalid_client_token_id(),
            TokenError::Expired => StsError::expired_token(),
        }
    }
}

/// Temporary credentials could not be minted (the system's random source failed, or the
/// lifetime runs past the representable time range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MintError(());

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not mint temporary credentials")
    }
}

impl std::error::Error for MintError {}

impl From<MintError> for StsError {
    fn from(_: MintError) -> Self {
        StsError::internal_failure()
    }
}

/// A token key could not be built or added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKeyError {
    /// The key id is empty or longer than 255 bytes.
    InvalidId,
    /// The key is not valid base64.
    InvalidBase64,
    /// The key is not 32 bytes long.
    InvalidLength,
    /// A key with this id is already in the keyring.
    DuplicateId,
    /// The system's random source failed.
    Random,
}

impl fmt::Display for TokenKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenKeyError::InvalidId => "invalid token key id",
            TokenKeyError::InvalidBase64 => "token key is not valid base64",
            TokenKeyError::InvalidLength => "token key is not 32 bytes",
            TokenKeyError::DuplicateId => "duplicate token key id",
            TokenKeyError::Random => "random source failed",
        })
    }
}

impl std::error::Error for TokenKeyError {}

/// A named 32-byte key for sealing session tokens. Zeroized on drop; `Debug` hides it.
#[derive(Clone)]
pub struct TokenKey {
    id: String,
    secret: Zeroizing<[u8; KEY_LEN]>,
}

impl TokenKey {
    /// A key from its id (1–255 bytes, carried in clear in every token) and secret bytes.
    pub fn new(id: impl Into<String>, secret: [u8; KEY_LEN]) -> Result<Self, TokenKeyError> {
        Self::from_secret(id.into(), Zeroizing::new(secret))
    }

    fn from_secret(id: String, secret: Zeroizing<[u8; KEY_LEN]>) -> Result<Self, TokenKeyError> {
        if id.is_empty() || id.len() > usize::from(u8::MAX) {
            return Err(TokenKeyError::InvalidId);
        }
        Ok(TokenKey { id, secret })
    }

    /// A key from its id and the standard base64 of its 32 bytes (surrounding whitespace
    /// is ignored).
    pub fn from_base64(id: impl Into<String>, b64: &str) -> Result<Self, TokenKeyError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(b64.trim())
                .map_err(|_| TokenKeyError::InvalidBase64)?,
        );
        let mut secret = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(TokenKeyError::InvalidLength);
        }
        secret.copy_from_slice(&bytes);
        Self::from_secret(id.into(), secret)
    }

    /// A fresh random key.
    pub fn generate_random(id: impl Into<String>) -> Result<Self, TokenKeyError> {
        let mut secret = Zeroizing::new([0u8; KEY_LEN]);
        OsRng
            .try_fill_bytes(secret.as_mut())
            .map_err(|_| TokenKeyError::Random)?;
        Self::from_secret(id.into(), secret)
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The standard base64 of the key bytes, for storing a generated key.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.secret.as_ref()))
    }

    fn cipher(&self) -> Option<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.secret.as_ref()).ok()
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("id", &self.id)
            .field("secret", &format_args!("***"))
            .finish()
    }
}

/// The keys for session tokens: one current key that mints, and older keys still accepted
/// when opening tokens (for rotation).
#[derive(Clone)]
pub struct TokenKeyring {
    current: TokenKey,
    older: Vec<TokenKey>,
}

impl TokenKeyring {
    /// A keyring with `current` as its only key.
    pub fn new(current: TokenKey) -> Self {
        TokenKeyring {
            current,
            older: Vec::new(),
        }
    }

    /// A keyring whose current key is given as id and standard base64.
    pub fn from_base64(id: impl Into<String>, b64: &str) -> Result<Self, TokenKeyError> {
        TokenKey::from_base64(id, b64).map(Self::new)
    }

    /// A keyring with a fresh random current key.
    pub fn generate_random(id: impl Into<String>) -> Result<Self, TokenKeyError> {
        TokenKey::generate_random(id).map(Self::new)
    }

    /// The current (minting) key.
    pub fn current(&self) -> &TokenKey {
        &self.current
    }

    /// Adds an older key accepted for verification only.
    pub fn add_verification_key(&mut self, key: TokenKey) -> Result<(), TokenKeyError> {
        if self.find(&key.id).is_some() {
            return Err(TokenKeyError::DuplicateId);
        }
        self.older.push(key);
        Ok(())
    }

    /// Makes `key` the current key; the previous current key stays for verification.
    pub fn rotate(&mut self, key: TokenKey) -> Result<(), TokenKeyError> {
        if self.find(&key.id).is_some() {
            return Err(TokenKeyError::DuplicateId);
        }
        let previous = std::mem::replace(&mut self.current, key);
        self.older.push(previous);
        Ok(())
    }

    /// Removes a verification key; tokens sealed with it no longer open. The current key
    /// cannot be removed (use [`rotate`](Self::rotate) first). Returns whether a key went.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.older.len();
        self.older.retain(|k| k.id != id);
        self.older.len() != before
    }

    /// The ids of all keys, the current one first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> + '_ {
        std::iter::once(self.current.id.as_str()).chain(self.older.iter().map(|k| k.id.as_str()))
    }

    fn find(&self, id: &str) -> Option<&TokenKey> {
        std::iter::once(&self.current)
            .chain(self.older.iter())
            .find(|k| k.id == id)
    }

    /// Mints temporary credentials valid for `lifetime` from `now` (whole seconds): a fresh
    /// `ASIA…` key id, a 40-character secret and a token sealed with the current key.
    ///
    /// [`MintError`] if the system's random source fails or the expiry would fall after
    /// year 9999 (which no token could carry).
    pub fn mint(
        &self,
        session: NewSession,
        lifetime: Duration,
        now: OffsetDateTime,
    ) -> Result<TemporaryCredentials, MintError> {
        let mut random = Zeroizing::new([0u8; 16 + 40 + NONCE_LEN]);
        OsRng
            .try_fill_bytes(random.as_mut())
            .map_err(|_| MintError(()))?;
        let (key_id_bytes, rest) = random.split_at(16);
        let (secret_bytes, nonce_bytes) = rest.split_at(40);

        let mut access_key_id = String::with_capacity(20);
        access_key_id.push_str("ASIA");
        access_key_id.extend(key_id_bytes.iter().map(|b| pick(BASE32, *b)));
        let mut secret = String::with_capacity(40);
        secret.extend(secret_bytes.iter().map(|b| pick(BASE64, *b)));
        let secret = SecretKey::new(secret);

        let issued_at = now.unix_timestamp();
        let expires_at = i64::try_from(lifetime.as_secs())
            .ok()
            .and_then(|s| issued_at.checked_add(s))
            .ok_or(MintError(()))?;
        let expiration =
            OffsetDateTime::from_unix_timestamp(expires_at).map_err(|_| MintError(()))?;

        let NewSession {
            account,
            role_arn,
            role_unique_id,
            session_name,
            session_policy,
            tags,
            source_identity,
            chained,
        } = session;
        let claims = SessionClaims {
            account,
            role_arn,
            role_unique_id,
            session_name,
            access_key_id: access_key_id.clone(),
            secret_access_key: secret.clone(),
            issued_at,
            expires_at,
            session_policy,
            tags,
            source_identity,
            chained,
        };
        let plaintext = Zeroizing::new(serde_json::to_vec(&claims).map_err(|_| MintError(()))?);

        let key = &self.current;
        let header = header(key);
        let nonce: [u8; NONCE_LEN] = nonce_bytes.try_into().map_err(|_| MintError(()))?;
        let cipher = key.cipher().ok_or(MintError(()))?;
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &header,
                },
            )
            .map_err(|_| MintError(()))?;
        let mut token = header;
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);

        Ok(TemporaryCredentials {
            access_key_id,
            secret_access_key: secret,
            session_token: STANDARD.encode(&token),
            expiration,
        })
    }

    /// Opens a session token presented with `access_key_id` at time `now`.
    ///
    /// [`TokenError::Invalid`] unless the token decodes, names a key of this keyring,
    /// authenticates, was minted for `access_key_id`, and its issue and expiry times lie
    /// within the years -9999 to 9999 with the issue time first (as every token `mint`
    /// seals does: a token claiming, say, `i64::MAX` seconds is not one of ours); then
    /// [`TokenError::Expired`] from its expiry second on.
    pub fn open(
        &self,
        token: &str,
        access_key_id: &str,
        now: OffsetDateTime,
    ) -> Result<SessionClaims, TokenError> {
        self.open_at(token, access_key_id, now.unix_timestamp())
    }

    /// [`open`](Self::open) at `now` Unix seconds, which may lie outside the years -9999 to
    /// 9999 (a clock past year 9999 finds every token expired).
    pub(super) fn open_at(
        &self,
        token: &str,
        access_key_id: &str,
        now: i64,
    ) -> Result<SessionClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let bytes = STANDARD.decode(token).map_err(|_| TokenError::Invalid)?;
        let (&version, rest) = bytes.split_first().ok_or(TokenError::Invalid)?;
        if version != TOKEN_VERSION {
            return Err(TokenError::Invalid);
        }
        let (&id_len, rest) = rest.split_first().ok_or(TokenError::Invalid)?;
        let id_len = usize::from(id_len);
        let id = rest.get(..id_len).ok_or(TokenError::Invalid)?;
        let rest = rest.get(id_len..).ok_or(TokenError::Invalid)?;
        let header_bytes = bytes.get(..2 + id_len).ok_or(TokenError::Invalid)?;
        let nonce: [u8; NONCE_LEN] = rest
            .get(..NONCE_LEN)
            .and_then(|n| n.try_into().ok())
            .ok_or(TokenError::Invalid)?;
        let sealed = rest.get(NONCE_LEN..).ok_or(TokenError::Invalid)?;

        let id = std::str::from_utf8(id).map_err(|_| TokenError::Invalid)?;
        let key = self.find(id).ok_or(TokenError::Invalid)?;
        let cipher = key.cipher().ok_or(TokenError::Invalid)?;
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: sealed,
                        aad: header_bytes,
                    },
                )
                .map_err(|_| TokenError::Invalid)?,
        );
        let claims: SessionClaims =
            serde_json::from_slice(&plaintext).map_err(|_| TokenError::Invalid)?;
        if claims.access_key_id != access_key_id {
            return Err(TokenError::Invalid);
        }
        let times_in_range = is_representable(claims.issued_at)
            && is_representable(claims.expires_at)
            && claims.issued_at <= claims.expires_at;
        if !times_in_range {
            return Err(TokenError::Invalid);
        }
        if now >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

impl fmt::Debug for TokenKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeyring")
            .field("current", &self.current.id)
            .field(
                "older",
                &self.older.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// `version | id length | id`: the token's clear header, also its associated data.
fn header(key: &TokenKey) -> Vec<u8> {
    let mut header = Vec::with_capacity(2 + key.id.len() + NONCE_LEN + 512);
    header.push(TOKEN_VERSION);
    // `TokenKey::new` guarantees 1..=255 bytes.
    header.push(u8::try_from(key.id.len()).unwrap_or(u8::MAX));
    header.extend_from_slice(key.id.as_bytes());
    header
}

/// Maps a random byte onto an alphabet whose size is a power of two (no bias).
fn pick<const N: usize>(alphabet: &[u8; N], byte: u8) -> char {
    let index = usize::from(byte) % N;
    char::from(alphabet.get(index).copied().unwrap_or(b'A'))
}
