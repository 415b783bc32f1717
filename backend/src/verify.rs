//! Provider verification: before a connection is saved, one read-only request to the provider's
//! API with the submitted key tells whether the provider accepts it.
//!
//! The requests are data ([`TARGETS`]), from the providers' public API documentation; base URLs
//! can be replaced (`--verify-base`) so tests run against a fake provider on loopback.

use axum::http::StatusCode;
use connect_ui_core::{ConnectionRequest, ProviderSpec};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One provider's verification request: `GET {base}{path}` with `Authorization: Bearer <key>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Provider id in the catalog.
    pub provider: &'static str,
    /// Base URL; `{key}` placeholders are filled from the request's `connection_config`.
    pub base: &'static str,
    /// Path and query of a cheap, read-only request.
    pub path: &'static str,
    /// What the secret is called in messages ("API key", "API token").
    pub noun: &'static str,
}

/// The built-in providers' verification requests.
pub const TARGETS: &[Target] = &[
    Target {
        provider: "torii",
        base: "https://api.toriihq.com",
        path: "/v1.0/orgs/my",
        noun: "API key",
    },
    Target {
        provider: "tally",
        base: "https://api.tally.so",
        path: "/forms?limit=1",
        noun: "API key",
    },
    Target {
        provider: "ordinal",
        base: "https://app.tryordinal.com",
        path: "/api/v1/workspace",
        noun: "API key",
    },
    Target {
        provider: "workos",
        base: "https://api.workos.com",
        path: "/organizations?limit=1",
        noun: "API key",
    },
    Target {
        provider: "kandji",
        base: "https://{subdomain}.kandji.io",
        path: "/api/v1/devices?limit=1",
        noun: "API token",
    },
];

/// Whether `id` has a verification request (for `--verify-base` checks).
pub fn is_known_provider(id: &str) -> bool {
    TARGETS.iter().any(|t| t.provider == id)
}

/// Why a key was not accepted, each with the HTTP answer the backend gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The provider said 401/403: the key is wrong. Shown on the secret field.
    Rejected {
        /// Field key of the secret (`apiKey`).
        field: String,
        /// Message for the user.
        message: String,
    },
    /// The address built from the connection config leads nowhere (no such host, 404): the
    /// config is wrong, e.g. a mistyped Kandji subdomain. Shown on that config field.
    WrongConfig {
        /// Field key of the config value (`subdomain`).
        field: String,
        /// Message for the user.
        message: String,
    },
    /// No usable answer: timeout, network failure, 5xx, 429 or something unexpected.
    Unreachable {
        /// Message for the user.
        message: String,
    },
}

impl VerifyError {
    /// Whether the provider said the user's input is wrong (the key, or the config it is
    /// reached with), as opposed to not answering usably: only these count towards spending
    /// the session.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            VerifyError::Rejected { .. } | VerifyError::WrongConfig { .. }
        )
    }

    /// HTTP status and error code of the answer.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            VerifyError::Rejected { .. } => (StatusCode::BAD_REQUEST, "invalid_credentials"),
            VerifyError::WrongConfig { .. } => {
                (StatusCode::BAD_REQUEST, "invalid_connection_config")
            }
            VerifyError::Unreachable { .. } => (StatusCode::BAD_GATEWAY, "provider_unreachable"),
        }
    }
}

/// Sends verification requests; cheap to share.
#[derive(Debug, Clone)]
pub struct Verifier {
    client: reqwest::Client,
    bases: BTreeMap<String, String>,
}

impl Verifier {
    /// A verifier with the given per-request timeout and base URL overrides.
    pub fn new(timeout: Duration, bases: BTreeMap<String, String>) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Never follow a redirect: the key must not travel anywhere but the documented URL.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("connect-ui-backend/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { client, bases })
    }

    /// The URL of `provider`'s verification request for `request`, or `None` when the provider
    /// has none or a placeholder cannot be filled safely.
    pub fn url(&self, target: &Target, request: &ConnectionRequest) -> Option<String> {
        let base = self
            .bases
            .get(target.provider)
            .map_or(target.base, String::as_str);
        Some(format!("{}{}", fill(base, request)?, target.path))
    }

    /// The first connection-config key the provider's address is built from (`subdomain`).
    fn config_key(&self, target: &Target) -> Option<String> {
        let base = self
            .bases
            .get(target.provider)
            .map_or(target.base, String::as_str);
        let open = base.find('{')?;
        let close = open + base[open..].find('}')?;
        Some(base[open + 1..close].to_string())
    }

    /// Checks the request's secret with its provider. Providers without a verification request
    /// pass unchecked.
    pub async fn verify(
        &self,
        provider: &ProviderSpec,
        request: &ConnectionRequest,
    ) -> Result<(), VerifyError> {
        let Some(target) = TARGETS.iter().find(|t| t.provider == provider.id) else {
            return Ok(());
        };
        let Some(field) = provider.credentials.iter().find(|f| f.secret) else {
            return Ok(());
        };
        let key = request
            .credentials
            .get(&field.key)
            .map_or("", String::as_str);
        let name = &provider.name;
        let noun = target.noun;
        let unreachable = |detail: String| VerifyError::Unreachable {
            message: format!(
                "We couldn't check your {noun} with {name}: {detail}. Nothing was saved; \
                 try again in a moment."
            ),
        };
        let Some(url) = self.url(target, request) else {
            return Err(unreachable("its address could not be built".into()));
        };
        let short = if noun.ends_with("token") {
            "token"
        } else {
            "key"
        };
        // When the address comes from the user's config, "nobody there" means the config is wrong.
        let wrong_config = |host: &str| {
            self.config_key(target).map(|key| {
                let title = provider
                    .connection_config
                    .iter()
                    .find(|f| f.key == key)
                    .map_or(key.clone(), |f| f.title.clone());
                VerifyError::WrongConfig {
                    field: key,
                    message: format!("No {name} account answers at {host}. Check the {title}."),
                }
            })
        };
        let Ok(mut auth) = HeaderValue::from_str(&format!("Bearer {key}")) else {
            // Control characters (core refuses them first): not a key that was copied cleanly.
            return Err(VerifyError::Rejected {
                field: field.key.clone(),
                message: format!(
                    "This {noun} contains characters an {noun} never has. Copy the {short} again from {name}."
                ),
            });
        };
        auth.set_sensitive(true);
        let start = Instant::now();
        let result = self
            .client
            .get(&url)
            .header(AUTHORIZATION, auth)
            .send()
            .await;
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(
                    provider = %provider.id,
                    timeout = e.is_timeout(),
                    "verification request failed after {elapsed_ms:.0}ms"
                );
                let host = host_of(&url);
                if e.is_connect() && !e.is_timeout() {
                    if let Some(wrong) = wrong_config(host) {
                        return Err(wrong);
                    }
                }
                return Err(unreachable(if e.is_timeout() {
                    format!("{host} did not answer in time")
                } else {
                    format!("{host} could not be reached")
                }));
            }
        };
        let status = response.status();
        tracing::info!(
            provider = %provider.id,
            status = status.as_u16(),
            "verification answered in {elapsed_ms:.0}ms"
        );
        match status.as_u16() {
            200..=299 => Ok(()),
            401 | 403 => {
                let short = if noun.ends_with("token") {
                    "token"
                } else {
                    "key"
                };
                Err(VerifyError::Rejected {
                    field: field.key.clone(),
                    message: format!(
                        "{name} rejected this {noun}. Check that you copied the whole {short}."
                    ),
                })
            }
            404 => Err(wrong_config(host_of(&url))
                .unwrap_or_else(|| unreachable("it answered unexpectedly (HTTP 404)".into()))),
            429 => Err(unreachable("it is receiving too many requests".into())),
            s @ 500..=599 => Err(unreachable(format!("it answered with an error (HTTP {s})"))),
            s => Err(unreachable(format!("it answered unexpectedly (HTTP {s})"))),
        }
    }
}

/// Fills `{key}` placeholders of `template` from `connection_config`. Values must be host-name
/// safe (letters, digits, `-`, `.`), which core's validation already ensures for Kandji's
/// subdomain; anything else gives `None` rather than a URL pointing somewhere unexpected.
fn fill(template: &str, request: &ConnectionRequest) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}')?;
        out.push_str(&rest[..open]);
        let value = request.connection_config.get(&rest[open + 1..close])?;
        let safe = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !safe {
            return None;
        }
        out.push_str(value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The host part of `url`, for messages.
fn host_of(url: &str) -> &str {
    let after = url.split_once("://").map_or(url, |(_, r)| r);
    after.split(['/', '?']).next().unwrap_or(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kandji(sub: &str) -> ConnectionRequest {
        let mut r = ConnectionRequest {
            provider: "kandji".into(),
            ..Default::default()
        };
        r.connection_config.insert("subdomain".into(), sub.into());
        r
    }

    #[test]
    fn every_builtin_provider_has_a_verification_request() {
        for p in &connect_ui_core::builtin_catalog().providers {
            assert!(is_known_provider(&p.id), "{}", p.id);
        }
    }

    #[test]
    fn urls_are_the_documented_ones_and_fill_the_subdomain() {
        let v = Verifier::new(Duration::from_secs(1), BTreeMap::new()).unwrap();
        let t = |id: &str| TARGETS.iter().find(|t| t.provider == id).unwrap();
        let plain = ConnectionRequest::default();
        assert_eq!(
            v.url(t("workos"), &plain).unwrap(),
            "https://api.workos.com/organizations?limit=1"
        );
        assert_eq!(
            v.url(t("torii"), &plain).unwrap(),
            "https://api.toriihq.com/v1.0/orgs/my"
        );
        assert_eq!(
            v.url(t("tally"), &plain).unwrap(),
            "https://api.tally.so/forms?limit=1"
        );
        assert_eq!(
            v.url(t("ordinal"), &plain).unwrap(),
            "https://app.tryordinal.com/api/v1/workspace"
        );
        assert_eq!(
            v.url(t("kandji"), &kandji("acme.api")).unwrap(),
            "https://acme.api.kandji.io/api/v1/devices?limit=1"
        );
        assert_eq!(v.url(t("kandji"), &kandji("evil.com/x#")), None);
        assert_eq!(v.url(t("kandji"), &plain), None);

        let bases = BTreeMap::from([(
            "kandji".to_string(),
            "http://127.0.0.1:9/{subdomain}".to_string(),
        )]);
        let v = Verifier::new(Duration::from_secs(1), bases).unwrap();
        assert_eq!(
            v.url(t("kandji"), &kandji("acme.api")).unwrap(),
            "http://127.0.0.1:9/acme.api/api/v1/devices?limit=1"
        );
    }

    #[test]
    fn hosts_are_named_without_paths() {
        assert_eq!(host_of("https://acme.kandji.io/api/v1?x"), "acme.kandji.io");
        assert_eq!(host_of("http://127.0.0.1:9/a"), "127.0.0.1:9");
    }
}
