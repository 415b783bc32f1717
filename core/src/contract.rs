//! Request and response bodies of `POST /connections`, shared so both ends agree byte for byte.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Body of `POST {backend}/connections`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConnectionRequest {
    /// Provider id from the catalog.
    pub provider: String,
    /// Secret values keyed by field key.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    /// Non-secret values keyed by field key.
    #[serde(default)]
    pub connection_config: BTreeMap<String, String>,
}

/// Body of a `201 Created` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCreated {
    /// Id the host uses to refer to the stored connection.
    pub connection_id: String,
    /// Provider id, echoed back.
    pub provider: String,
}

/// Body of every error answer: `{"error":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ApiError,
}

/// An error the widget shows: per-field messages under their fields, the rest above the button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code (`validation_failed`, `unknown_provider`, …).
    pub code: String,
    /// Human message for the whole request.
    pub message: String,
    /// Messages keyed by field key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// One stored connection as `GET /connections` lists it: never any credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// Connection id.
    pub connection_id: String,
    /// Provider id.
    pub provider: String,
    /// The non-secret configuration.
    pub connection_config: BTreeMap<String, String>,
    /// Keys of the credentials stored (the values are never listed).
    pub credential_keys: Vec<String>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json_matches_the_documented_contract() {
        let mut req = ConnectionRequest {
            provider: "kandji".into(),
            ..Default::default()
        };
        req.credentials.insert("apiKey".into(), "k".into());
        req.connection_config
            .insert("subdomain".into(), "acme.api".into());
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"provider":"kandji","credentials":{"apiKey":"k"},"connection_config":{"subdomain":"acme.api"}}"#
        );
    }

    #[test]
    fn error_body_parses_with_and_without_fields() {
        let e: ErrorBody = serde_json::from_str(
            r#"{"error":{"code":"c","message":"m","fields":{"apiKey":"bad"}}}"#,
        )
        .unwrap();
        assert_eq!(e.error.fields["apiKey"], "bad");
        let e: ErrorBody = serde_json::from_str(r#"{"error":{"code":"c","message":"m"}}"#).unwrap();
        assert!(e.error.fields.is_empty());
    }
}
