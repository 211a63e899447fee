//! jsonwebtoken's cryptography, HS256 only: our tokens are HS256 and nothing else is accepted, so
//! linking RustCrypto's RSA, ECDSA and EdDSA (what jsonwebtoken's `rust_crypto` feature brings) only
//! weighed on every API function's bootstrap. HMAC-SHA256 is the same `hmac`/`sha2` pair the Stripe
//! webhook check uses.
//!
//! Any other algorithm is refused with `InvalidAlgorithm` (decoding never gets that far: the
//! validation accepts HS256 only), and so are the JWK helpers, which we never call.

use hmac::{KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use std::sync::Once;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(ErrorKind::InvalidAlgorithm.into()),
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::InvalidAlgorithm.into()),
        ec_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        ed_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        compute_digest: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
    },
};

/// Makes HS256 jsonwebtoken's provider for this process; called before any token is read or signed.
/// A provider installed earlier by someone else stays (the process has only one).
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if HS256_ONLY.install_default().is_err() {
            tracing::warn!("a JWT crypto provider was installed before ours; keeping it");
        }
    });
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *algorithm != Algorithm::HS256 || key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(Hs256(keyed(key.as_bytes())?)))
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::HS256 || key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(Hs256(keyed(key.try_get_as_bytes()?)?)))
}

fn keyed(secret: &[u8]) -> Result<HmacSha256> {
    HmacSha256::new_from_slice(secret).map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

/// HMAC-SHA256 under one key, ready to sign or check.
struct Hs256(HmacSha256);

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // Constant-time comparison.
        mac.verify_slice(tag).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2: HMAC-SHA256 with key "Jefe".
    const KEY: &[u8] = b"Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";
    const TAG: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn signs_and_verifies_the_rfc_4231_vector() {
        let signer = signer_factory(&Algorithm::HS256, &EncodingKey::from_secret(KEY)).unwrap();
        assert_eq!(hex(&signer.try_sign(DATA).unwrap()), TAG);
        let verifier = verifier_factory(&Algorithm::HS256, &DecodingKey::from_secret(KEY)).unwrap();
        let tag = signer.try_sign(DATA).unwrap();
        assert!(verifier.verify(DATA, &tag).is_ok());
        let mut spoiled = tag.clone();
        spoiled[0] ^= 1;
        assert!(verifier.verify(DATA, &spoiled).is_err());
        assert!(verifier.verify(DATA, &tag[..31].to_vec()).is_err());
        assert!(verifier.verify(b"what do ya want for something?", &tag).is_err());
    }

    #[test]
    fn refuses_every_other_algorithm() {
        for algorithm in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ] {
            assert!(signer_factory(&algorithm, &EncodingKey::from_secret(KEY)).is_err());
            assert!(verifier_factory(&algorithm, &DecodingKey::from_secret(KEY)).is_err());
        }
    }
}
