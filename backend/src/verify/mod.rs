//! Provider verification from catalog data: before a connection is saved, the provider's
//! `verification` block (one request whose URL, headers and body are templates) says whether the
//! provider accepts the credential. `BASIC` adds HTTP Basic, `OAUTH2_CC` first exchanges the
//! client credentials for a token at the mode's `token_url` (never stored) and checks with it.
//!
//! Every request is https only (http and private addresses only with the test flag
//! `--verify-allow-private`), follows no redirect, has a timeout, and connects only to addresses
//! checked to be public ([`net`]). Templates are filled only with validated values, encoded for
//! where they go ([`template`]). `--verify-base` replaces a provider's scheme, host and port so
//! tests reach a fake provider on loopback.

pub mod net;
pub mod template;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use connect_ui_core::{AuthKind, Catalog, ConnectionRequest, ProviderSpec, Verification};
use net::{AddressError, GuardedResolver};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use template::{FillError, Source, Template, Values};

/// Largest token answer read (an access token answer is a few hundred bytes).
const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

/// Why a credential was not accepted, each with the HTTP answer the backend gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The provider said 401/403: the credential is wrong. Shown on the secret field.
    Rejected {
        /// Field key of the secret (`apiKey`, `password`, `client_secret`).
        field: String,
        /// Message for the user.
        message: String,
    },
    /// The address built from the connection config leads nowhere (no such host, 404) or cannot
    /// be built from it: the config is wrong, e.g. a mistyped Kandji subdomain. Shown on that
    /// config field.
    WrongConfig {
        /// Field key of the config value (`subdomain`).
        field: String,
        /// Message for the user.
        message: String,
    },
    /// No usable answer: timeout, network failure, 5xx, 429, a redirect or something
    /// unexpected.
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

/// A problem with a provider's verification data, found at start-up (the provider's
/// verification then answers `provider_unreachable`, so nothing unchecked is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanIssue {
    /// Provider id.
    pub provider: String,
    /// Auth mode (`API_KEY`…).
    pub mode: String,
    /// What is wrong, without any value.
    pub message: String,
}

/// One URL template and the config fields that choose where it leads.
#[derive(Debug)]
struct Address {
    template: Template,
    /// The first config field in the scheme, host or port: "nobody there" is that field's fault.
    host_field: Option<String>,
    /// The first config field anywhere in the URL: a 404 there is that field's fault.
    any_field: Option<String>,
}

/// The verification request of one provider and mode.
#[derive(Debug)]
struct Check {
    method: Method,
    address: Address,
    headers: Vec<(HeaderName, Template)>,
    body: Option<Template>,
    /// Statuses that mean "accepted".
    verification: Verification,
    /// Whether the catalog sets `Authorization` itself (else BASIC and OAUTH2_CC add theirs).
    sets_authorization: bool,
}

/// The client-credentials exchange of an `OAUTH2_CC` mode.
#[derive(Debug)]
struct TokenRequest {
    address: Address,
    /// Client authentication in the form body (`token_auth: "body"`), else HTTP Basic.
    in_body: bool,
    params: Vec<(String, Template)>,
    client_id: String,
    client_secret: String,
    scopes: Option<String>,
}

/// What verifying one provider in one mode takes.
#[derive(Debug)]
struct Plan {
    name: String,
    kind: AuthKind,
    /// Why this verification cannot run (a catalog mistake logged at start-up).
    broken: Option<String>,
    token: Option<TokenRequest>,
    check: Option<Check>,
    /// The field a refused credential is shown on.
    secret: String,
    /// What the credential is called in messages ("API key", "username and password").
    noun: String,
    /// BASIC: the username and password fields.
    basic: Option<(String, String)>,
    /// Field titles by key, for messages.
    titles: HashMap<String, String>,
}

/// Sends verification requests; cheap to share.
#[derive(Debug)]
pub struct Verifier {
    client: reqwest::Client,
    allow_private: bool,
    /// Provider id → (auth mode, plan).
    plans: HashMap<String, Vec<(String, Plan)>>,
}

impl Verifier {
    /// A verifier for every provider of `catalog`: per-request `timeout`, private addresses and
    /// http allowed only when `allow_private` (tests), `bases` (provider id → URL) replacing
    /// the scheme, host and port of a provider's token and verification URLs (`{key}` or
    /// `${connectionConfig.key}` in them filled from the config). Returns the problems found in
    /// the catalog's verification data too.
    pub fn new(
        timeout: Duration,
        allow_private: bool,
        bases: &BTreeMap<String, String>,
        catalog: &Catalog,
    ) -> Result<(Self, Vec<PlanIssue>), String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Never follow a redirect: the key must not travel anywhere but the documented URL.
            .redirect(reqwest::redirect::Policy::none())
            // Connect only to the addresses the guarded resolver checked, never through a proxy
            // (which would resolve the provider's name itself).
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .user_agent(concat!("connect-ui-backend/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        for id in bases.keys() {
            let Some(p) = catalog.find(id) else {
                return Err(format!(
                    "invalid --verify-base for {id:?}: the catalog has no such provider"
                ));
            };
            let has_url = p.auth_modes.iter().any(|m| {
                m.token_url.is_some() || m.verification.as_ref().is_some_and(|v| v.enabled)
            });
            if !has_url {
                return Err(format!(
                    "invalid --verify-base for {id:?}: the provider has no verification request"
                ));
            }
        }
        let mut issues = Vec::new();
        let mut plans: HashMap<String, Vec<(String, Plan)>> = HashMap::new();
        for provider in &catalog.providers {
            for mode in &provider.auth_modes {
                let Some(spec) = provider.with_mode(mode.mode.as_str()) else {
                    continue;
                };
                let base = bases.get(&provider.id).map(String::as_str);
                if let Some(plan) = Plan::new(&spec, base, allow_private) {
                    if let Some(why) = &plan.broken {
                        issues.push(PlanIssue {
                            provider: provider.id.clone(),
                            mode: spec.auth_mode.clone(),
                            message: why.clone(),
                        });
                    }
                    plans
                        .entry(provider.id.clone())
                        .or_default()
                        .push((spec.auth_mode.clone(), plan));
                }
            }
        }
        Ok((
            Self {
                client,
                allow_private,
                plans,
            },
            issues,
        ))
    }

    /// Checks the request's credentials with their provider; `provider` has the request's auth
    /// mode active and `request` passed validation. Providers and modes without a verification
    /// request (or with it turned off) pass unchecked.
    pub async fn verify(
        &self,
        provider: &ProviderSpec,
        request: &ConnectionRequest,
    ) -> Result<(), VerifyError> {
        let Some(plan) = self.plans.get(&provider.id).and_then(|modes| {
            modes
                .iter()
                .find(|(mode, _)| *mode == provider.auth_mode)
                .map(|(_, plan)| plan)
        }) else {
            return Ok(());
        };
        if plan.broken.is_some() {
            return Err(plan.unreachable("its verification request in the catalog is not usable"));
        }
        let mut values = Values {
            request,
            access_token: None,
        };
        let token = match &plan.token {
            Some(t) => Some(self.exchange(plan, t, values, &provider.id).await?),
            None => None,
        };
        values.access_token = token.as_deref();
        if let Some(check) = &plan.check {
            self.check(plan, check, values, &provider.id).await?;
        }
        Ok(())
    }

    /// Sends one request to a filled address, mapping a failure to send to the user's answer.
    async fn send(
        &self,
        plan: &Plan,
        address: &Address,
        url: &Url,
        request: reqwest::RequestBuilder,
        provider: &str,
        step: &str,
    ) -> Result<reqwest::Response, VerifyError> {
        let host = url.host_str().unwrap_or("").to_string();
        let literal_ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        // An address literal never reaches the resolver: check it here.
        if let Some(ip) = literal_ip {
            if !self.allow_private && !net::is_public(ip) {
                return Err(plan.not_public(address, &host));
            }
        }
        let start = Instant::now();
        let result = request.send().await;
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(response) => {
                tracing::info!(
                    provider,
                    step,
                    status = response.status().as_u16(),
                    "verification answered in {elapsed_ms:.0}ms"
                );
                Ok(response)
            }
            Err(e) => {
                tracing::info!(
                    provider,
                    step,
                    timeout = e.is_timeout(),
                    "verification request failed after {elapsed_ms:.0}ms"
                );
                Err(match net::address_error(&e) {
                    Some(AddressError::Private) => plan.not_public(address, &host),
                    Some(AddressError::NotFound) => {
                        plan.nobody_at(address.host_field.as_deref(), &host)
                    }
                    None if e.is_timeout() => {
                        plan.unreachable(&format!("{host} did not answer in time"))
                    }
                    None if e.is_connect() => plan.nobody_at(address.host_field.as_deref(), &host),
                    None => plan.unreachable(&format!("{host} could not be reached")),
                })
            }
        }
    }

    /// The client-credentials exchange: the access token, or why there is none.
    async fn exchange(
        &self,
        plan: &Plan,
        t: &TokenRequest,
        values: Values<'_>,
        provider: &str,
    ) -> Result<String, VerifyError> {
        let url = plan.fill_url(&t.address, values, self.allow_private)?;
        let id = values.get(&Source::Credential(t.client_id.clone()));
        let secret = values.get(&Source::Credential(t.client_secret.clone()));
        let (body, basic) = token_form(plan, t, &values, id, secret)?;
        let mut request = self
            .client
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(basic) = basic {
            request = request.header(AUTHORIZATION, basic);
        }
        let response = self
            .send(plan, &t.address, &url, request, provider, "token")
            .await?;
        let status = response.status().as_u16();
        let body = read_capped(response).await;
        let answer = parse_token_answer(&body);
        match status {
            200..=299 => answer
                .get("access_token")
                .filter(|t| !t.is_empty())
                .cloned()
                .ok_or_else(|| plan.unreachable("its token answer had no access token")),
            400 | 401 | 403 => {
                let error = answer.get("error").map_or("", String::as_str);
                match (status, error) {
                    (_, "invalid_scope") => Err(VerifyError::Rejected {
                        field: t.scopes.clone().unwrap_or_else(|| t.client_secret.clone()),
                        message: format!(
                            "{} did not grant these scopes to this client. Check the scopes.",
                            plan.name
                        ),
                    }),
                    (401 | 403, _)
                    | (_, "invalid_client" | "unauthorized_client" | "invalid_grant") => {
                        Err(plan.rejected())
                    }
                    _ => Err(plan.unreachable(&format!(
                        "its token endpoint answered unexpectedly (HTTP {status})"
                    ))),
                }
            }
            _ => Err(plan.status_error(status, &t.address, &url)),
        }
    }

    /// The verification request.
    async fn check(
        &self,
        plan: &Plan,
        check: &Check,
        values: Values<'_>,
        provider: &str,
    ) -> Result<(), VerifyError> {
        let url = plan.fill_url(&check.address, values, self.allow_private)?;
        let mut request = self.client.request(check.method.clone(), url.clone());
        for (name, value) in &check.headers {
            let value = value
                .fill_header(&values)
                .map_err(|e| plan.fill_error(e, &check.address))?;
            request = request.header(name, sensitive(&value)?);
        }
        if !check.sets_authorization {
            if let Some(token) = values.access_token {
                request = request.header(AUTHORIZATION, sensitive(&format!("Bearer {token}"))?);
            } else if let Some((user, password)) = &plan.basic {
                let user = values.get(&Source::Credential(user.clone()));
                let password = values.get(&Source::Credential(password.clone()));
                let basic = BASE64.encode(format!("{user}:{password}"));
                request = request.header(AUTHORIZATION, sensitive(&format!("Basic {basic}"))?);
            }
        }
        if let Some(body) = &check.body {
            let body = body
                .fill_json(&values)
                .map_err(|e| plan.fill_error(e, &check.address))?;
            if !check.headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            request = request.body(body);
        }
        let response = self
            .send(plan, &check.address, &url, request, provider, "check")
            .await?;
        let status = response.status().as_u16();
        if check.verification.accepts(status) {
            return Ok(());
        }
        match status {
            401 | 403 => Err(plan.rejected()),
            s => Err(plan.status_error(s, &check.address, &url)),
        }
    }
}

/// The token request's form body and, for `token_auth: basic`, its `Authorization` header
/// (built apart from the async code: the form serializer is not `Send`).
fn token_form(
    plan: &Plan,
    t: &TokenRequest,
    values: &Values,
    id: &str,
    secret: &str,
) -> Result<(String, Option<HeaderValue>), VerifyError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(scopes) = &t.scopes {
        let scopes = values.get(&Source::Credential(scopes.clone())).trim();
        if !scopes.is_empty() {
            form.append_pair("scope", scopes);
        }
    }
    for (name, value) in &t.params {
        let value = value
            .fill_plain(values)
            .map_err(|e| plan.fill_error(e, &t.address))?;
        form.append_pair(name, &value);
    }
    let basic = if t.in_body {
        form.append_pair("client_id", id);
        form.append_pair("client_secret", secret);
        None
    } else {
        // RFC 6749 2.3.1: each part form-encoded, then HTTP Basic.
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = BASE64.encode(format!("{}:{}", enc(id), enc(secret)));
        Some(sensitive(&format!("Basic {basic}"))?)
    };
    Ok((form.finish(), basic))
}

/// A header value marked sensitive (kept out of debug output); a value no header can carry is
/// refused before anything is sent (core refuses control characters first).
fn sensitive(value: &str) -> Result<HeaderValue, VerifyError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| VerifyError::Unreachable {
        message: "We couldn't check your credentials: they contain characters that cannot be \
                  sent. Nothing was saved."
            .into(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The answer's body, at most [`MAX_TOKEN_ANSWER_BYTES`].
async fn read_capped(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_TOKEN_ANSWER_BYTES {
            body.truncate(MAX_TOKEN_ANSWER_BYTES);
            break;
        }
    }
    body
}

/// The string members of a token answer: JSON (RFC 6749), or the form encoding some older
/// servers send.
fn parse_token_answer(body: &[u8]) -> HashMap<String, String> {
    if let Ok(serde_json::Value::Object(members)) = serde_json::from_slice(body) {
        return members
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect();
    }
    form_urlencoded::parse(body).into_owned().collect()
}

/// `template` with its scheme, host and port replaced by `base` (`--verify-base`), whose
/// `{key}` placeholders mean `${connectionConfig.key}`.
fn rebase(template: &str, base: &str) -> String {
    let base = base.trim_end_matches('/');
    let mut converted = String::with_capacity(base.len() + 32);
    let mut prev = '\0';
    for c in base.chars() {
        if c == '{' && prev != '$' {
            converted.push_str("${connectionConfig.");
        } else {
            converted.push(c);
        }
        prev = c;
    }
    format!("{converted}{}", &template[origin_end(template)..])
}

/// Where the scheme, host and port of a URL template end (the path's `/` or the query's `?`,
/// outside placeholders).
fn origin_end(template: &str) -> usize {
    let start = template.find("://").map_or(0, |i| i + 3);
    let mut depth = 0;
    let bytes = template.as_bytes();
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b'/' | b'?' | b'#' if depth == 0 => return i,
            _ => {}
        }
    }
    template.len()
}

/// The first config field of `template`, if it parses.
fn first_config(template: &str) -> Option<String> {
    Template::parse(template)
        .ok()?
        .sources()
        .find_map(|s| match s {
            Source::Config(k) => Some(k.clone()),
            _ => None,
        })
}

/// What a credential is called in messages, from its field's title ("API Key" → "API key").
fn noun_of(title: &str) -> String {
    title
        .split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            let all_caps = w
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase);
            match chars.next() {
                Some(first) if !all_caps || w.chars().count() == 1 => {
                    first.to_lowercase().chain(chars).collect::<String>()
                }
                _ => w.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Plan {
    /// The plan of `spec` (its mode active), or `None` when nothing is checked.
    fn new(spec: &ProviderSpec, base: Option<&str>, allow_http: bool) -> Option<Plan> {
        let mode = spec.active_mode()?;
        let verification = match &mode.verification {
            Some(v) if !v.enabled => return None,
            v => v.clone(),
        };
        let is_cc = mode.mode == AuthKind::OAuth2ClientCredentials;
        if verification.is_none() && !(is_cc && mode.token_url.is_some()) {
            return None;
        }
        let titles: HashMap<String, String> = spec
            .fields()
            .into_iter()
            .map(|(_, f)| {
                let title = if f.title.trim().is_empty() {
                    f.key.clone()
                } else {
                    f.title.clone()
                };
                (f.key.clone(), title)
            })
            .collect();
        let mut problems: Vec<String> = Vec::new();
        let address = |problems: &mut Vec<String>, what: &str, text: &str| -> Address {
            let text = match base {
                Some(b) => rebase(text, b),
                None => text.to_string(),
            };
            let https = text
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
            let http = text
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
            if !(https || (http && allow_http) || text.starts_with("${")) {
                problems.push(format!("the {what} is not an https URL"));
            }
            let template = Template::parse(&text).unwrap_or_else(|e| {
                problems.push(format!("the {what}: {e}"));
                Template::default()
            });
            Address {
                host_field: first_config(&text[..origin_end(&text)]),
                any_field: first_config(&text),
                template,
            }
        };
        let check = verification.map(|v| {
            let address = address(&mut problems, "verification URL", &v.url);
            let method = Method::from_bytes(v.method.as_bytes()).unwrap_or(Method::GET);
            let mut headers = Vec::new();
            for (name, value) in &v.headers {
                match (HeaderName::try_from(name.as_str()), Template::parse(value)) {
                    (Ok(n), Ok(t)) => headers.push((n, t)),
                    (Err(_), _) => problems.push("a verification header name is not valid".into()),
                    (_, Err(e)) => problems.push(format!("verification header {name}: {e}")),
                }
            }
            let body = v.body.as_deref().and_then(|b| {
                Template::parse(b)
                    .map_err(|e| problems.push(format!("the verification body: {e}")))
                    .ok()
            });
            Check {
                method,
                sets_authorization: headers.iter().any(|(n, _)| n == AUTHORIZATION),
                headers,
                body,
                address,
                verification: v,
            }
        });
        let key_of = |names: &[&str], secret: bool| -> Option<String> {
            spec.credentials
                .iter()
                .find(|f| names.contains(&f.key.as_str()))
                .or_else(|| spec.credentials.iter().find(|f| f.secret == secret))
                .map(|f| f.key.clone())
        };
        let token = if is_cc {
            match &mode.token_url {
                Some(url) => Some(TokenRequest {
                    address: address(&mut problems, "token URL", url),
                    in_body: mode.token_auth.as_deref() == Some("body"),
                    params: mode
                        .token_params
                        .iter()
                        .filter_map(|(k, v)| match Template::parse(v) {
                            Ok(t) => Some((k.clone(), t)),
                            Err(e) => {
                                problems.push(format!("token parameter {k}: {e}"));
                                None
                            }
                        })
                        .collect(),
                    client_id: key_of(&["client_id", "clientId"], false).unwrap_or_default(),
                    client_secret: key_of(&["client_secret", "clientSecret"], true)
                        .unwrap_or_default(),
                    scopes: spec
                        .credentials
                        .iter()
                        .find(|f| matches!(f.key.as_str(), "scopes" | "scope"))
                        .map(|f| f.key.clone()),
                }),
                None => {
                    problems.push("an OAUTH2_CC mode needs a token_url to be verified".into());
                    None
                }
            }
        } else {
            None
        };
        if let Some(mode) = &mode.token_auth {
            if !matches!(mode.as_str(), "basic" | "body") {
                problems.push("token_auth must be basic or body".into());
            }
        }
        // Every placeholder must name a field of this provider and mode.
        let mut sources: Vec<&Source> = Vec::new();
        if let Some(c) = &check {
            sources.extend(c.address.template.sources());
            sources.extend(c.headers.iter().flat_map(|(_, t)| t.sources()));
            sources.extend(c.body.iter().flat_map(Template::sources));
        }
        if let Some(t) = &token {
            sources.extend(t.address.template.sources());
            sources.extend(t.params.iter().flat_map(|(_, t)| t.sources()));
        }
        for source in &sources {
            let known = match source {
                Source::Credential(k) => spec.credentials.iter().any(|f| &f.key == k),
                Source::Config(k) => spec.connection_config.iter().any(|f| &f.key == k),
                Source::AccessToken => token.is_some(),
            };
            if !known {
                problems.push(match source.field() {
                    Some(k) => {
                        format!("a placeholder names `{k}`, which is not a field of this mode")
                    }
                    None => "`${accessToken}` is used without a token_url".into(),
                });
            }
        }
        let secret = match (&mode.mode, &token) {
            (AuthKind::OAuth2ClientCredentials, Some(t)) => t.client_secret.clone(),
            _ => sources
                .iter()
                .filter_map(|s| match s {
                    Source::Credential(k) => spec.credentials.iter().find(|f| &f.key == k),
                    _ => None,
                })
                .find(|f| f.secret)
                .or_else(|| spec.credentials.iter().find(|f| f.secret))
                .or_else(|| spec.credentials.first())
                .map(|f| f.key.clone())
                .unwrap_or_else(|| "apiKey".into()),
        };
        let basic = (mode.mode == AuthKind::Basic).then(|| {
            (
                key_of(&["username"], false).unwrap_or_else(|| "username".into()),
                key_of(&["password"], true).unwrap_or_else(|| "password".into()),
            )
        });
        let noun = match &mode.mode {
            AuthKind::Basic => "username and password".to_string(),
            AuthKind::OAuth2ClientCredentials => "client credentials".to_string(),
            _ => match titles.get(&secret) {
                Some(t) if t != &secret => noun_of(t),
                _ => "API key".to_string(),
            },
        };
        let broken = (!problems.is_empty()).then(|| problems.join("; "));
        Some(Plan {
            name: spec.name.clone(),
            kind: mode.mode.clone(),
            broken,
            token,
            check,
            secret,
            noun,
            basic,
            titles,
        })
    }

    fn title(&self, key: &str) -> String {
        self.titles
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    fn unreachable(&self, detail: &str) -> VerifyError {
        VerifyError::Unreachable {
            message: format!(
                "We couldn't check your {} with {}: {detail}. Nothing was saved; try again in a \
                 moment.",
                self.noun, self.name
            ),
        }
    }

    /// The provider refused the credential.
    fn rejected(&self) -> VerifyError {
        let name = &self.name;
        let message = match self.kind {
            AuthKind::Basic => {
                format!("{name} rejected this username and password. Check both and try again.")
            }
            AuthKind::OAuth2ClientCredentials => format!(
                "{name} rejected this client ID and secret. Check that you copied the whole secret."
            ),
            _ => {
                let short = self.noun.rsplit(' ').next().unwrap_or("key");
                format!(
                    "{name} rejected this {}. Check that you copied the whole {short}.",
                    self.noun
                )
            }
        };
        VerifyError::Rejected {
            field: self.secret.clone(),
            message,
        }
    }

    /// Nobody answers at `host`: the config field that chose it is wrong, if one did.
    fn nobody_at(&self, field: Option<&str>, host: &str) -> VerifyError {
        match field {
            Some(field) => VerifyError::WrongConfig {
                field: field.to_string(),
                message: format!(
                    "No {} account answers at {host}. Check the {}.",
                    self.name,
                    self.title(field)
                ),
            },
            None => self.unreachable(&format!("{host} could not be reached")),
        }
    }

    /// The address is not public (and the test flag is off).
    fn not_public(&self, address: &Address, host: &str) -> VerifyError {
        match &address.host_field {
            Some(field) => VerifyError::WrongConfig {
                field: field.clone(),
                message: format!(
                    "{host} is not a public address, so {} can't be reached there. Check the {}.",
                    self.name,
                    self.title(field)
                ),
            },
            None => self.unreachable(&format!("{host} is not a public address")),
        }
    }

    /// An answer that is neither acceptance nor refusal.
    fn status_error(&self, status: u16, address: &Address, url: &Url) -> VerifyError {
        match status {
            404 => match &address.any_field {
                Some(_) => {
                    self.nobody_at(address.any_field.as_deref(), url.host_str().unwrap_or(""))
                }
                None => self.unreachable("it answered unexpectedly (HTTP 404)"),
            },
            429 => self.unreachable("it is receiving too many requests"),
            500..=599 => self.unreachable(&format!("it answered with an error (HTTP {status})")),
            _ => self.unreachable(&format!("it answered unexpectedly (HTTP {status})")),
        }
    }

    fn fill_url(
        &self,
        address: &Address,
        values: Values,
        allow_http: bool,
    ) -> Result<Url, VerifyError> {
        address
            .template
            .fill_url(&values, allow_http)
            .map_err(|e| self.fill_error(e, address))
    }

    /// A value that cannot go where the template puts it: the field holding it is wrong.
    fn fill_error(&self, e: FillError, address: &Address) -> VerifyError {
        match e {
            FillError::Value(Source::Config(field)) => VerifyError::WrongConfig {
                message: format!(
                    "This {} can't be part of {}'s address. Check the {}.",
                    self.title(&field),
                    self.name,
                    self.title(&field)
                ),
                field,
            },
            FillError::Value(Source::Credential(field)) => VerifyError::Rejected {
                message: format!(
                    "This {} contains characters it never has. Copy it again from {}.",
                    self.title(&field),
                    self.name
                ),
                field,
            },
            FillError::Value(Source::AccessToken) => {
                self.unreachable("its access token cannot be sent")
            }
            FillError::Shape => match &address.host_field {
                Some(field) => VerifyError::WrongConfig {
                    field: field.clone(),
                    message: format!(
                        "This {} can't be part of {}'s address. Check the {}.",
                        self.title(field),
                        self.name,
                        self.title(field)
                    ),
                },
                None => self.unreachable("its address could not be built"),
            },
            FillError::Scheme => self.unreachable("its address is not https"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_ui_core::builtin_catalog;

    #[test]
    fn every_builtin_provider_has_a_usable_verification_request() {
        let (v, issues) = Verifier::new(
            Duration::from_secs(1),
            false,
            &BTreeMap::new(),
            builtin_catalog(),
        )
        .unwrap();
        assert_eq!(issues, []);
        for p in &builtin_catalog().providers {
            let plans = &v.plans[&p.id];
            assert_eq!(plans.len(), 1);
            assert!(plans[0].1.check.is_some(), "{}", p.id);
        }
        assert_eq!(v.plans["kandji"][0].1.noun, "API token");
        assert_eq!(v.plans["workos"][0].1.noun, "API key");
    }

    #[test]
    fn a_base_replaces_scheme_host_and_port_and_keeps_path_and_query() {
        let kandji = "https://${connectionConfig.subdomain}.kandji.io/api/v1/devices?limit=1";
        assert_eq!(
            rebase(kandji, "http://127.0.0.1:9/kandji/{subdomain}/"),
            "http://127.0.0.1:9/kandji/${connectionConfig.subdomain}/api/v1/devices?limit=1"
        );
        assert_eq!(
            rebase(
                "https://api.tally.so/forms?limit=1",
                "http://127.0.0.1:9/tally"
            ),
            "http://127.0.0.1:9/tally/forms?limit=1"
        );
        assert_eq!(rebase("https://api.test", "http://h"), "http://h");
        assert_eq!(
            first_config(&kandji[..origin_end(kandji)]).as_deref(),
            Some("subdomain")
        );
    }

    #[test]
    fn nouns_come_from_titles() {
        assert_eq!(noun_of("API Key"), "API key");
        assert_eq!(noun_of("API Token"), "API token");
        assert_eq!(noun_of("Personal Access Token"), "personal access token");
        assert_eq!(noun_of("Password"), "password");
    }

    #[test]
    fn catalog_mistakes_in_verification_data_are_found_at_start() {
        let c = Catalog::from_json(
            r#"{"providers":[
            {"id":"a","name":"A","verification":{"url":"https://a.test/${random}"}},
            {"id":"b","name":"B","verification":{"url":"http://b.test/me"}},
            {"id":"c","name":"C","verification":{"url":"https://c.test/${connectionConfig.nope}"}},
            {"id":"d","name":"D","auth_modes":[{"mode":"OAUTH2_CC","token_url":"https://d.test/token",
              "token_auth":"header"}]},
            {"id":"e","name":"E","verification":false},
            {"id":"f","name":"F","verification":{"url":"https://f.test/","headers":{"X-Key":"${apiKey}"}}}]}"#,
        )
        .unwrap()
        .catalog;
        let (v, issues) =
            Verifier::new(Duration::from_secs(1), false, &BTreeMap::new(), &c).unwrap();
        let found: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.provider.as_str(), i.message.as_str()))
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].1.contains("`${random}`"));
        assert!(found[1].1.contains("not an https URL"));
        assert!(found[2].1.contains("`nope`"));
        assert!(found[3].1.contains("token_auth"));
        assert!(!v.plans.contains_key("e"), "turned off");
        assert!(v.plans["f"][0].1.broken.is_none());
        let err = Verifier::new(
            Duration::from_secs(1),
            false,
            &BTreeMap::from([("e".to_string(), "http://x".to_string())]),
            &c,
        )
        .unwrap_err();
        assert!(err.contains("\"e\""), "{err}");
    }
}
