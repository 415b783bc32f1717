//! `GET /catalog`: the merged catalog (built-in providers and the host's `--catalog` files) as
//! version-1 JSON, so a widget's `catalogUrl` can point at its backend. Cacheable: a strong
//! `ETag` (`If-None-Match` gets `304`) and `Cache-Control: public, max-age=300`.

use super::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// How long a browser or cache may keep the catalog before asking again (it changes only when
/// the backend restarts with other files).
pub const CATALOG_CACHE_CONTROL: &str = "public, max-age=300";

/// `GET /catalog`: no authentication (the catalog holds no secret and no backend-only data).
pub async fn get_catalog(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let etag = state.providers.etag();
    let cached = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*");
    let common = [
        (
            header::ETAG,
            HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\"")),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CATALOG_CACHE_CONTROL),
        ),
    ];
    if cached {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        StatusCode::OK,
        common,
        [(header::CONTENT_TYPE, "application/json")],
        state.providers.served_json(),
    )
        .into_response()
}
