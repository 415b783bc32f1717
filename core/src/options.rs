//! Options of the JavaScript `mount()` API, checked in plain Rust so a host's mistake gets a
//! precise message (and the rules are tested natively).

use crate::value::Value;

/// Colour scheme the host asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Light colours.
    Light,
    /// Dark colours.
    Dark,
    /// Follows `prefers-color-scheme`.
    #[default]
    Auto,
}

impl Theme {
    /// The attribute value the stylesheet keys on.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Auto => "auto",
        }
    }
}

/// Options as given to `mount()` or `handle.update()`: every field optional, `None` = unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MountOptions {
    /// Provider to open directly; `Some(None)` returns to the picker.
    pub provider: Option<Option<String>>,
    /// Base URL of the host backend.
    pub backend_url: Option<String>,
    /// Session token; `Some(None)` removes it.
    pub session_token: Option<Option<String>>,
    /// Locale tag, e.g. `fr`.
    pub locale: Option<String>,
    /// Colour scheme.
    pub theme: Option<Theme>,
    /// Providers the picker may offer.
    pub allow: Option<Vec<String>>,
    /// Request timeout in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Whether a Close button is shown.
    pub closable: Option<bool>,
    /// Accent colour, `#rgb` or `#rrggbb`.
    pub accent: Option<String>,
    /// Directory of the locale files (`fr.json`, …); the ES module passes its own `locales/`.
    pub locales_url: Option<String>,
    /// The host's own catalog, given inline (no request before the form), with its issues.
    pub catalog: Option<crate::catalog::Parsed>,
    /// Where to fetch the host's catalog (once per page); `Some(None)` removes it.
    pub catalog_url: Option<Option<String>>,
    /// Reconnect: the stored connection the form changes (with a session made for it);
    /// `Some(None)` removes it.
    pub connection_id: Option<Option<String>>,
    /// Whether the form asks for an account name (a session's own policy wins).
    pub label: Option<crate::contract::LabelPolicy>,
    /// Whether the picker lists the end user's connected accounts (from `GET /session`).
    pub show_connections: Option<bool>,
}

/// Option names `mount()` accepts, listed in error messages.
pub const OPTION_NAMES: &[&str] = &[
    "provider",
    "backendUrl",
    "sessionToken",
    "locale",
    "theme",
    "allow",
    "timeoutMs",
    "closable",
    "accent",
    "localesUrl",
    "catalog",
    "catalogUrl",
    "connectionId",
    "label",
    "showConnections",
    "onEvent",
];

/// The known ids for an error message: all of a short list, the first few of a long one.
fn known_list(known: &[&str]) -> String {
    const SHOWN: usize = 12;
    if known.len() <= SHOWN {
        known.join(", ")
    } else {
        format!("{}, … ({} in all)", known[..SHOWN].join(", "), known.len())
    }
}

fn string_or_null(map: &Value, key: &str) -> Result<Option<Option<String>>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.is_empty() => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(format!("option `{key}` must be a string")),
    }
}

/// Reads a host's options object, as the widget converts it (members that `JSON.stringify` would
/// drop, such as functions and `undefined`, are left out). `initial` demands what `mount()` needs
/// (`backendUrl`); `known_providers` lets a wrong provider id be named with the valid ones.
pub fn parse_mount_options(
    value: &Value,
    initial: bool,
    known_providers: &[&str],
) -> Result<MountOptions, String> {
    let Value::Object(members) = value else {
        return Err(
            "options must be a plain object, e.g. { provider: 'workos', backendUrl: '/api' }"
                .into(),
        );
    };
    let map = value;
    if let Some((unknown, _)) = members
        .iter()
        .find(|(k, _)| !OPTION_NAMES.contains(&k.as_str()))
    {
        return Err(format!(
            "unknown option `{unknown}`; known options: {}",
            OPTION_NAMES.join(", ")
        ));
    }
    if map.get("onEvent").is_some() {
        // Functions are left out of the value, so anything left here is not a function.
        return Err("option `onEvent` must be a function".into());
    }
    let mut out = MountOptions {
        provider: string_or_null(map, "provider")?,
        session_token: string_or_null(map, "sessionToken")?,
        catalog_url: string_or_null(map, "catalogUrl")?,
        connection_id: string_or_null(map, "connectionId")?,
        ..Default::default()
    };
    match map.get("catalog") {
        None | Some(Value::Null) => {}
        Some(catalog @ Value::Object(_)) => {
            out.catalog = Some(
                crate::catalog::Catalog::from_value(catalog)
                    .map_err(|e| format!("option `catalog`: {e}"))?,
            )
        }
        Some(_) => {
            return Err(
                "option `catalog` must be a catalog object: { version: 1, providers: [...] }"
                    .into(),
            )
        }
    }
    match map.get("backendUrl") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            out.backend_url = Some(s.trim().to_string())
        }
        Some(Value::String(_)) | None if initial => {
            return Err(
                "option `backendUrl` is required: the base URL of your backend, e.g. \"/api\""
                    .into(),
            )
        }
        None => {}
        Some(_) => return Err("option `backendUrl` must be a non-empty string".into()),
    }
    // With a catalog URL the list is not known yet: the form says so if the id stays unknown.
    let mut known: Vec<&str> = known_providers.to_vec();
    if let Some(parsed) = &out.catalog {
        known.extend(parsed.catalog.providers.iter().map(|p| p.id.as_str()));
    }
    if let Some(Some(id)) = &out.provider {
        let fetched_later = matches!(out.catalog_url, Some(Some(_)));
        if !fetched_later && !known.is_empty() && !known.contains(&id.as_str()) {
            return Err(format!(
                "option `provider`: unknown provider \"{id}\"; known providers: {}",
                known_list(&known)
            ));
        }
    }
    match map.get("localesUrl") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.trim().is_empty() => {
            out.locales_url = Some(s.trim().to_string())
        }
        Some(_) => return Err(
            "option `localesUrl` must be a URL string: the directory holding fr.json, de.json, …"
                .into(),
        ),
    }
    match map.get("locale") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.locale = Some(s.clone()),
        Some(_) => return Err("option `locale` must be a string such as \"en\" or \"fr\"".into()),
    }
    match map.get("theme") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            out.theme = Some(match s.as_str() {
                "light" => Theme::Light,
                "dark" => Theme::Dark,
                "auto" => Theme::Auto,
                _ => {
                    return Err(format!(
                        "option `theme` must be \"light\", \"dark\" or \"auto\", not \"{s}\""
                    ))
                }
            })
        }
        Some(_) => return Err("option `theme` must be \"light\", \"dark\" or \"auto\"".into()),
    }
    match map.get("allow") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let ids = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or("option `allow` must be an array of provider ids")?;
            out.allow = Some(ids);
        }
        Some(_) => return Err("option `allow` must be an array of provider ids".into()),
    }
    match map.get("timeoutMs") {
        None | Some(Value::Null) => {}
        Some(v) => {
            match v.as_u64() {
                Some(ms) if (1..=600_000).contains(&ms) => out.timeout_ms = Some(ms as u32),
                _ => return Err(
                    "option `timeoutMs` must be a whole number of milliseconds from 1 to 600000"
                        .into(),
                ),
            }
        }
    }
    match map.get("accent") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if crate::color::parse_hex(s).is_some() => {
            out.accent = Some(s.clone())
        }
        Some(_) => {
            return Err("option `accent` must be a colour like \"#2f5bd3\" or \"#25d\"".into())
        }
    }
    match map.get("closable") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => out.closable = Some(*b),
        Some(_) => return Err("option `closable` must be true or false".into()),
    }
    match map.get("showConnections") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => out.show_connections = Some(*b),
        Some(_) => return Err("option `showConnections` must be true or false".into()),
    }
    match map.get("label") {
        None | Some(Value::Null) => {}
        Some(v) => match v.as_str().and_then(crate::contract::LabelPolicy::parse) {
            Some(policy) => out.label = Some(policy),
            None => {
                return Err(
                    "option `label` must be \"hidden\", \"optional\" or \"required\"".into(),
                )
            }
        },
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["workos", "kandji"];

    fn parse_mount_options(
        json: &str,
        initial: bool,
        known: &[&str],
    ) -> Result<MountOptions, String> {
        super::parse_mount_options(&crate::value::parse(json).unwrap(), initial, known)
    }

    #[test]
    fn a_full_set_of_options_parses() {
        let o = parse_mount_options(
            r#"{"provider":"workos","backendUrl":"/api","sessionToken":"t","locale":"fr","theme":"dark","allow":["workos"],"timeoutMs":5000,"closable":true,"localesUrl":" https://cdn.test/cu/locales/ "}"#,
            true,
            KNOWN,
        )
        .unwrap();
        assert_eq!(o.provider, Some(Some("workos".into())));
        assert_eq!(o.backend_url.as_deref(), Some("/api"));
        assert_eq!(o.theme, Some(Theme::Dark));
        assert_eq!(o.timeout_ms, Some(5000));
        assert_eq!(o.closable, Some(true));
        assert_eq!(
            o.locales_url.as_deref(),
            Some("https://cdn.test/cu/locales/")
        );
    }

    #[test]
    fn mistakes_get_precise_messages() {
        let err = |json: &str| parse_mount_options(json, true, KNOWN).unwrap_err();
        assert!(err(r#"{"provider":"workos"}"#).contains("`backendUrl` is required"));
        assert!(err(r#"{"backendUrl":5}"#).contains("`backendUrl` must be"));
        assert!(err(r#"{"backendUrl":"/api","provider":"nope"}"#)
            .contains("known providers: workos, kandji"));
        assert!(err(r#"{"backendUrl":"/api","backendURL":"/x"}"#)
            .contains("unknown option `backendURL`"));
        assert!(
            err(r#"{"backendUrl":"/api","onEvent":"cb"}"#).contains("`onEvent` must be a function")
        );
        assert!(err(r#"{"backendUrl":"/api","theme":"blue"}"#).contains("not \"blue\""));
        assert!(err(r#"{"backendUrl":"/api","timeoutMs":-1}"#).contains("timeoutMs"));
        assert!(err(r#"{"backendUrl":"/api","allow":[1]}"#).contains("array of provider ids"));
        assert!(err("[]").contains("plain object"));
        assert!(err(r#"{"backendUrl":"/api","accent":"blue"}"#).contains("`accent`"));
        assert!(err(r#"{"backendUrl":"/api","localesUrl":""}"#).contains("`localesUrl`"));
        assert!(err(r#"{"backendUrl":"/api","localesUrl":7}"#).contains("fr.json"));
    }

    #[test]
    fn an_inline_catalog_adds_its_providers_and_a_url_defers_the_check() {
        let o = parse_mount_options(
            r#"{"backendUrl":"/api","provider":"acme","catalog":{"version":1,"providers":[{"id":"acme","name":"Acme"}]}}"#,
            true,
            KNOWN,
        )
        .unwrap();
        assert_eq!(o.catalog.unwrap().catalog.providers[0].name, "Acme");
        let o = parse_mount_options(
            r#"{"backendUrl":"/api","provider":"acme","catalogUrl":"/api/catalog"}"#,
            true,
            KNOWN,
        )
        .unwrap();
        assert_eq!(o.catalog_url, Some(Some("/api/catalog".into())));
        let err = |json: &str| parse_mount_options(json, true, KNOWN).unwrap_err();
        assert!(err(r#"{"backendUrl":"/api","catalog":[]}"#).contains("catalog object"));
        assert!(
            err(r#"{"backendUrl":"/api","catalog":{"version":3,"providers":[]}}"#)
                .contains("option `catalog`: catalog version 3")
        );
        assert!(err(r#"{"backendUrl":"/api","catalogUrl":5}"#).contains("`catalogUrl`"));
        assert!(err(
            r#"{"backendUrl":"/api","provider":"nope","catalog":{"providers":[{"id":"acme","name":"A"}]}}"#
        )
        .contains("known providers: workos, kandji, acme"));
    }

    #[test]
    fn the_lifecycle_options_parse_and_their_mistakes_are_named() {
        let o = parse_mount_options(
            r#"{"backendUrl":"/api","connectionId":"conn_1","label":"required","showConnections":true}"#,
            true,
            KNOWN,
        )
        .unwrap();
        assert_eq!(o.connection_id, Some(Some("conn_1".into())));
        assert_eq!(o.label, Some(crate::contract::LabelPolicy::Required));
        assert_eq!(o.show_connections, Some(true));
        let o = parse_mount_options(r#"{"connectionId":null}"#, false, KNOWN).unwrap();
        assert_eq!(o.connection_id, Some(None));
        let err = |json: &str| parse_mount_options(json, true, KNOWN).unwrap_err();
        assert!(err(r#"{"backendUrl":"/api","label":"always"}"#).contains("`label` must be"));
        assert!(err(r#"{"backendUrl":"/api","connectionId":3}"#).contains("`connectionId`"));
        assert!(err(r#"{"backendUrl":"/api","showConnections":"yes"}"#)
            .contains("`showConnections` must be true or false"));
    }

    #[test]
    fn updates_are_partial() {
        let o = parse_mount_options(r#"{"sessionToken":null}"#, false, KNOWN).unwrap();
        assert_eq!(o.session_token, Some(None));
        assert_eq!(o.backend_url, None);
        assert_eq!(o.provider, None);
    }
}
