//! The catalog's verification templates (`${apiKey}`, `${credentials.<key>}`,
//! `${connectionConfig.<key>}`, `${username}`, `${password}`, `${accessToken}`), filled only with
//! the values of a validated request and encoded for where they go: a URL's host takes only
//! host-name characters, its path and query get percent-encoding, a JSON body JSON escapes, a
//! header visible ASCII. A filled URL is parsed again and refused when its shape changed (a value
//! that moved the host, added a user or climbed out of the path).

use connect_ui_core::ConnectionRequest;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Url;
use std::fmt;

/// What percent-encoding leaves alone in a path segment or query value: RFC 3986's unreserved
/// characters only, so a value can never add a `/`, `?`, `&`, `=` or `#`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where a value comes from: a field of the request's credentials or connection config, or the
/// access token of a client-credentials exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `${apiKey}`, `${username}`, `${password}`, `${credentials.<key>}`.
    Credential(String),
    /// `${connectionConfig.<key>}`.
    Config(String),
    /// `${accessToken}`.
    AccessToken,
}

impl Source {
    /// Reads a placeholder's name; `None` for one this backend does not fill (`${random}`,
    /// `${base64(…)}`).
    pub fn parse(name: &str) -> Option<Source> {
        let field = |key: &str| {
            (!key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
            .then(|| key.to_string())
        };
        match name {
            "apiKey" | "username" | "password" => Some(Source::Credential(name.into())),
            "accessToken" => Some(Source::AccessToken),
            _ => {
                if let Some(key) = name.strip_prefix("credentials.") {
                    field(key).map(Source::Credential)
                } else if let Some(key) = name.strip_prefix("connectionConfig.") {
                    field(key).map(Source::Config)
                } else {
                    None
                }
            }
        }
    }

    /// The field key this value comes from (none for the access token).
    pub fn field(&self) -> Option<&str> {
        match self {
            Source::Credential(k) | Source::Config(k) => Some(k),
            Source::AccessToken => None,
        }
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value(Source),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// A template that cannot be used, found when the catalog is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `${…}` this backend does not fill.
    Unsupported(String),
    /// A `${` without its `}`.
    Unclosed,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unsupported(name) => {
                let shown: String = name.chars().take(40).collect();
                write!(f, "`${{{shown}}}` is not a value this backend fills")
            }
            TemplateError::Unclosed => f.write_str("a `${` has no closing `}`"),
        }
    }
}

impl Template {
    /// Parses `${…}` placeholders out of `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("${") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find('}').ok_or(TemplateError::Unclosed)?;
            let name = after[..close].trim();
            let source =
                Source::parse(name).ok_or_else(|| TemplateError::Unsupported(name.to_string()))?;
            pieces.push(Piece::Value(source));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    /// The values this template uses, in order.
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Value(s) => Some(s),
            Piece::Text(_) => None,
        })
    }

    /// Whether the template has no placeholder and no text.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Fills the template with `encode(value)` for each placeholder.
    fn fill(
        &self,
        values: &Values,
        mut encode: impl FnMut(&Source, &str) -> Result<String, FillError>,
    ) -> Result<String, FillError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Value(source) => out.push_str(&encode(source, values.get(source))?),
            }
        }
        Ok(out)
    }

    /// Fills a header value: values must be visible ASCII (core already refuses control
    /// characters; a header cannot carry other text safely).
    pub fn fill_header(&self, values: &Values) -> Result<String, FillError> {
        self.fill(values, |source, value| {
            if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                Ok(value.to_string())
            } else {
                Err(FillError::Value(source.clone()))
            }
        })
    }

    /// Fills a JSON body: each value is JSON-escaped (placeholders sit inside JSON strings).
    pub fn fill_json(&self, values: &Values) -> Result<String, FillError> {
        self.fill(values, |_, value| {
            let quoted = serde_json::to_string(value).unwrap_or_default();
            Ok(quoted[1..quoted.len() - 1].to_string())
        })
    }

    /// Fills a form parameter (it is form-encoded when the form is built).
    pub fn fill_plain(&self, values: &Values) -> Result<String, FillError> {
        self.fill(values, |_, value| Ok(value.to_string()))
    }

    /// Fills a URL template and checks the result kept the template's shape: the scheme
    /// (`https`, or `http` when `allow_http`), no user information, the host the template makes
    /// with host-name-safe values, and exactly the path and query it makes with
    /// percent-encoded ones. A placeholder that opens the template (`${connectionConfig.baseUrl}`)
    /// must hold a whole `https://host[:port][/path]` address.
    pub fn fill_url(&self, values: &Values, allow_http: bool) -> Result<Url, FillError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Part {
            Scheme,
            Host,
            Path,
            Query,
            Fragment,
        }
        let mut out = String::new();
        let mut part = Part::Scheme;
        // Where the host, path and query start in `out` (the host is known to the end when a
        // placeholder is a whole base URL).
        let mut host_at = 0;
        let mut path_at = None;
        let mut query_at = None;
        let mut fragment_at = None;
        let mut origin_host: Option<String> = None;
        let advance = |c: char,
                       at: usize,
                       part: &mut Part,
                       path_at: &mut Option<usize>,
                       query_at: &mut Option<usize>,
                       fragment_at: &mut Option<usize>| match (*part, c) {
            (Part::Host, '/') => {
                *part = Part::Path;
                *path_at = Some(at);
            }
            (Part::Host | Part::Path, '?') => {
                *part = Part::Query;
                *query_at = Some(at);
            }
            (Part::Host | Part::Path | Part::Query, '#') => {
                *part = Part::Fragment;
                *fragment_at = Some(at);
            }
            _ => {}
        };
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => {
                    for c in text.chars() {
                        let at = out.len();
                        out.push(c);
                        if part == Part::Scheme {
                            if out.ends_with("://") {
                                part = Part::Host;
                                host_at = out.len();
                            }
                        } else {
                            advance(
                                c,
                                at,
                                &mut part,
                                &mut path_at,
                                &mut query_at,
                                &mut fragment_at,
                            );
                        }
                    }
                }
                Piece::Value(source) => {
                    let value = values.get(source);
                    let bad = || FillError::Value(source.clone());
                    match part {
                        Part::Scheme if out.is_empty() => {
                            let base = Url::parse(value).map_err(|_| bad())?;
                            let scheme_ok =
                                base.scheme() == "https" || (allow_http && base.scheme() == "http");
                            if !scheme_ok
                                || base.cannot_be_a_base()
                                || !base.username().is_empty()
                                || base.password().is_some()
                                || base.query().is_some()
                                || base.fragment().is_some()
                            {
                                return Err(bad());
                            }
                            let host = base.host_str().ok_or_else(bad)?.to_string();
                            let text = base.as_str().trim_end_matches('/');
                            host_at = text.find("://").map_or(0, |i| i + 3);
                            out.push_str(text);
                            let path = base.path().trim_end_matches('/');
                            path_at = Some(out.len() - path.len());
                            origin_host = Some(host);
                            part = Part::Path;
                        }
                        Part::Scheme => return Err(bad()),
                        Part::Host => {
                            let safe = !value.is_empty()
                                && value
                                    .bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                            if !safe {
                                return Err(bad());
                            }
                            out.push_str(&value.to_ascii_lowercase());
                        }
                        Part::Path if value.bytes().all(|b| b == b'.') && !value.is_empty() => {
                            return Err(bad());
                        }
                        Part::Path | Part::Query | Part::Fragment => {
                            out.extend(utf8_percent_encode(value, COMPONENT));
                        }
                    }
                }
            }
        }
        let shape = || FillError::Shape;
        let url = Url::parse(&out).map_err(|_| shape())?;
        if !(url.scheme() == "https" || (allow_http && url.scheme() == "http")) {
            return Err(FillError::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() || fragment_at.is_some() {
            return Err(shape());
        }
        let end_of_host = path_at.or(query_at).unwrap_or(out.len());
        let expected_host = match origin_host {
            Some(h) => h,
            None => {
                let authority = out.get(host_at..end_of_host).ok_or_else(shape)?;
                if authority.contains('@') {
                    return Err(shape());
                }
                strip_port(authority).to_ascii_lowercase()
            }
        };
        // An IPv6 literal is compared as an address (`[::ffff:127.0.0.1]` is written
        // `[::ffff:7f00:1]`); any other host as the text the template made.
        let host_ok = match url.host() {
            Some(url::Host::Ipv6(ip)) => {
                expected_host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .and_then(|h| h.parse::<std::net::Ipv6Addr>().ok())
                    == Some(ip)
            }
            _ => url.host_str() == Some(expected_host.as_str()),
        };
        if !host_ok {
            return Err(shape());
        }
        let expected_path = match path_at {
            Some(p) => &out[p..query_at.unwrap_or(out.len())],
            None => "/",
        };
        let expected_path = if expected_path.is_empty() {
            "/"
        } else {
            expected_path
        };
        let expected_query = query_at.map(|q| &out[q + 1..]);
        if url.path() != expected_path || url.query() != expected_query {
            return Err(shape());
        }
        Ok(url)
    }
}

/// `host` without a trailing `:port` (an IPv6 literal keeps its brackets).
fn strip_port(authority: &str) -> &str {
    match authority.rfind(':') {
        Some(i)
            if !authority[i + 1..].is_empty()
                && authority[i + 1..].bytes().all(|b| b.is_ascii_digit())
                && (!authority.starts_with('[') || authority[..i].ends_with(']')) =>
        {
            &authority[..i]
        }
        _ => authority,
    }
}

/// Why a template could not be filled for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillError {
    /// This value cannot go where the template puts it (a `/` in a host, a non-ASCII header).
    Value(Source),
    /// The filled URL does not have the template's shape.
    Shape,
    /// The URL is not https (and http is not allowed).
    Scheme,
}

/// The values a template is filled with: a request that passed validation, and the access token
/// once a client-credentials exchange gave one.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    /// The normalised, validated request.
    pub request: &'a ConnectionRequest,
    /// The access token, after the token exchange.
    pub access_token: Option<&'a str>,
}

impl Values<'_> {
    /// The value of `source`; empty when the field was left empty (an optional field).
    pub fn get(&self, source: &Source) -> &str {
        match source {
            Source::Credential(k) => self.request.credentials.get(k),
            Source::Config(k) => self.request.connection_config.get(k),
            Source::AccessToken => return self.access_token.unwrap_or(""),
        }
        .map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(creds: &[(&str, &str)], config: &[(&str, &str)]) -> ConnectionRequest {
        ConnectionRequest {
            provider: "p".into(),
            credentials: creds
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            connection_config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            auth_mode: None,
            label: None,
        }
    }

    fn url(template: &str, config: &[(&str, &str)]) -> Result<String, FillError> {
        let req = request(&[("apiKey", "k")], config);
        let values = Values {
            request: &req,
            access_token: None,
        };
        Template::parse(template)
            .unwrap()
            .fill_url(&values, false)
            .map(|u| u.to_string())
    }

    #[test]
    fn placeholders_are_read_and_unknown_ones_refused() {
        let t =
            Template::parse("Bearer ${apiKey} ${ credentials.x } ${connectionConfig.sub}").unwrap();
        let sources: Vec<&Source> = t.sources().collect();
        assert_eq!(
            sources,
            [
                &Source::Credential("apiKey".into()),
                &Source::Credential("x".into()),
                &Source::Config("sub".into())
            ]
        );
        assert_eq!(
            Template::parse("${random}"),
            Err(TemplateError::Unsupported("random".into()))
        );
        assert!(matches!(
            Template::parse("Basic ${base64(${credentials.username}:${credentials.password})}"),
            Err(TemplateError::Unsupported(_))
        ));
        assert_eq!(Template::parse("${apiKey"), Err(TemplateError::Unclosed));
        assert!(Template::parse("${credentials.}").is_err());
    }

    #[test]
    fn host_values_must_be_host_names_and_cannot_move_the_host() {
        let t = "https://${connectionConfig.sub}.kandji.io/api/v1/devices?limit=1";
        assert_eq!(
            url(t, &[("sub", "Acme.API")]).unwrap(),
            "https://acme.api.kandji.io/api/v1/devices?limit=1"
        );
        for bad in [
            "evil.com/x",
            "evil.com#",
            "a@evil.com",
            "evil.com:80",
            "",
            "a b",
            "é",
        ] {
            assert_eq!(
                url(t, &[("sub", bad)]),
                Err(FillError::Value(Source::Config("sub".into()))),
                "{bad}"
            );
        }
        assert!(url(t, &[]).is_err(), "an empty host part");
    }

    #[test]
    fn path_and_query_values_are_percent_encoded_and_cannot_climb() {
        let t = "https://api.test/v1/${connectionConfig.account}/me?q=${connectionConfig.q}";
        assert_eq!(
            url(t, &[("account", "a/../admin"), ("q", "x&admin=1#")]).unwrap(),
            "https://api.test/v1/a%2F..%2Fadmin/me?q=x%26admin%3D1%23"
        );
        assert_eq!(
            url(t, &[("account", ".."), ("q", "")]),
            Err(FillError::Value(Source::Config("account".into())))
        );
        assert_eq!(
            url(t, &[("account", "%2e%2e"), ("q", "")]).unwrap(),
            "https://api.test/v1/%252e%252e/me?q="
        );
    }

    #[test]
    fn a_base_url_placeholder_must_be_a_whole_https_address() {
        let t = "${connectionConfig.baseUrl}/api/me";
        assert_eq!(
            url(t, &[("baseUrl", "https://Acme.example.com/")]).unwrap(),
            "https://acme.example.com/api/me"
        );
        assert_eq!(
            url(t, &[("baseUrl", "https://acme.example.com/tenant/")]).unwrap(),
            "https://acme.example.com/tenant/api/me"
        );
        for bad in [
            "http://acme.example.com",
            "https://user:pw@acme.example.com",
            "https://acme.example.com/?x=1",
            "javascript:alert(1)",
            "acme.example.com",
        ] {
            assert!(url(t, &[("baseUrl", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_that_are_not_https_or_change_shape_are_refused() {
        assert_eq!(url("http://api.test/me", &[]), Err(FillError::Scheme));
        assert_eq!(url("https://user@api.test/me", &[]), Err(FillError::Shape));
        assert_eq!(url("https://api.test/a/../me", &[]), Err(FillError::Shape));
        assert_eq!(
            url("https://api.test:8443/me", &[]).unwrap(),
            "https://api.test:8443/me"
        );
        assert_eq!(url("https://api.test", &[]).unwrap(), "https://api.test/");
        assert_eq!(url("https://[::1]:9/x", &[]).unwrap(), "https://[::1]:9/x");
        assert_eq!(
            url("https://[::ffff:127.0.0.1]/x", &[]).unwrap(),
            "https://[::ffff:7f00:1]/x"
        );
        assert_eq!(url("https://127.1/x", &[]), Err(FillError::Shape));
    }

    #[test]
    fn headers_take_visible_ascii_and_bodies_are_json_escaped() {
        let req = request(&[("apiKey", "k\"1"), ("password", "pässword")], &[]);
        let values = Values {
            request: &req,
            access_token: Some("tok"),
        };
        let h = Template::parse("Bearer ${accessToken} ${apiKey}").unwrap();
        assert_eq!(h.fill_header(&values).unwrap(), "Bearer tok k\"1");
        let bad = Template::parse("${password}").unwrap();
        assert_eq!(
            bad.fill_header(&values),
            Err(FillError::Value(Source::Credential("password".into())))
        );
        let body = Template::parse(r#"{"key":"${apiKey}"}"#).unwrap();
        assert_eq!(body.fill_json(&values).unwrap(), r#"{"key":"k\"1"}"#);
    }
}
