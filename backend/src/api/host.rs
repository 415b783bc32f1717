//! The host's server's endpoints for stored connections (host API key; open in dev mode, which
//! answers loopback only): `GET /connections` paged by cursor, `GET /connections/{id}` with the
//! decrypted credentials (logged as an access, never with values) and `DELETE /connections/{id}`.

use super::error::ApiError;
use super::extract::HostKey;
use super::AppState;
use crate::config::Mode;
use crate::store::{Cursor, ListQuery, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Checks the host API key in production; dev mode leaves the host's endpoints open (the
/// preview and the browser tests read them without the generated key).
pub async fn host_access(state: &AppState, parts: &Parts) -> Result<(), ApiError> {
    if state.mode == Mode::Production {
        HostKey::check(state, parts).await?;
    }
    Ok(())
}

/// Reads `end_user_id`, `provider`, `cursor` and `limit` from a query string; an unknown
/// parameter, a bad cursor or limit is `400 invalid_request`.
fn list_query(query: Option<&str>) -> Result<ListQuery, ApiError> {
    let mut out = ListQuery::default();
    let bad = |m: String| ApiError::InvalidRequest(m);
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let value = value.trim().to_string();
        match name.as_ref() {
            "end_user_id" => out.end_user_id = Some(value).filter(|v| !v.is_empty()),
            "provider" => out.provider = Some(value).filter(|v| !v.is_empty()),
            "cursor" if value.is_empty() => {}
            "cursor" => {
                out.after = Some(Cursor::decode(&value).ok_or_else(|| {
                    bad("cursor is not one this server gave; pass next_cursor as it came".into())
                })?)
            }
            "limit" => {
                out.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE_LIMIT).contains(n))
                    .ok_or_else(|| {
                        bad(format!(
                            "limit must be a number from 1 to {MAX_PAGE_LIMIT} (default {DEFAULT_PAGE_LIMIT})"
                        ))
                    })?
            }
            other => {
                return Err(bad(format!(
                    "unknown parameter {:?}; GET /connections takes end_user_id, provider, cursor and limit",
                    super::shorten(other)
                )))
            }
        }
    }
    Ok(out)
}

/// `GET /connections?end_user_id=&provider=&cursor=&limit=`: one page of stored connections,
/// oldest first, `{connections, next_cursor}`, never a credential value.
pub async fn list_connections(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<Response, ApiError> {
    host_access(&state, &parts).await?;
    let query = list_query(parts.uri.query())?;
    Ok(Json(state.store.list_page(query).await?).into_response())
}

/// `GET /connections/{id}`: the connection with its decrypted credentials, for the host's
/// server to call the provider; logged as an access (the id, never a value), never cached.
pub async fn get_connection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Response, ApiError> {
    host_access(&state, &parts).await?;
    let detail = state
        .store
        .connection(&id)
        .await?
        .ok_or(ApiError::UnknownConnection)?;
    tracing::info!(
        target: "connect_ui_backend::access",
        connection_id = %detail.connection_id,
        provider = %detail.provider,
        "credentials read by the host"
    );
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(detail)).into_response())
}

/// `DELETE /connections/{id}`: revokes a stored connection (`204`; `404 unknown_connection`).
pub async fn delete_connection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Response, ApiError> {
    host_access(&state, &parts).await?;
    let deleted = state
        .store
        .delete(&id)
        .await?
        .ok_or(ApiError::UnknownConnection)?;
    tracing::info!(
        target: "connect_ui_backend::access",
        connection_id = %deleted.summary.connection_id,
        "connection deleted by the host"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
