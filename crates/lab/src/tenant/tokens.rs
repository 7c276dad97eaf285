//! The simulator's signing key and the JWTs it issues: RS256, as Entra signs them.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};

use super::TenantError;

/// The audience of access tokens for Microsoft Graph.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

/// A freshly generated RSA key with its JWK.
pub struct Keys {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Keys {
    /// Generates a 2048-bit RSA key (≈0.1 s) with a random key id.
    pub fn generate() -> Result<Keys, TenantError> {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| TenantError::Internal { detail: format!("RSA key generation: {e}") })?;
        let der = key.to_pkcs1_der().map_err(|e| TenantError::Internal { detail: format!("RSA key encoding: {e}") })?;
        let n = b64url(&key.n().to_bytes_be());
        let e = b64url(&key.e().to_bytes_be());
        let decoding = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|err| TenantError::Internal { detail: format!("RSA public key: {err}") })?;
        Ok(Keys {
            kid: uuid::Uuid::new_v4().simple().to_string(),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding,
            n,
            e,
        })
    }

    /// The JWK Set document (`/discovery/v2.0/keys`).
    pub fn jwks(&self, issuer: &str) -> serde_json::Value {
        serde_json::json!({ "keys": [{
            "kty": "RSA", "use": "sig", "kid": self.kid, "n": self.n, "e": self.e, "alg": "RS256", "issuer": issuer
        }]})
    }

    /// Signs claims as an RS256 JWT with this key's `kid`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, TenantError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| TenantError::Internal { detail: format!("JWT signing: {e}") })
    }

    /// Checks the signature and audience of an access token. Expiry is checked by the caller
    /// against the simulator's (injected) clock.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, String> {
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[GRAPH_AUDIENCE]);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &v).map(|d| d.claims).map_err(|e| e.to_string())
    }
}

/// The claims of an access token for Graph (a subset of Entra's v1.0 access token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Audience: `https://graph.microsoft.com`.
    pub aud: String,
    pub iss: String,
    /// Issued at.
    pub iat: u64,
    /// Not before.
    pub nbf: u64,
    pub exp: u64,
    /// Client id.
    pub appid: String,
    /// Display name of the user.
    pub name: String,
    /// Object id of the user.
    pub oid: String,
    /// Delegated permissions, space-separated.
    pub scp: String,
    /// Tenant id.
    pub tid: String,
    /// User principal name.
    pub upn: String,
    /// Unique token id.
    pub uti: String,
    /// Token version.
    pub ver: String,
}

/// The claims of an ID token (OpenID Connect).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    /// Audience: the client id.
    pub aud: String,
    pub iss: String,
    /// Issued at.
    pub iat: u64,
    /// Not before.
    pub nbf: u64,
    pub exp: u64,
    /// Display name.
    pub name: String,
    /// Object id.
    pub oid: String,
    /// Sign-in name.
    pub preferred_username: String,
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Token version.
    pub ver: String,
}
