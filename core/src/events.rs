//! The one event vocabulary the widget speaks to its host, in every embedding mode: typed here,
//! serialised as `{"version":1,"type":"connected","payload":{…}}`. Never a secret in an event.

use serde::Serialize;

/// Version of the event format; bumped on any incompatible change.
pub const EVENT_VERSION: u32 = 1;

/// What happened, with its payload. Serialised with `type` and `payload` keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum ConnectEvent {
    /// The widget is on screen and interactive.
    Ready {
        /// The provider shown, when one is fixed.
        provider: Option<String>,
    },
    /// The user picked a provider in the picker.
    ProviderSelected {
        /// Provider id.
        provider: String,
    },
    /// A submit was refused by validation; lists field keys, never values.
    ValidationFailed {
        /// Provider id.
        provider: String,
        /// Keys of the fields that need attention, in form order.
        fields: Vec<String>,
    },
    /// A submission was sent to the backend.
    Submitted {
        /// Provider id.
        provider: String,
    },
    /// The backend stored the connection.
    Connected {
        /// Id of the stored connection.
        connection_id: String,
        /// Provider id.
        provider: String,
    },
    /// A submission failed; the message is what the user was shown.
    Error {
        /// Provider id.
        provider: String,
        /// Stable error code.
        code: String,
        /// The message shown.
        message: String,
    },
    /// The user closed the widget (Escape or the close button).
    Closed,
}

/// The envelope hosts receive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventEnvelope<'a> {
    /// Event format version.
    pub version: u32,
    /// The event, flattened into `type` and `payload`.
    #[serde(flatten)]
    pub event: &'a ConnectEvent,
}

impl ConnectEvent {
    /// The event as the JSON hosts receive.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&EventEnvelope {
            version: EVENT_VERSION,
            event: self,
        })
        .unwrap_or_default()
    }

    /// The `type` string, e.g. for a DOM `CustomEvent` name.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectEvent::Ready { .. } => "ready",
            ConnectEvent::ProviderSelected { .. } => "provider_selected",
            ConnectEvent::ValidationFailed { .. } => "validation_failed",
            ConnectEvent::Submitted { .. } => "submitted",
            ConnectEvent::Connected { .. } => "connected",
            ConnectEvent::Error { .. } => "error",
            ConnectEvent::Closed => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_version_type_and_payload() {
        let e = ConnectEvent::Connected {
            connection_id: "conn_1".into(),
            provider: "kandji".into(),
        };
        assert_eq!(
            e.to_json(),
            r#"{"version":1,"type":"connected","payload":{"connection_id":"conn_1","provider":"kandji"}}"#
        );
        assert_eq!(
            ConnectEvent::Closed.to_json(),
            r#"{"version":1,"type":"closed"}"#
        );
        let v = ConnectEvent::ValidationFailed {
            provider: "workos".into(),
            fields: vec!["apiKey".into()],
        };
        assert_eq!(v.kind(), "validation_failed");
        assert!(v.to_json().contains(r#""fields":["apiKey"]"#));
    }
}
