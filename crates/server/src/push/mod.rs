//! Web Push, the parts that are cryptography: a message sealed for one
//! browser's subscription (RFC 8291, `aes128gcm`), and the server's signed
//! claim to be the application the browser subscribed with (RFC 8292,
//! VAPID). Plain functions over bytes, with no network; [`send`] is what
//! sends them.
//!
//! The primitives are RustCrypto's (P-256 for ECDH and ECDSA, HKDF-SHA-256,
//! AES-128-GCM); this module only puts them together as the two RFCs say.

pub mod send;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// An uncompressed P-256 point, as browsers give `p256dh` and as the
/// server's key is given to them: 0x04, then x and y.
pub const POINT_BYTES: usize = 65;
/// The subscription's authentication secret.
pub const AUTH_BYTES: usize = 16;
/// The one record a message is sealed in (RFC 8188's `rs`): the whole
/// message fits, since a push service takes at least 4,096 bytes.
const RECORD_SIZE: u32 = 4096;
/// The header before the sealed record: salt, record size, key length,
/// the server's one-off public key.
const HEADER_BYTES: usize = 16 + 4 + 1 + POINT_BYTES;
/// The most a payload may hold: one record, less the delimiter and the tag.
pub const MAX_PAYLOAD_BYTES: usize = RECORD_SIZE as usize - HEADER_BYTES - 1 - 16;

/// Why a subscription's keys, or a message, cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("the subscription's p256dh key is not a P-256 public key (65 bytes, base64url)")]
    BadPublicKey,
    #[error("the subscription's auth secret is not 16 bytes of base64url")]
    BadAuth,
    #[error("the message is larger than one push ({MAX_PAYLOAD_BYTES} bytes)")]
    TooLarge,
    #[error("the message could not be opened")]
    Unreadable,
}

/// A browser's subscription keys, as `PushSubscription.toJSON()` gives
/// them under `keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    p256dh: PublicKey,
    auth: [u8; AUTH_BYTES],
}

impl Keys {
    /// From the base64url text a browser gives (padding tolerated).
    pub fn parse(p256dh: &str, auth: &str) -> Result<Keys, PushError> {
        let point = decode(p256dh).ok_or(PushError::BadPublicKey)?;
        if point.len() != POINT_BYTES {
            return Err(PushError::BadPublicKey);
        }
        let p256dh = PublicKey::from_sec1_bytes(&point).map_err(|_| PushError::BadPublicKey)?;
        let auth = decode(auth)
            .and_then(|a| <[u8; AUTH_BYTES]>::try_from(a).ok())
            .ok_or(PushError::BadAuth)?;
        Ok(Keys { p256dh, auth })
    }
}

/// Base64url, with or without padding, as browsers and push libraries
/// write it.
fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .ok()
}

/// A P-256 secret from 32 random bytes (a draw that is not a valid scalar,
/// about one in 2^32, is drawn again).
fn random_secret() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
        if let Ok(secret) = SecretKey::from_slice(&bytes) {
            return secret;
        }
    }
}

fn point(key: &PublicKey) -> [u8; POINT_BYTES] {
    let encoded = key.to_encoded_point(false);
    let mut out = [0u8; POINT_BYTES];
    out.copy_from_slice(encoded.as_bytes());
    out
}

/// Seals `payload` for one subscription, with a one-off key and salt.
pub fn seal(payload: &[u8], to: &Keys) -> Result<Vec<u8>, PushError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system gives random bytes");
    seal_with(payload, to, &random_secret(), salt)
}

/// [`seal`] with the one-off key and salt given (RFC 8291's example fixes
/// them).
pub fn seal_with(
    payload: &[u8],
    to: &Keys,
    one_off: &SecretKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, PushError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(PushError::TooLarge);
    }
    let as_public = point(&one_off.public_key());
    let shared = p256::ecdh::diffie_hellman(one_off.to_nonzero_scalar(), to.p256dh.as_affine());
    let (key, nonce) = content_keys(
        shared.raw_secret_bytes(),
        &to.auth,
        &point(&to.p256dh),
        &as_public,
        &salt,
    );
    // One record, the last: the payload and its delimiter, no padding.
    let mut record = Vec::with_capacity(payload.len() + 1);
    record.extend_from_slice(payload);
    record.push(2);
    let sealed = Aes128Gcm::new(&key.into())
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| PushError::TooLarge)?;
    let mut body = Vec::with_capacity(HEADER_BYTES + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(POINT_BYTES as u8);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// What a browser does with a message: opens it with its subscription's
/// secret key and auth secret (for a stand-in push service in tests, and
/// this module's own).
pub fn open(
    body: &[u8],
    secret: &SecretKey,
    auth: &[u8; AUTH_BYTES],
) -> Result<Vec<u8>, PushError> {
    if body.len() < HEADER_BYTES + 17 || usize::from(body[20]) != POINT_BYTES {
        return Err(PushError::Unreadable);
    }
    let salt = &body[..16];
    let as_public = &body[21..HEADER_BYTES];
    let sender = PublicKey::from_sec1_bytes(as_public).map_err(|_| PushError::Unreadable)?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), sender.as_affine());
    let (key, nonce) = content_keys(
        shared.raw_secret_bytes(),
        auth,
        &point(&secret.public_key()),
        as_public,
        salt,
    );
    let mut record = Aes128Gcm::new(&key.into())
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &body[HEADER_BYTES..],
                aad: &[],
            },
        )
        .map_err(|_| PushError::Unreadable)?;
    // The last record ends with 2, then any padding of zeros.
    while record.last() == Some(&0) {
        record.pop();
    }
    if record.pop() != Some(2) {
        return Err(PushError::Unreadable);
    }
    Ok(record)
}

/// RFC 8291 §3.4 and RFC 8188 §2.2: the content key and nonce, from the
/// ECDH secret, the auth secret, both public keys and the salt.
fn content_keys(
    shared: &[u8],
    auth: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> ([u8; 16], [u8; 12]) {
    let mut info = Vec::with_capacity(14 + 2 * POINT_BYTES);
    info.extend_from_slice(b"WebPush: info\0");
    info.extend_from_slice(ua_public);
    info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared)
        .expand(&info, &mut ikm)
        .expect("32 bytes is a valid HKDF-SHA-256 length");
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut key = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut key)
        .expect("16 bytes is a valid length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes is a valid length");
    (key, nonce)
}

/// The server's application key (RFC 8292): browsers subscribe with its
/// public half, and each push is signed with it.
#[derive(Clone)]
pub struct VapidKey(SecretKey);

impl VapidKey {
    pub fn generate() -> VapidKey {
        VapidKey(random_secret())
    }

    /// The key as kept: its 32 secret bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes().into()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<VapidKey> {
        SecretKey::from_slice(bytes).ok().map(VapidKey)
    }

    /// The key the store keeps, made and kept now if it keeps none; `None`
    /// if what it keeps is not a P-256 key.
    pub fn kept(store: &dyn crate::store::Store) -> crate::store::StoreResult<Option<VapidKey>> {
        let fresh = VapidKey::generate().to_bytes();
        Ok(VapidKey::from_bytes(&store.push_key(&fresh)?))
    }

    /// The public key as `PushManager.subscribe`'s `applicationServerKey`
    /// takes it: base64url of the uncompressed point.
    pub fn public(&self) -> String {
        URL_SAFE_NO_PAD.encode(point(&self.0.public_key()))
    }

    /// The `Authorization` header for one push: `vapid t=<JWT>, k=<key>`,
    /// the JWT (ES256) naming the push service's origin (`aud`), when it
    /// expires (`exp`, seconds since 1970) and whom to contact (`sub`).
    pub fn authorization(&self, audience: &str, expires: i64, contact: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": expires, "sub": contact });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: Signature = SigningKey::from(&self.0).sign(signed.as_bytes());
        format!(
            "vapid t={signed}.{}, k={}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes()),
            self.public()
        )
    }
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VapidKey({})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    use super::*;

    // RFC 8291 §5 and Appendix A: every input of its example, and the
    // message it gives.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const MESSAGE: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn secret(text: &str) -> SecretKey {
        SecretKey::from_slice(&decode(text).unwrap()).unwrap()
    }

    fn auth() -> [u8; 16] {
        decode(AUTH).unwrap().try_into().unwrap()
    }

    #[test]
    fn the_rfc_s_example_is_sealed_byte_for_byte_and_opened() {
        let to = Keys::parse(UA_PUBLIC, AUTH).unwrap();
        let salt = decode(SALT).unwrap().try_into().unwrap();
        let body = seal_with(PLAINTEXT.as_bytes(), &to, &secret(AS_PRIVATE), salt).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(&body), MESSAGE);
        let opened = open(&body, &secret(UA_PRIVATE), &auth()).unwrap();
        assert_eq!(opened, PLAINTEXT.as_bytes());
    }

    #[test]
    fn each_message_is_sealed_afresh_and_only_its_subscriber_opens_it() {
        let to = Keys::parse(UA_PUBLIC, &format!("{AUTH}==")).unwrap();
        let payload = br#"{"code":"K7QF2-M3XDA","status":"raised_with_police"}"#;
        let (one, two) = (seal(payload, &to).unwrap(), seal(payload, &to).unwrap());
        assert_ne!(one, two, "a new key and salt each time");
        for body in [&one, &two] {
            assert_eq!(open(body, &secret(UA_PRIVATE), &auth()).unwrap(), payload);
            assert_eq!(
                open(body, &random_secret(), &auth()),
                Err(PushError::Unreadable)
            );
            assert_eq!(
                open(body, &secret(UA_PRIVATE), &[0; 16]),
                Err(PushError::Unreadable)
            );
        }
        let mut tampered = one.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            open(&tampered, &secret(UA_PRIVATE), &auth()),
            Err(PushError::Unreadable)
        );
        assert_eq!(
            open(&one[..40], &secret(UA_PRIVATE), &auth()),
            Err(PushError::Unreadable)
        );
        let most = vec![b'x'; MAX_PAYLOAD_BYTES];
        assert_eq!(seal(&most, &to).unwrap().len(), RECORD_SIZE as usize);
        assert_eq!(
            seal(&[most, vec![b'x']].concat(), &to),
            Err(PushError::TooLarge)
        );
    }

    #[test]
    fn a_subscription_s_keys_are_checked() {
        assert_eq!(Keys::parse("", AUTH), Err(PushError::BadPublicKey));
        assert_eq!(
            Keys::parse(&UA_PUBLIC[..80], AUTH),
            Err(PushError::BadPublicKey)
        );
        // 65 bytes that are not a point on the curve.
        let off_curve = URL_SAFE_NO_PAD.encode([4u8; 65]);
        assert_eq!(Keys::parse(&off_curve, AUTH), Err(PushError::BadPublicKey));
        assert_eq!(Keys::parse(UA_PUBLIC, "AQI"), Err(PushError::BadAuth));
        assert_eq!(
            Keys::parse(UA_PUBLIC, "not base64!"),
            Err(PushError::BadAuth)
        );
    }

    #[test]
    fn a_vapid_header_is_an_es256_jwt_the_public_key_verifies() {
        let key = VapidKey::generate();
        let kept = VapidKey::from_bytes(&key.to_bytes()).unwrap();
        assert_eq!(kept.public(), key.public());
        assert_eq!(decode(&key.public()).unwrap().len(), POINT_BYTES);
        let header = key.authorization(
            "https://push.example.net",
            1_800_000_000,
            "mailto:host@example.org",
        );
        let (token, k) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap();
        assert_eq!(k, key.public());
        let parts: Vec<_> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let json = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&decode(part).unwrap()).unwrap()
        };
        assert_eq!(
            json(parts[0]),
            serde_json::json!({"typ": "JWT", "alg": "ES256"})
        );
        assert_eq!(
            json(parts[1]),
            serde_json::json!({"aud": "https://push.example.net", "exp": 1_800_000_000, "sub": "mailto:host@example.org"})
        );
        let verifying = VerifyingKey::from_sec1_bytes(&decode(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&decode(parts[2]).unwrap()).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(verifying.verify(signed.as_bytes(), &signature).is_ok());
        assert!(verifying.verify(b"something else", &signature).is_err());
        assert!(VapidKey::from_bytes(&[0; 32]).is_none());
    }
}
