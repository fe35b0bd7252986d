//! Keys an identity provider publishes as a JWKS (`BUYERPATH_JWT_JWKS_URL`): fetched at start
//! (start-up fails if that fetch fails), refreshed on a schedule, and refreshed when a token
//! names a `kid` the set does not have — at most once per `MIN_REFETCH`, so forged `kid`s
//! cannot make the service hammer the provider.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// The least time between two fetches caused by unknown `kid`s.
pub const MIN_REFETCH: Duration = Duration::from_secs(30);

/// A key of the set: its algorithm and the key.
#[derive(Clone)]
pub struct SetKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

pub struct Jwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, SetKey>>,
    /// When an unknown `kid` last caused a fetch.
    last_fetch: Mutex<Option<Instant>>,
    single_flight: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jwks({})", self.url)
    }
}

/// The algorithm of a JWK: its `alg`, or what its key type implies; only RS256, ES256 and
/// EdDSA are accepted.
fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Some(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Some(implied),
        Some(KeyAlgorithm::EdDSA) if implied == Algorithm::EdDSA => Some(implied),
        Some(_) => None,
    }
}

/// The usable keys of a set, by `kid` (keys without a `kid`, for encryption, or of other
/// algorithms are left out).
pub fn keys_of(set: &JwkSet) -> HashMap<String, SetKey> {
    set.keys
        .iter()
        .filter(|k| {
            !matches!(
                k.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            )
        })
        .filter_map(|k| {
            let kid = k.common.key_id.clone()?;
            let algorithm = algorithm_of(k)?;
            let key = DecodingKey::from_jwk(k).ok()?;
            Some((kid, SetKey { algorithm, key }))
        })
        .collect()
}

impl Jwks {
    pub fn new(url: &str) -> Result<Arc<Jwks>, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("buyerpath/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("BUYERPATH_JWT_JWKS_URL: cannot build a client: {e}"))?;
        Ok(Arc::new(Jwks {
            url: url.to_string(),
            client,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
            single_flight: tokio::sync::Mutex::new(()),
        }))
    }

    pub fn get(&self, kid: &str) -> Option<SetKey> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    /// Fetches the set and replaces the keys; returns how many are usable.
    pub async fn fetch(&self) -> Result<usize, String> {
        let _one = self.single_flight.lock().await;
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("BUYERPATH_JWT_JWKS_URL: cannot fetch {}: {e}", self.url))?
            .bytes()
            .await
            .map_err(|e| format!("BUYERPATH_JWT_JWKS_URL: cannot read {}: {e}", self.url))
            .and_then(|b| {
                serde_json::from_slice(&b)
                    .map_err(|e| format!("BUYERPATH_JWT_JWKS_URL: {} is not a JWKS: {e}", self.url))
            })?;
        let keys = keys_of(&set);
        if keys.is_empty() {
            return Err(format!(
                "BUYERPATH_JWT_JWKS_URL: {} holds no RS256, ES256 or EdDSA key with a kid",
                self.url
            ));
        }
        let n = keys.len();
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
        Ok(n)
    }

    /// Fetches again for an unknown `kid`, unless another unknown `kid` caused a fetch within
    /// `MIN_REFETCH`; returns whether it fetched successfully.
    pub async fn refetch_for_unknown_kid(&self) -> bool {
        {
            let Ok(mut last) = self.last_fetch.lock() else {
                return false;
            };
            if last.is_some_and(|t| t.elapsed() < MIN_REFETCH) {
                return false;
            }
            *last = Some(Instant::now());
        }
        match self.fetch().await {
            Ok(_) => true,
            Err(e) => {
                log::warn!("{e}");
                false
            }
        }
    }

    /// Refreshes every `every` until the process ends (keys keep working if a refresh fails).
    pub async fn refresh_forever(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = self.fetch().await {
                log::warn!("{e} (keeping the previous keys)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_keys_need_a_kid_and_a_supported_algorithm() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "enc", "use": "enc", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "wrong-alg", "alg": "RS256", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}))
        .unwrap();
        let keys = keys_of(&set);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys["ed"].algorithm, Algorithm::EdDSA);
    }
}
