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
        // Written by hand (byte for byte what serde_json makes of `EventEnvelope`, see the
        // tests), so the widget carries no serialiser.
        use crate::json::write_str;
        let mut out = String::from("{\"version\":");
        out.push_str(&EVENT_VERSION.to_string());
        out.push_str(",\"type\":\"");
        out.push_str(self.kind());
        out.push('"');
        let mut strings: Vec<(&str, &str)> = Vec::new();
        match self {
            ConnectEvent::Closed => {
                out.push('}');
                return out;
            }
            ConnectEvent::Ready { provider } => {
                out.push_str(",\"payload\":{\"provider\":");
                match provider {
                    Some(p) => write_str(&mut out, p),
                    None => out.push_str("null"),
                }
                out.push_str("}}");
                return out;
            }
            ConnectEvent::ValidationFailed { provider, fields } => {
                out.push_str(",\"payload\":{\"provider\":");
                write_str(&mut out, provider);
                out.push_str(",\"fields\":[");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(&mut out, f);
                }
                out.push_str("]}}");
                return out;
            }
            ConnectEvent::ProviderSelected { provider } | ConnectEvent::Submitted { provider } => {
                strings.push(("provider", provider));
            }
            ConnectEvent::Connected {
                connection_id,
                provider,
            } => {
                strings.push(("connection_id", connection_id));
                strings.push(("provider", provider));
            }
            ConnectEvent::Error {
                provider,
                code,
                message,
            } => {
                strings.push(("provider", provider));
                strings.push(("code", code));
                strings.push(("message", message));
            }
        }
        out.push_str(",\"payload\":{");
        for (i, (key, value)) in strings.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, key);
            out.push(':');
            write_str(&mut out, value);
        }
        out.push_str("}}");
        out
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

    #[test]
    fn hand_written_json_is_serde_jsons() {
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
            },
            ConnectEvent::Error {
                provider: "p".into(),
                code: odd.into(),
                message: odd.into(),
            },
            ConnectEvent::Closed,
        ];
        for e in &events {
            let serde = serde_json::to_string(&EventEnvelope {
                version: EVENT_VERSION,
                event: e,
            })
            .unwrap();
            assert_eq!(e.to_json(), serde);
        }
    }
}
