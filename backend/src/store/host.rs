//! What the host's server reads and removes (host API key): one connection with its decrypted
//! credentials, a deletion, and the listing paged by an opaque cursor over `(created_at, id)`,
//! which never reads a credential.

use super::{ListedConnection, StoreError};
use crate::crypto::Cipher;
use base64::Engine as _;
use connect_ui_core::ConnectionSummary;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Page size when the host names none.
pub const DEFAULT_PAGE_LIMIT: usize = 50;

/// Largest page a host may ask for.
pub const MAX_PAGE_LIMIT: usize = 200;

/// The columns [`listed_from_row`] reads, in its order (never the credentials).
pub(super) const LISTED_COLUMNS: &str = "id, provider, end_user_id, credential_keys_json,
    connection_config_json, created_at, label, auth_mode, updated_at";

/// A row of [`LISTED_COLUMNS`] as the listing shows it.
pub(super) fn listed_from_row(r: &Row<'_>) -> Result<ListedConnection, StoreError> {
    Ok(ListedConnection {
        summary: ConnectionSummary {
            connection_id: r.get(0)?,
            provider: r.get(1)?,
            credential_keys: serde_json::from_str(&r.get::<_, String>(3)?)?,
            connection_config: serde_json::from_str(&r.get::<_, String>(4)?)?,
            created_at: r.get(5)?,
            label: r.get(6)?,
            auth_mode: r.get(7)?,
            updated_at: r.get(8)?,
        },
        end_user_id: r.get(2)?,
    })
}

/// The listing of one connection (no credential value), if it exists.
pub(super) fn listed_in(
    conn: &Connection,
    id: &str,
) -> Result<Option<ListedConnection>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LISTED_COLUMNS} FROM connections WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(listed_from_row(r)?)),
        None => Ok(None),
    }
}

/// Which connections `GET /connections` lists and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only this end user's connections.
    pub end_user_id: Option<String>,
    /// Only this provider's connections.
    pub provider: Option<String>,
    /// Only connections after this position (from a cursor).
    pub after: Option<Cursor>,
    /// Most connections in the page (1 to [`MAX_PAGE_LIMIT`]).
    pub limit: usize,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            end_user_id: None,
            provider: None,
            after: None,
            limit: DEFAULT_PAGE_LIMIT,
        }
    }
}

/// A position in the listing: the last connection of a page, so the next page starts after it
/// even when connections are added or deleted in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `created_at` of the last connection listed.
    pub created_at: String,
    /// Its id (ties of `created_at` are ordered by id).
    pub id: String,
}

impl Cursor {
    /// The opaque text handed to the host (base64url of the position), so hosts cannot come to
    /// depend on its content.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{}\n{}", self.created_at, self.id))
    }

    /// Reads a cursor made by [`Cursor::encode`]; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (created_at, id) = text.split_once('\n')?;
        (!created_at.is_empty() && !id.is_empty()).then(|| Cursor {
            created_at: created_at.to_string(),
            id: id.to_string(),
        })
    }
}

/// Body of `GET /connections`: one page, and the cursor of the next (`null` on the last page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionsPage {
    /// The connections of this page, oldest first.
    pub connections: Vec<ListedConnection>,
    /// Where the next page starts; `null` when there is none.
    pub next_cursor: Option<String>,
}

/// Body of `GET /connections/{id}`: everything stored about one connection, credentials
/// decrypted (what a host needs the vault for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionDetail {
    /// Connection id.
    pub connection_id: String,
    /// Provider id.
    pub provider: String,
    /// The end user of the session that made it.
    pub end_user_id: Option<String>,
    /// The end user's label for it.
    pub label: Option<String>,
    /// The auth mode its credentials are for.
    pub auth_mode: Option<String>,
    /// The non-secret configuration.
    pub connection_config: BTreeMap<String, String>,
    /// The credentials, decrypted.
    pub credentials: BTreeMap<String, String>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Last change by a reconnect, RFC 3339 UTC.
    pub updated_at: Option<String>,
}

/// Body of [`super::Store::list_page`]: one page of the listing, filtered, after the cursor.
pub(super) fn page_in(conn: &Connection, query: &ListQuery) -> Result<ConnectionsPage, StoreError> {
    let limit = query.limit.clamp(1, MAX_PAGE_LIMIT);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LISTED_COLUMNS} FROM connections
         WHERE (?1 IS NULL OR end_user_id = ?1) AND (?2 IS NULL OR provider = ?2)
           AND (?3 IS NULL OR (created_at, id) > (?3, ?4))
         ORDER BY created_at, id LIMIT ?5"
    ))?;
    let (after_at, after_id) = match &query.after {
        Some(c) => (Some(c.created_at.as_str()), Some(c.id.as_str())),
        None => (None, None),
    };
    let mut rows = stmt.query(params![
        query.end_user_id,
        query.provider,
        after_at,
        after_id,
        limit as i64 + 1
    ])?;
    let mut connections = Vec::new();
    while let Some(r) = rows.next()? {
        connections.push(listed_from_row(r)?);
    }
    let next_cursor = if connections.len() > limit {
        connections.truncate(limit);
        connections.last().map(|c| {
            Cursor {
                created_at: c.summary.created_at.clone(),
                id: c.summary.connection_id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    Ok(ConnectionsPage {
        connections,
        next_cursor,
    })
}

/// Body of [`super::Store::connection`]: one connection with its credentials decrypted.
pub(super) fn detail_in(
    conn: &Connection,
    cipher: &Cipher,
    id: &str,
) -> Result<Option<ConnectionDetail>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT provider, end_user_id, label, auth_mode, connection_config_json,
                 credentials_enc, created_at, updated_at, key_id
             FROM connections WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Vec<u8>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .optional()?;
    let Some((
        provider,
        end_user_id,
        label,
        auth_mode,
        config,
        blob,
        created_at,
        updated_at,
        key_id,
    )) = row
    else {
        return Ok(None);
    };
    let plain = cipher.decrypt_with(key_id.as_deref(), &blob, id.as_bytes())?;
    Ok(Some(ConnectionDetail {
        connection_id: id.to_string(),
        provider,
        end_user_id,
        label,
        auth_mode,
        connection_config: serde_json::from_str(&config)?,
        credentials: serde_json::from_slice(&plain)?,
        created_at,
        updated_at,
    }))
}

/// Body of [`super::Store::delete`]: removes one connection; its listing (for the event) when it
/// existed.
pub(super) fn delete_on(
    conn: &Connection,
    id: &str,
) -> Result<Option<ListedConnection>, StoreError> {
    let Some(listed) = listed_in(conn, id)? else {
        return Ok(None);
    };
    conn.prepare_cached("DELETE FROM connections WHERE id = ?1")?
        .execute([id])?;
    Ok(Some(listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let c = Cursor {
            created_at: "2026-11-30T16:00:00.123Z".into(),
            id: "conn_0123".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
        assert!(!c.encode().contains("conn_"), "opaque");
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(""), None);
    }
}
