//! Nango's `${…}` templates (URLs, headers, bodies, token parameters) translated into the
//! catalog's placeholders: `${apiKey}`, `${accessToken}`, `${username}`, `${password}`,
//! `${credentials.<key>}`, `${connectionConfig.<key>}`. Nango also has functions
//! (`${base64(…)}`, `${now:…}`, `${awsSigV4(…)}`) and `A || B` alternatives; the catalog has
//! neither, so those are reported instead of being copied as text the backend cannot fill.

use connect_ui_core::AuthKind;
use std::collections::BTreeMap;

/// One part of a template: literal text, or the inside of a `${…}` (nested ones included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Literal text, copied as is.
    Text(&'a str),
    /// What is between `${` and its matching `}`.
    Placeholder(&'a str),
}

/// Splits a template into text and placeholders; an unterminated `${` is text.
pub(crate) fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let Some(len) = placeholder_len(&rest[start..]) else {
            break;
        };
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Placeholder(&rest[start + 2..start + len - 1]));
        rest = &rest[start + len..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// Length of the `${…}` at the start of `s`, nested placeholders included.
fn placeholder_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 2;
            continue;
        }
        if bytes[i] == b'}' {
            depth -= 1;
            if depth == 0 {
                return Some(i + 1);
            }
        }
        i += 1;
    }
    None
}

/// The top-level `||` alternatives of a template (Nango fills the first whose placeholders all
/// have values), trimmed; one element when there are none.
pub(crate) fn alternatives(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let bytes = template.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            i += placeholder_len(&template[i..]).unwrap_or(bytes.len() - i);
            continue;
        }
        if bytes[i] == b'|' && bytes.get(i + 1) == Some(&b'|') {
            out.push(template[start..i].trim());
            i += 2;
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(template[start..].trim());
    if out.len() == 1 {
        // No alternatives: keep the template's own spacing.
        return vec![template];
    }
    out
}

/// Why a template could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Problem {
    /// A Nango function or built-in value (`base64`, `now`, `awsSigV4`, `method`…): no home.
    Function(String),
    /// A value the provider's form does not ask for (`connectionConfig.instance_url` with no
    /// such field, `apiKey` in a Basic mode).
    Unfillable(String),
}

impl Problem {
    /// The no-home label this problem is counted under.
    pub(crate) fn label(&self) -> String {
        match self {
            Problem::Function(name) => format!("template function `${{{name}…}}`"),
            Problem::Unfillable(_) => "template value no field provides".to_string(),
        }
    }

    /// What the note says.
    pub(crate) fn describe(&self) -> String {
        match self {
            Problem::Function(name) => format!("Nango template function `{name}` has no home"),
            Problem::Unfillable(what) => format!("`${{{what}}}` names no field of the form"),
        }
    }
}

/// What a provider's templates may refer to.
pub(crate) struct Scope<'a> {
    /// The auth mode (decides what `${apiKey}` and `${accessToken}` mean).
    pub mode: &'a AuthKind,
    /// The mode's credential keys (defaults included).
    pub credentials: &'a [String],
    /// The connection-config keys, after renames.
    pub config: &'a [String],
    /// Connection-config keys renamed by the importer (Nango key → catalog key).
    pub renamed: &'a BTreeMap<String, String>,
}

impl Scope<'_> {
    /// The catalog's placeholder for Nango's `${inner}`.
    fn placeholder(&self, inner: &str) -> Result<String, Problem> {
        let inner = inner.trim();
        let ok = |s: &str| Ok(format!("${{{s}}}"));
        let token = match self.mode {
            AuthKind::ApiKey => Some("apiKey"),
            AuthKind::OAuth2ClientCredentials => Some("accessToken"),
            _ => None,
        };
        match inner {
            // Nango fills both with the connection's token: the key, or the access token.
            "apiKey" | "accessToken" => match token {
                Some(t) => ok(t),
                None => Err(Problem::Unfillable(inner.to_string())),
            },
            "username" | "password" if *self.mode == AuthKind::Basic => ok(inner),
            _ => {
                if let Some(key) = inner.strip_prefix("credentials.") {
                    if self.credentials.iter().any(|k| k == key) {
                        return ok(inner);
                    }
                    return Err(Problem::Unfillable(inner.to_string()));
                }
                if let Some(key) = inner.strip_prefix("connectionConfig.") {
                    let key = self.renamed.get(key).map_or(key, String::as_str);
                    if self.config.iter().any(|k| k == key) {
                        return ok(&format!("connectionConfig.{key}"));
                    }
                    return Err(Problem::Unfillable(inner.to_string()));
                }
                let name_end = inner
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(inner.len());
                let name = if name_end == 0 {
                    inner
                } else {
                    &inner[..name_end]
                };
                Err(Problem::Function(name.to_string()))
            }
        }
    }

    /// Translates one template (without `||` alternatives); every problem is returned.
    pub(crate) fn translate(&self, template: &str) -> Result<String, Vec<Problem>> {
        let mut out = String::with_capacity(template.len());
        let mut problems = Vec::new();
        for piece in pieces(template) {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Placeholder(inner) => match self.placeholder(inner) {
                    Ok(p) => out.push_str(&p),
                    Err(e) => problems.push(e),
                },
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            problems.sort();
            problems.dedup();
            Err(problems)
        }
    }
}

/// The connection-config keys a template refers to (`${connectionConfig.<key>}`).
pub(crate) fn config_refs(template: &str) -> Vec<&str> {
    pieces(template)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Placeholder(inner) => inner.trim().strip_prefix("connectionConfig."),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Whether a template has any placeholder at all.
pub(crate) fn has_placeholder(template: &str) -> bool {
    pieces(template)
        .iter()
        .any(|p| matches!(p, Piece::Placeholder(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_nested_placeholders_whole() {
        assert_eq!(
            pieces("Basic ${base64(${credentials.username}:x)} end"),
            [
                Piece::Text("Basic "),
                Piece::Placeholder("base64(${credentials.username}:x)"),
                Piece::Text(" end"),
            ]
        );
        assert_eq!(pieces("a ${b"), [Piece::Text("a ${b")]);
    }

    #[test]
    fn alternatives_split_outside_placeholders_only() {
        assert_eq!(
            alternatives("https://${connectionConfig.h} || https://x.test"),
            ["https://${connectionConfig.h}", "https://x.test"]
        );
        assert_eq!(alternatives("a ${x||y} b"), ["a ${x||y} b"]);
    }

    #[test]
    fn placeholders_translate_and_functions_are_reported() {
        let mut renamed = BTreeMap::new();
        renamed.insert("apiKey".to_string(), "apiKey_config".to_string());
        let config = ["domain".to_string(), "apiKey_config".to_string()];
        let s = Scope {
            mode: &AuthKind::ApiKey,
            credentials: &[],
            config: &config,
            renamed: &renamed,
        };
        assert_eq!(
            s.translate("https://${connectionConfig.domain}/x?k=${accessToken}")
                .unwrap(),
            "https://${connectionConfig.domain}/x?k=${apiKey}"
        );
        assert_eq!(
            s.translate("${connectionConfig.apiKey}").unwrap(),
            "${connectionConfig.apiKey_config}"
        );
        assert_eq!(
            s.translate("${now:YYYY} ${connectionConfig.nope} ${base64(${apiKey})}"),
            Err(vec![
                Problem::Function("base64".into()),
                Problem::Function("now".into()),
                Problem::Unfillable("connectionConfig.nope".into()),
            ])
        );
    }
}
