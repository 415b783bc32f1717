//! Liveness and the JSON answers for unknown paths and methods.

use super::error::ApiError;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// `GET /health`: liveness for load balancers and scripts.
pub async fn health() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// Fallback for unknown API paths: JSON, not axum's empty 404.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Fallback for a known path with the wrong method: JSON, not axum's empty 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
