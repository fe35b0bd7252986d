//! Bearer-JWT authentication: the `Principal` extractor, token verification and minting.
//!
//! The algorithm is pinned by configuration (HS256 with a shared secret, or RS256/ES256/EdDSA
//! with a PEM public key); `alg: none`, algorithm confusion, a `crit` header, oversized tokens,
//! missing `exp` and absurdly long lifetimes are all rejected. `nbf`, `iss` and `aud` are checked
//! when present/configured, with a small, explicit leeway. With `BUYERPATH_JWT_JWKS_URL` the
//! keys come from an identity provider's JWKS, selected by `kid` (`jwks.rs`).

pub mod jwks;

use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use crate::domain::ids::TenantId;
use crate::domain::texts::{self, Refusal};
use crate::domain::validate::{Code, Format, In, TokenFault, Violation};
use actix_web::{web, FromRequest, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::JwtConfig;
use crate::error::ApiError;
pub use crate::service::principal::{Principal, Role};

/// Tokens larger than this are rejected before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// `exp` further in the future than this is rejected (one year and a day).
pub const MAX_LIFETIME_SECS: u64 = 366 * 24 * 3600;

/// The claims buyerpath reads. Unknown claims are ignored; duplicate keys fail.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    pub roles: Vec<String>,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
}

/// Verifies tokens (and, with a shared secret, mints them).
pub struct JwtKeys {
    algorithm: Algorithm,
    /// The one verification key (none with a JWKS).
    decoding: Option<DecodingKey>,
    encoding: Option<EncodingKey>,
    validation: Validation,
    cfg: JwtConfig,
    jwks: Option<Arc<jwks::Jwks>>,
}

/// Why a token was not accepted.
#[derive(Debug)]
pub enum Rejected {
    /// Its `kid` is not in the JWKS (yet): fetching the set again may help.
    UnknownKid,
    Invalid(ApiError),
}

impl From<ApiError> for Rejected {
    fn from(e: ApiError) -> Self {
        Rejected::Invalid(e)
    }
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtKeys({:?})", self.algorithm)
    }
}

impl JwtKeys {
    /// HS256 with a shared secret.
    pub fn hs256(secret: &[u8], cfg: &JwtConfig) -> JwtKeys {
        JwtKeys {
            algorithm: Algorithm::HS256,
            decoding: Some(DecodingKey::from_secret(secret)),
            encoding: Some(EncodingKey::from_secret(secret)),
            validation: validation(Algorithm::HS256, cfg),
            cfg: cfg.clone(),
            jwks: None,
        }
    }

    /// Keys of an identity provider's JWKS at `url` (none until `jwks().fetch()`).
    pub fn jwks_url(url: &str, cfg: &JwtConfig) -> Result<JwtKeys, String> {
        Ok(JwtKeys {
            algorithm: Algorithm::RS256,
            decoding: None,
            encoding: None,
            validation: validation(Algorithm::RS256, cfg),
            cfg: cfg.clone(),
            jwks: Some(jwks::Jwks::new(url)?),
        })
    }

    /// The JWKS store, when keys come from one.
    pub fn jwks(&self) -> Option<Arc<jwks::Jwks>> {
        self.jwks.clone()
    }

    /// An asymmetric algorithm with a PEM public key (verification only).
    pub fn public_key(
        algorithm: Algorithm,
        pem: &[u8],
        cfg: &JwtConfig,
    ) -> Result<JwtKeys, String> {
        let decoding = match algorithm {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(pem),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            other => return Err(format!("unsupported algorithm {other:?}")),
        }
        .map_err(|e| {
            format!("BUYERPATH_JWT_PUBLIC_KEY: not a valid {algorithm:?} public key PEM: {e}")
        })?;
        Ok(JwtKeys {
            algorithm,
            decoding: Some(decoding),
            encoding: None,
            validation: validation(algorithm, cfg),
            cfg: cfg.clone(),
            jwks: None,
        })
    }

    /// Mints a token (shared-secret configurations only).
    pub fn mint(
        &self,
        tenant: Uuid,
        sub: &str,
        roles: &[Role],
        ttl_secs: u64,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<String, String> {
        let Some(key) = &self.encoding else {
            return Err(
                "tokens can only be minted with a shared secret (BUYERPATH_JWT_SECRET)".to_string(),
            );
        };
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_string(),
            tenant: tenant.to_string(),
            roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
            exp: now + ttl_secs,
            nbf: Some(now),
            iat: Some(now),
            iss: issuer.map(str::to_string),
            aud: audience.map(|a| serde_json::Value::String(a.to_string())),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, key).map_err(|e| e.to_string())
    }

    /// Verifies a bearer token and turns it into a principal.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        self.check(token).map_err(|r| match r {
            Rejected::UnknownKid => unauthenticated(TokenFault::UnknownKey),
            Rejected::Invalid(e) => e,
        })
    }

    /// `verify`, telling an unknown `kid` apart.
    pub fn check(&self, token: &str) -> Result<Principal, Rejected> {
        let unauth = unauthenticated;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(unauth(TokenFault::TooLarge).into());
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| unauth(TokenFault::Malformed))?;
        if header.crit.is_some() {
            return Err(unauth(TokenFault::Critical).into());
        }
        let from_set;
        let owned_validation;
        let (key, validation) = match (&self.jwks, &self.decoding) {
            (Some(set), _) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| unauth(TokenFault::NoKeyId))?;
                from_set = set.get(kid).ok_or(Rejected::UnknownKid)?;
                if header.alg != from_set.algorithm {
                    return Err(unauth(TokenFault::Algorithm).into());
                }
                owned_validation = validation(from_set.algorithm, &self.cfg);
                (&from_set.key, &owned_validation)
            }
            (None, Some(key)) => {
                if header.alg != self.algorithm {
                    return Err(unauth(TokenFault::Algorithm).into());
                }
                (key, &self.validation)
            }
            (None, None) => return Err(ApiError::internal("no JWT verification key").into()),
        };
        let data = jsonwebtoken::decode::<Claims>(token, key, validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => unauth(TokenFault::Expired),
                K::ImmatureSignature => unauth(TokenFault::NotYetValid),
                K::InvalidSignature => unauth(TokenFault::Signature),
                K::InvalidAlgorithm => unauth(TokenFault::Algorithm),
                K::InvalidIssuer => unauth(TokenFault::Issuer),
                K::InvalidAudience => unauth(TokenFault::Audience),
                K::MissingRequiredClaim(_) => unauth(TokenFault::Claims),
                K::Json(_) => unauth(TokenFault::Claims),
                _ => unauth(TokenFault::Malformed),
            }
        })?;
        Ok(Self::principal_of(data.claims)?)
    }

    fn principal_of(claims: Claims) -> Result<Principal, ApiError> {
        let unauth = unauthenticated;
        let now = jsonwebtoken::get_current_timestamp();
        if claims.exp > now + MAX_LIFETIME_SECS {
            return Err(unauth(TokenFault::Lifetime));
        }
        let sub = claims.sub.trim();
        if sub.is_empty() || sub.len() > 200 || sub.contains('\0') {
            return Err(unauth(TokenFault::Claims));
        }
        let tenant = Uuid::parse_str(&claims.tenant).map_err(|_| unauth(TokenFault::Claims))?;
        if tenant.is_nil() {
            return Err(unauth(TokenFault::Claims));
        }
        let mut roles = Vec::with_capacity(claims.roles.len());
        for r in &claims.roles {
            match Role::parse(r) {
                Some(role) => roles.push(role),
                None => {
                    let role = r.chars().take(40).collect::<String>();
                    return Err(ApiError::Forbidden(texts::forbidden(
                        &Refusal::UnknownRole(role),
                    )));
                }
            }
        }
        if roles.is_empty() {
            return Err(ApiError::Forbidden(texts::forbidden(&Refusal::NoRole)));
        }
        roles.sort();
        roles.dedup();
        Ok(Principal {
            tenant: TenantId::new(tenant),
            sub: sub.to_string(),
            roles,
        })
    }
}

fn validation(alg: Algorithm, cfg: &JwtConfig) -> Validation {
    let mut v = Validation::new(alg);
    v.algorithms = vec![alg];
    v.leeway = cfg.leeway_secs;
    v.validate_exp = true;
    v.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    match &cfg.issuer {
        Some(iss) => {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        None => v.iss = None,
    }
    match &cfg.audience {
        Some(aud) => {
            v.set_audience(&[aud]);
            v.validate_aud = true;
            required.push("aud");
        }
        None => {
            v.aud = None;
            v.validate_aud = false;
        }
    }
    v.set_required_spec_claims(&required);
    v
}

/// Parses a TTL such as `8h`, `30m`, `45s`, `2d` or a plain number of seconds.
pub fn parse_ttl(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("invalid ttl {s:?}"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("invalid ttl unit in {s:?}; use s, m, h or d")),
    };
    if secs == 0 || secs > MAX_LIFETIME_SECS {
        return Err(format!(
            "ttl must be between 1s and {}d",
            MAX_LIFETIME_SECS / 86400
        ));
    }
    Ok(secs)
}

/// A 401 for a token refused for `fault`.
fn unauthenticated(fault: TokenFault) -> ApiError {
    ApiError::Unauthenticated(Box::new(Violation::at(
        In::Header,
        "Authorization",
        Code::InvalidToken(fault),
    )))
}

fn malformed_header() -> ApiError {
    ApiError::Unauthenticated(Box::new(Violation::at(
        In::Header,
        "Authorization",
        Code::InvalidFormat(Format::BearerToken),
    )))
}

/// The bearer token of a request.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthenticated(Box::new(Violation::at(
                In::Header,
                "Authorization",
                Code::Required,
            )))
        })?;
    let value = header.to_str().map_err(|_| malformed_header())?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(malformed_header)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Principal, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        // Verified once per request: middleware that needed it left it in the extensions.
        if let Some(p) = actix_web::HttpMessage::extensions(req).get::<Principal>() {
            let p = p.clone();
            return Box::pin(async move { Ok(p) });
        }
        let req = req.clone();
        Box::pin(async move {
            let keys = req
                .app_data::<web::Data<JwtKeys>>()
                .cloned()
                .ok_or_else(|| ApiError::internal("JWT keys missing from the application"))?;
            let token = bearer(&req)?;
            let p = match keys.check(&token) {
                Ok(p) => p,
                Err(Rejected::Invalid(e)) => return Err(e),
                // A key the provider may have published since the last fetch.
                Err(Rejected::UnknownKid) => match keys.jwks() {
                    Some(set) if set.refetch_for_unknown_kid().await => keys.verify(&token)?,
                    _ => keys.verify(&token)?,
                },
            };
            // Kept for the rest of the request (access log, idempotency, rate limits).
            actix_web::HttpMessage::extensions_mut(&req).insert(p.clone());
            Ok(p)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JwtKeySource;
    use base64::Engine;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn cfg() -> JwtConfig {
        JwtConfig {
            key: JwtKeySource::Secret(SECRET.to_vec()),
            issuer: None,
            audience: None,
            leeway_secs: 5,
        }
    }

    fn b64(v: &serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn signs_and_verifies_with_the_crypto_backend() {
        let keys = JwtKeys::hs256(SECRET, &cfg());
        let tenant = Uuid::now_v7();
        let token = keys
            .mint(
                tenant,
                "alice",
                &[Role::Rep, Role::Viewer, Role::Rep],
                60,
                None,
                None,
            )
            .unwrap();
        let p = keys.verify(&token).unwrap();
        assert_eq!(p.tenant.get(), tenant);
        assert_eq!(p.sub, "alice");
        assert_eq!(p.roles, vec![Role::Viewer, Role::Rep]);
    }

    #[test]
    fn rejects_alg_none() {
        let keys = JwtKeys::hs256(SECRET, &cfg());
        let header = serde_json::json!({"alg": "none", "typ": "JWT"});
        let claims = serde_json::json!({"sub": "x", "tenant": Uuid::now_v7(), "roles": ["admin"], "exp": 4_000_000_000u64});
        let token = format!("{}.{}.", b64(&header), b64(&claims));
        assert!(matches!(
            keys.verify(&token),
            Err(ApiError::Unauthenticated(_))
        ));
    }

    #[test]
    fn rejects_wrong_secret_and_tampering() {
        let keys = JwtKeys::hs256(SECRET, &cfg());
        let other = JwtKeys::hs256(b"another-secret-another-secret-xx", &cfg());
        let token = other
            .mint(Uuid::now_v7(), "mallory", &[Role::Admin], 60, None, None)
            .unwrap();
        assert!(matches!(
            keys.verify(&token),
            Err(ApiError::Unauthenticated(_))
        ));
    }

    #[test]
    fn issuer_and_audience_are_enforced_when_configured() {
        let mut c = cfg();
        c.issuer = Some("https://idp.example".into());
        c.audience = Some("buyerpath".into());
        let keys = JwtKeys::hs256(SECRET, &c);
        let t = Uuid::now_v7();
        let good = keys
            .mint(
                t,
                "a",
                &[Role::Viewer],
                60,
                Some("https://idp.example"),
                Some("buyerpath"),
            )
            .unwrap();
        assert!(keys.verify(&good).is_ok());
        let no_iss = keys
            .mint(t, "a", &[Role::Viewer], 60, None, Some("buyerpath"))
            .unwrap();
        assert!(keys.verify(&no_iss).is_err());
        let bad_aud = keys
            .mint(
                t,
                "a",
                &[Role::Viewer],
                60,
                Some("https://idp.example"),
                Some("other"),
            )
            .unwrap();
        assert!(keys.verify(&bad_aud).is_err());
    }

    #[test]
    fn unknown_role_is_forbidden() {
        let keys = JwtKeys::hs256(SECRET, &cfg());
        let claims = serde_json::json!({
            "sub": "x", "tenant": Uuid::now_v7().to_string(), "roles": ["root"],
            "exp": jsonwebtoken::get_current_timestamp() + 60
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(matches!(keys.verify(&token), Err(ApiError::Forbidden(_))));
    }

    #[test]
    fn ttl_parsing() {
        assert_eq!(parse_ttl("8h").unwrap(), 8 * 3600);
        assert_eq!(parse_ttl("90").unwrap(), 90);
        assert_eq!(parse_ttl("2d").unwrap(), 172_800);
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("400d").is_err());
    }

    #[test]
    fn role_rules() {
        let t = TenantId::new(Uuid::now_v7());
        let rep = Principal {
            tenant: t,
            sub: "r".into(),
            roles: vec![Role::Rep],
        };
        let viewer = Principal {
            tenant: t,
            sub: "v".into(),
            roles: vec![Role::Viewer],
        };
        let manager = Principal {
            tenant: t,
            sub: "m".into(),
            roles: vec![Role::Manager],
        };
        assert!(rep.may_write_owned_by("r"));
        assert!(!rep.may_write_owned_by("someone"));
        assert!(!viewer.may_write_owned_by("v"));
        assert!(!viewer.may_create());
        assert!(manager.may_write_owned_by("anyone"));
    }
}
