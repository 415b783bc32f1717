//! `POST /connections`: the widget saves a connection with its session token (the host's
//! endpoints are in [`super::host`], the reconnect in [`super::lifecycle`]).

use super::error::ApiError;
use super::extract::{body_bytes, require_json, IdempotencyKey, SessionToken};
use super::strict::{self, StrictError};
use super::{shorten, unknown_provider_message, AppState};
use crate::clock::now_unix;
use crate::store::{CreateOutcome, Idempotency, Refusal, Submission};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connect_ui_core::{validate_request, ConnectionRequest, ProviderSpec};
use std::collections::HashSet;
use std::sync::Mutex;

/// Session tokens whose key is being checked with its provider right now.
#[derive(Debug, Default)]
pub struct Verifications(Mutex<HashSet<[u8; 32]>>);

/// A session's turn to have a key checked; the next one may start when it is dropped.
pub struct VerificationSlot<'a> {
    verifications: &'a Verifications,
    token_hash: [u8; 32],
}

impl Verifications {
    /// The session's turn, or `None` while another of its keys is being checked.
    pub fn try_begin(&self, token_hash: [u8; 32]) -> Option<VerificationSlot<'_>> {
        let mut busy = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // `then`, not `then_some`: a slot built and dropped here would free another's turn.
        busy.insert(token_hash).then(|| VerificationSlot {
            verifications: self,
            token_hash,
        })
    }
}

impl Drop for VerificationSlot<'_> {
    fn drop(&mut self) {
        let mut busy = self
            .verifications
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        busy.remove(&self.token_hash);
    }
}

/// The answer for a store or precheck outcome.
fn outcome_response(outcome: CreateOutcome, provider: &ProviderSpec) -> Result<Response, ApiError> {
    match outcome {
        CreateOutcome::Created(created) => Ok((StatusCode::CREATED, Json(created)).into_response()),
        CreateOutcome::Replayed { status, body } => Ok((
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()),
        CreateOutcome::KeyReused => Err(ApiError::IdempotencyKeyReused),
        CreateOutcome::Refused(refusal) => Err(refusal_error(refusal, provider)),
        CreateOutcome::InvalidLabel(message) => Err(ApiError::ValidationFailed(
            [("label".to_string(), message)].into(),
        )),
    }
}

/// The answer for a session that cannot be used.
pub(super) fn refusal_error(refusal: Refusal, provider: &ProviderSpec) -> ApiError {
    match refusal {
        Refusal::ProviderNotAllowed => ApiError::ProviderNotAllowed(provider.name.clone()),
        Refusal::UnknownSession | Refusal::Expired | Refusal::Spent => ApiError::SessionExpired,
        Refusal::TooManyRefusedKeys => ApiError::TooManyRefusedKeys,
        Refusal::ReconnectSession => ApiError::ReconnectSession,
    }
}

/// Describes a JSON error by kind and position only: serde's own text can quote the input,
/// which may be a secret.
fn json_error_message(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Syntax | Category::Eof => {
            format!("The request body is not valid JSON ({at})")
        }
        Category::Data | Category::Io => format!(
            "The request body must be an object like \
             {{\"provider\":\"…\",\"credentials\":{{…}},\"connection_config\":{{…}}}} \
             with string values ({at})"
        ),
    }
}

/// Parses a connection request body (already read and declared JSON): one object, no key twice,
/// string values; errors never quote it.
pub(super) fn parse_request(body: &Bytes) -> Result<ConnectionRequest, ApiError> {
    strict::check(body).map_err(|e| {
        ApiError::InvalidJson(match e {
            StrictError::Json(e) => json_error_message(&e),
            StrictError::DuplicateKey { line, column } => format!(
                "The request body has a key twice (line {line}, column {column}); send each key once"
            ),
        })
    })?;
    serde_json::from_slice(body).map_err(|e| ApiError::InvalidJson(json_error_message(&e)))
}

/// The provider of a request in the request's auth mode (its first when none is named).
pub(super) fn provider_for<'a>(
    state: &'a AppState,
    request: &ConnectionRequest,
) -> Result<&'a ProviderSpec, ApiError> {
    state
        .providers
        .with_mode(&request.provider, request.auth_mode.as_deref())
        .map_err(|modes| match modes {
            None => ApiError::UnknownProvider(unknown_provider_message(
                &state.providers,
                &request.provider,
            )),
            Some(modes) => ApiError::UnknownAuthMode(format!(
                "Unknown auth mode \"{}\" for this provider; expected one of: {}",
                shorten(request.auth_mode.as_deref().unwrap_or_default()),
                modes.join(", ")
            )),
        })
}

/// Core's validation of a whole request against its provider: the normalised request, or
/// `400 validation_failed` with core's message per field.
pub(super) fn validate(
    state: &AppState,
    provider: &ProviderSpec,
    request: &ConnectionRequest,
) -> Result<ConnectionRequest, ApiError> {
    validate_request(provider, request, state.engine.as_ref()).map_err(|errors| {
        ApiError::ValidationFailed(errors.into_iter().map(|(k, e)| (k, e.message())).collect())
    })
}

/// `POST /connections`: needs a live session token; re-validates with the shared rules,
/// optionally checks the key with its provider, stores the normalised request encrypted and
/// spends the session.
pub async fn create_connection(
    State(state): State<AppState>,
    token: SessionToken,
    key: Result<IdempotencyKey, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    require_json(&headers)?;
    let IdempotencyKey(key) = key?;
    let request = parse_request(&body)?;
    let provider = provider_for(&state, &request)?;
    let mut normalized = validate(&state, provider, &request)?;
    // The mode the credentials are for, also when the request left it to the provider's first.
    normalized.auth_mode = Some(provider.auth_mode.clone());
    let submission = Submission {
        token_hash: token.hash,
        idempotency: key.map(|key| Idempotency {
            request_hash: state.store.request_hash(&normalized),
            key,
        }),
        request: normalized,
        now: now_unix(),
    };
    let Some(verifier) = &state.verifier else {
        return outcome_response(state.store.create(submission).await?, provider);
    };
    // One key at a time per session, until it is stored or refused: parallel requests cannot
    // make the provider check many keys at once.
    let _slot = state
        .verifications
        .try_begin(token.hash)
        .ok_or(ApiError::VerificationInProgress)?;
    // Only keys that could be saved are sent to the provider: not for replays, spent or
    // expired sessions, or providers the session may not connect.
    if let Some(outcome) = state.store.precheck(submission.clone()).await? {
        return outcome_response(outcome, provider);
    }
    if let Err(e) = verifier.verify(provider, &submission.request).await {
        if e.is_refusal() {
            state
                .store
                .record_failed_verification(token.hash, submission.now)
                .await?;
        }
        return Err(e.into());
    }
    outcome_response(state.store.create(submission).await?, provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_never_quote_the_input() {
        let e = serde_json::from_str::<ConnectionRequest>(
            r#"{"provider":"workos","credentials":"sk_live_secret"}"#,
        )
        .unwrap_err();
        let m = json_error_message(&e);
        assert!(!m.contains("sk_live_secret"), "{m}");
        assert!(m.contains("column"));
    }
}
