//! The one event vocabulary the widget speaks to its host, in every embedding mode: typed here,
//! serialised as `{"version":1,"type":"connected","payload":{…}}`. Never a secret in an event.

use crate::value::Value;
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
        /// The end user's label for it (`null` when none).
        label: Option<String>,
    },
    /// A reconnect changed a stored connection (new keys, config or label).
    Updated {
        /// Id of the changed connection.
        connection_id: String,
        /// Provider id.
        provider: String,
        /// Its label after the change (`null` when none).
        label: Option<String>,
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
    /// The event as hosts receive it (`{"version":1,"type":…,"payload":{…}}`), as a value the
    /// widget turns into a JavaScript object: what serde makes of `EventEnvelope` (tested).
    pub fn to_value(&self) -> Value {
        let s = |v: &str| Value::from(v);
        let payload = match self {
            ConnectEvent::Closed => None,
            ConnectEvent::Ready { provider } => Some(Value::object([(
                "provider",
                provider.as_deref().map_or(Value::Null, s),
            )])),
            ConnectEvent::ValidationFailed { provider, fields } => Some(Value::object([
                ("provider", s(provider)),
                (
                    "fields",
                    Value::Array(fields.iter().map(|f| s(f)).collect()),
                ),
            ])),
            ConnectEvent::ProviderSelected { provider } | ConnectEvent::Submitted { provider } => {
                Some(Value::object([("provider", s(provider))]))
            }
            ConnectEvent::Connected {
                connection_id,
                provider,
                label,
            }
            | ConnectEvent::Updated {
                connection_id,
                provider,
                label,
            } => Some(Value::object([
                ("connection_id", s(connection_id)),
                ("provider", s(provider)),
                ("label", label.as_deref().map_or(Value::Null, s)),
            ])),
            ConnectEvent::Error {
                provider,
                code,
                message,
            } => Some(Value::object([
                ("provider", s(provider)),
                ("code", s(code)),
                ("message", s(message)),
            ])),
        };
        let mut out = vec![
            ("version", Value::Number(f64::from(EVENT_VERSION))),
            ("type", s(self.kind())),
        ];
        if let Some(payload) = payload {
            out.push(("payload", payload));
        }
        Value::object(out)
    }

    /// The `type` string, e.g. for a DOM `CustomEvent` name.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectEvent::Ready { .. } => "ready",
            ConnectEvent::ProviderSelected { .. } => "provider_selected",
            ConnectEvent::ValidationFailed { .. } => "validation_failed",
            ConnectEvent::Submitted { .. } => "submitted",
            ConnectEvent::Connected { .. } => "connected",
            ConnectEvent::Updated { .. } => "updated",
            ConnectEvent::Error { .. } => "error",
            ConnectEvent::Closed => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_json(e: &ConnectEvent) -> serde_json::Value {
        serde_json::to_value(EventEnvelope {
            version: EVENT_VERSION,
            event: e,
        })
        .unwrap()
    }

    #[test]
    fn events_carry_version_type_and_payload() {
        let e = ConnectEvent::Connected {
            connection_id: "conn_1".into(),
            provider: "kandji".into(),
            label: None,
        };
        assert_eq!(
            as_json(&e).to_string(),
            r#"{"payload":{"connection_id":"conn_1","label":null,"provider":"kandji"},"type":"connected","version":1}"#
        );
        assert_eq!(
            ConnectEvent::Closed.to_value(),
            Value::object([
                ("type", Value::from("closed")),
                ("version", Value::Number(1.0))
            ])
        );
        let v = ConnectEvent::ValidationFailed {
            provider: "workos".into(),
            fields: vec!["apiKey".into()],
        };
        assert_eq!(v.kind(), "validation_failed");
        assert_eq!(
            v.to_value().get("payload").and_then(|p| p.get("fields")),
            Some(&Value::Array(vec![Value::from("apiKey")]))
        );
    }

    #[test]
    fn the_widgets_events_are_what_serde_makes_of_them() {
        let odd = "a\"b\\c\n\u{1}é/\u{7f}";
        let events = [
            ConnectEvent::Ready { provider: None },
            ConnectEvent::Ready {
                provider: Some(odd.into()),
            },
            ConnectEvent::ProviderSelected {
                provider: odd.into(),
            },
            ConnectEvent::ValidationFailed {
                provider: "p".into(),
                fields: vec![],
            },
            ConnectEvent::ValidationFailed {
                provider: odd.into(),
                fields: vec!["a".into(), odd.into()],
            },
            ConnectEvent::Submitted {
                provider: odd.into(),
            },
            ConnectEvent::Connected {
                connection_id: odd.into(),
                provider: "".into(),
                label: None,
            },
            ConnectEvent::Updated {
                connection_id: "c".into(),
                provider: "p".into(),
                label: Some(odd.into()),
            },
            ConnectEvent::Error {
                provider: "p".into(),
                code: odd.into(),
                message: odd.into(),
            },
            ConnectEvent::Closed,
        ];
        for e in &events {
            assert_eq!(e.to_value(), Value::from(as_json(e)), "{e:?}");
        }
    }
}
