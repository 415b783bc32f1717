//! `PATCH /connections/{id}`: the reconnect. The widget, with a session made for that connection,
//! sends the form again; blank secrets keep the stored ones, and the merged request is validated
//! and verified as a whole, as on create.

use super::connections::{parse_request, provider_for, refusal_error, validate};
use super::error::ApiError;
use super::extract::{body_bytes, require_json, IdempotencyKey, SessionToken};
use super::AppState;
use crate::clock::now_unix;
use crate::store::{merge, Idempotency, Update, UpdateOutcome};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connect_ui_core::{validate_label, ProviderSpec};

/// The answer for a reconnect's outcome.
fn update_response(outcome: UpdateOutcome, provider: &ProviderSpec) -> Result<Response, ApiError> {
    match outcome {
        UpdateOutcome::Updated(updated) => Ok((StatusCode::OK, Json(updated)).into_response()),
        UpdateOutcome::Replayed { status, body } => Ok((
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()),
        UpdateOutcome::KeyReused => Err(ApiError::IdempotencyKeyReused),
        UpdateOutcome::Refused(refusal) => Err(refusal_error(refusal, provider)),
        UpdateOutcome::WrongConnection => Err(ApiError::WrongConnection),
        UpdateOutcome::UnknownConnection => Err(ApiError::UnknownConnection),
    }
}

/// `PATCH /connections/{id}` (reconnect session for that id): merges the request into the
/// stored connection (absent or blank secret = keep, unless the auth mode changes (absent = the
/// stored mode); config as
/// sent; label absent = keep, `""` = clear), validates the whole with core's rules and the
/// session's label policy, verifies it with the provider as on create, then stores it
/// re-encrypted, sets `updated_at` and spends the session. `200` `{connection_id, provider,
/// label}`; `Idempotency-Key` replays the first answer.
pub async fn update_connection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    token: SessionToken,
    key: Result<IdempotencyKey, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    require_json(&headers)?;
    let IdempotencyKey(key) = key?;
    let sent = parse_request(&body)?;
    let mut update = Update {
        token_hash: token.hash,
        connection_id: id,
        // The request as sent: its repeat is recognised without reading the stored secrets.
        idempotency: key.map(|key| Idempotency {
            request_hash: state.store.request_hash(&sent),
            key,
        }),
        request: Default::default(),
        now: now_unix(),
    };
    let target = match state.store.reconnect_target(update.clone()).await? {
        Ok(target) => target,
        Err(outcome) => {
            return update_response(outcome, provider_for(&state, &sent)?);
        }
    };
    // No auth mode named: the stored one (a reconnect changes the mode only when asked to).
    let mut sent = sent;
    if sent.auth_mode.is_none() && sent.provider == target.stored.provider {
        sent.auth_mode = target.stored.auth_mode.clone();
    }
    let provider = provider_for(&state, &sent)?;
    if target.stored.provider != sent.provider {
        return Err(ApiError::ValidationFailed(
            [(
                "provider".to_string(),
                format!(
                    "This connection is to {}; a reconnect cannot change the provider",
                    super::shorten(&target.stored.provider)
                ),
            )]
            .into(),
        ));
    }
    // The stored mode as the catalog resolves it (rows from before modes were stored: the first).
    let stored_mode = state
        .providers
        .with_mode(&target.stored.provider, target.stored.auth_mode.as_deref())
        .map(|p| p.auth_mode.clone())
        .ok();
    let same_mode = stored_mode.as_deref() == Some(provider.auth_mode.as_str());
    let merged = merge(&target.stored, &sent, same_mode);
    let mut normalized = validate(&state, provider, &merged)?;
    normalized.auth_mode = Some(provider.auth_mode.clone());
    normalized.label = validate_label(merged.label.as_deref(), target.label_policy)
        .map_err(|e| ApiError::ValidationFailed([("label".to_string(), e.message())].into()))?;
    update.request = normalized;
    let Some(verifier) = &state.verifier else {
        return update_response(state.store.update(update).await?, provider);
    };
    let _slot = state
        .verifications
        .try_begin(token.hash)
        .ok_or(ApiError::VerificationInProgress)?;
    if let Err(e) = verifier.verify(provider, &update.request).await {
        if e.is_refusal() {
            state
                .store
                .record_failed_verification(token.hash, update.now)
                .await?;
        }
        return Err(e.into());
    }
    update_response(state.store.update(update).await?, provider)
}
