//! The PostgreSQL engine's lifecycle operations (the host's reads and deletes, the paged
//! listing, `GET /session`, the reconnect) and the webhook outbox, with the same rules as SQLite's
//! (`host.rs`, `lifecycle.rs`, `outbox.rs`). Several instances may deliver the outbox: a claim
//! takes due rows with `FOR UPDATE SKIP LOCKED` and leases them in one statement, so each event
//! goes out once per attempt.

use super::host::{ConnectionDetail, ConnectionsPage, Cursor, ListQuery, MAX_PAGE_LIMIT};
use super::lifecycle::{
    is_live, judge_update, own_connections_query, view_of, ReconnectTarget, Update, UpdateOutcome,
};
use super::outbox::{self, Attempt, Claimed, EventType};
use super::postgres::{Postgres, NOW};
use super::{ListedConnection, Refusal, StoreError};
use connect_ui_core::{ConnectionCreated, ConnectionRequest, ConnectionSummary, SessionView};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

/// The columns [`listed_from`] reads, in its order (never the credentials).
const LISTED_COLUMNS: &str = "id, provider, end_user_id, credential_keys_json,
    connection_config_json, created_at, label, auth_mode, updated_at";

/// A row of [`LISTED_COLUMNS`] as the listing shows it.
fn listed_from(r: &Row) -> Result<ListedConnection, StoreError> {
    Ok(ListedConnection {
        summary: ConnectionSummary {
            connection_id: r.get(0),
            provider: r.get(1),
            credential_keys: serde_json::from_str(r.get(3))?,
            connection_config: serde_json::from_str(r.get(4))?,
            created_at: r.get(5),
            label: r.get(6),
            auth_mode: r.get(7),
            updated_at: r.get(8),
        },
        end_user_id: r.get(2),
    })
}

impl Postgres {
    /// The listing of one connection (no credential value), if it exists.
    async fn listed(
        client: &impl GenericClient,
        id: &str,
    ) -> Result<Option<ListedConnection>, StoreError> {
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {LISTED_COLUMNS} FROM connections WHERE id = $1"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| listed_from(&r))
            .transpose()
    }

    /// Writes the event of a change to `listed` to the outbox (inside the change's
    /// transaction).
    async fn enqueue(
        client: &impl GenericClient,
        kind: EventType,
        listed: &ListedConnection,
    ) -> Result<(), StoreError> {
        let now = super::now_ms();
        let (id, body) = outbox::event_body(kind, listed, now)?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO outbox (id, type, body, created_at, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .await?;
        client
            .execute(&stmt, &[&id, &kind.as_str(), &body, &now])
            .await?;
        Ok(())
    }

    /// [`Postgres::enqueue`] for connection `id` as it now is.
    pub(super) async fn enqueue_for(
        client: &impl GenericClient,
        kind: EventType,
        id: &str,
    ) -> Result<(), StoreError> {
        if let Some(listed) = Self::listed(client, id).await? {
            Self::enqueue(client, kind, &listed).await?;
        }
        Ok(())
    }

    /// A connection's listing (no credential value).
    pub(super) async fn connection_summary(
        &self,
        id: &str,
    ) -> Result<Option<ListedConnection>, StoreError> {
        let client = self.client().await?;
        Self::listed(&client, id).await
    }

    /// One page of the listing, filtered, after the cursor, in `(created_at, id)` order (byte
    /// order: the columns are `COLLATE "C"`, as SQLite compares).
    async fn page(
        client: &impl GenericClient,
        query: &ListQuery,
    ) -> Result<ConnectionsPage, StoreError> {
        let limit = query.limit.clamp(1, MAX_PAGE_LIMIT);
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {LISTED_COLUMNS} FROM connections
                 WHERE ($1::text IS NULL OR end_user_id = $1)
                   AND ($2::text IS NULL OR provider = $2)
                   AND ($3::text IS NULL OR (created_at, id) > ($3::text, $4::text))
                 ORDER BY created_at, id LIMIT $5"
            ))
            .await?;
        let (after_at, after_id) = match &query.after {
            Some(c) => (Some(c.created_at.as_str()), Some(c.id.as_str())),
            None => (None, None),
        };
        let rows = client
            .query(
                &stmt,
                &[
                    &query.end_user_id,
                    &query.provider,
                    &after_at,
                    &after_id,
                    &(limit as i64 + 1),
                ],
            )
            .await?;
        let mut connections = rows
            .iter()
            .map(listed_from)
            .collect::<Result<Vec<_>, _>>()?;
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

    /// One page of the listing (the host's `GET /connections`).
    pub(super) async fn list_page(&self, query: &ListQuery) -> Result<ConnectionsPage, StoreError> {
        let client = self.client().await?;
        Self::page(&client, query).await
    }

    /// One connection with its credentials decrypted.
    async fn detail(
        &self,
        client: &impl GenericClient,
        id: &str,
    ) -> Result<Option<ConnectionDetail>, StoreError> {
        let stmt = client
            .prepare_cached(
                "SELECT provider, end_user_id, label, auth_mode, connection_config_json,
                     credentials_enc, created_at, updated_at, key_id
                 FROM connections WHERE id = $1",
            )
            .await?;
        let Some(r) = client.query_opt(&stmt, &[&id]).await? else {
            return Ok(None);
        };
        let plain = self
            .cipher
            .decrypt_with(r.get(8), r.get(5), id.as_bytes())?;
        Ok(Some(ConnectionDetail {
            connection_id: id.to_string(),
            provider: r.get(0),
            end_user_id: r.get(1),
            label: r.get(2),
            auth_mode: r.get(3),
            connection_config: serde_json::from_str(r.get(4))?,
            credentials: serde_json::from_slice(&plain)?,
            created_at: r.get(6),
            updated_at: r.get(7),
        }))
    }

    /// One connection with its credentials decrypted (the host's `GET /connections/{id}`).
    pub(super) async fn connection(
        &self,
        id: &str,
    ) -> Result<Option<ConnectionDetail>, StoreError> {
        let client = self.client().await?;
        self.detail(&client, id).await
    }

    /// Deletes a connection; its listing when it existed. With `events`, `connection.deleted`
    /// goes to the outbox in the same transaction.
    pub(super) async fn delete(
        &self,
        id: &str,
        events: bool,
    ) -> Result<Option<ListedConnection>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "DELETE FROM connections WHERE id = $1 RETURNING {LISTED_COLUMNS}"
            ))
            .await?;
        let deleted = tx
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| listed_from(&r))
            .transpose()?;
        if let (true, Some(listed)) = (events, &deleted) {
            Self::enqueue(&tx, EventType::Deleted, listed).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// What the widget may know of a live session; `None` when unknown, expired or spent.
    pub(super) async fn session_view(
        &self,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<SessionView>, StoreError> {
        let client = self.client().await?;
        let (session, _) = Self::session_and_record(&client, token_hash, None, false).await?;
        let Some(session) = session.filter(|s| is_live(s, now)) else {
            return Ok(None);
        };
        let connection = match &session.connection_id {
            Some(id) => Self::listed(&client, id).await?.map(|l| l.summary),
            None => None,
        };
        let connections = match own_connections_query(&session) {
            Some(query) => Self::page(&client, &query)
                .await?
                .connections
                .into_iter()
                .map(|l| l.summary)
                .collect(),
            None => Vec::new(),
        };
        Ok(Some(view_of(&session, connection, connections)?))
    }

    /// The checks of a reconnect and the stored connection it starts from (decrypted).
    pub(super) async fn reconnect_target(
        &self,
        update: &Update,
    ) -> Result<Result<ReconnectTarget, UpdateOutcome>, StoreError> {
        let client = self.client().await?;
        let (session, recorded) = Self::session_and_record(
            &client,
            &update.token_hash,
            update.idempotency.as_ref(),
            false,
        )
        .await?;
        let session = match judge_update(session, recorded, update) {
            Ok(s) => s,
            Err(outcome) => return Ok(Err(outcome)),
        };
        let Some(detail) = self.detail(&client, &update.connection_id).await? else {
            return Ok(Err(UpdateOutcome::UnknownConnection));
        };
        Ok(Ok(ReconnectTarget {
            stored: ConnectionRequest {
                provider: detail.provider,
                credentials: detail.credentials,
                connection_config: detail.connection_config,
                auth_mode: detail.auth_mode,
                label: detail.label,
            },
            label_policy: session.label_policy,
        }))
    }

    /// Stores a reconnect's merged request (re-encrypted), sets `updated_at` and spends the
    /// session, in one transaction holding the session's row lock (so a session changes its
    /// connection once, whichever instance its requests reach). With `events`,
    /// `connection.updated` goes to the outbox in that transaction.
    pub(super) async fn update(
        &self,
        update: &Update,
        events: bool,
    ) -> Result<UpdateOutcome, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let (session, recorded) =
            Self::session_and_record(&tx, &update.token_hash, update.idempotency.as_ref(), true)
                .await?;
        if let Err(outcome) = judge_update(session, recorded, update) {
            tx.rollback().await?;
            return Ok(outcome);
        }
        let request = &update.request;
        let keys: Vec<&String> = request.credentials.keys().collect();
        let plaintext = serde_json::to_vec(&request.credentials)?;
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE connections SET credential_keys_json = $2, credentials_enc = $3,
                     connection_config_json = $4, label = $5, auth_mode = $6,
                     key_id = $7, updated_at = {NOW}
                 WHERE id = $1"
            ))
            .await?;
        let changed = tx
            .execute(
                &stmt,
                &[
                    &update.connection_id,
                    &serde_json::to_string(&keys)?,
                    &self
                        .cipher
                        .encrypt(&plaintext, update.connection_id.as_bytes()),
                    &serde_json::to_string(&request.connection_config)?,
                    &request.label,
                    &request.auth_mode,
                    &self.cipher.key_id(),
                ],
            )
            .await?;
        if changed == 0 {
            tx.rollback().await?;
            return Ok(UpdateOutcome::UnknownConnection);
        }
        let spend = tx
            .prepare_cached(
                "UPDATE sessions SET spent_at = $2 WHERE token_hash = $1 AND spent_at IS NULL",
            )
            .await?;
        if tx
            .execute(&spend, &[&&update.token_hash[..], &update.now])
            .await?
            != 1
        {
            tx.rollback().await?;
            return Ok(UpdateOutcome::Refused(Refusal::Spent));
        }
        let updated = ConnectionCreated {
            connection_id: update.connection_id.clone(),
            provider: request.provider.clone(),
            label: request.label.clone(),
        };
        if let Some(idem) = &update.idempotency {
            let body = serde_json::to_string(&updated)?;
            Self::record_answer(&tx, &update.token_hash, idem, 200, &body).await?;
        }
        if events {
            Self::enqueue_for(&tx, EventType::Updated, &update.connection_id).await?;
        }
        tx.commit().await?;
        Ok(UpdateOutcome::Updated(updated))
    }

    /// Whether any outbox event is due at `now_ms`.
    pub(super) async fn events_due(&self, now_ms: i64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending'
                     AND next_attempt_at <= $1 AND lease_until <= $1)",
            )
            .await?;
        Ok(client.query_one(&stmt, &[&now_ms]).await?.get(0))
    }

    /// Claims up to `max` due events for `lease_ms`: rows another instance is claiming right now
    /// are skipped (`SKIP LOCKED`), and the lease keeps them from everyone until it ends.
    pub(super) async fn claim_events(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE outbox SET lease_until = $1 + $3
                 WHERE id IN (
                     SELECT id FROM outbox
                     WHERE status = 'pending' AND next_attempt_at <= $1 AND lease_until <= $1
                     ORDER BY next_attempt_at, id LIMIT $2
                     FOR UPDATE SKIP LOCKED)
                 RETURNING id, body, attempts, created_at, next_attempt_at",
            )
            .await?;
        let mut rows = client
            .query(&stmt, &[&now_ms, &(max as i64), &lease_ms])
            .await?;
        rows.sort_by(|a, b| {
            (a.get::<_, i64>(4), a.get::<_, &str>(0))
                .cmp(&(b.get::<_, i64>(4), b.get::<_, &str>(0)))
        });
        Ok(rows
            .iter()
            .map(|r| Claimed {
                id: r.get(0),
                body: r.get(1),
                attempts: r.get(2),
                created_at_ms: r.get(3),
            })
            .collect())
    }

    /// Records how an attempt to deliver event `id` ended.
    pub(super) async fn record_attempt(
        &self,
        id: &str,
        attempt: &Attempt,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        match attempt {
            Attempt::Delivered => {
                client
                    .execute(
                        "UPDATE outbox SET status = 'delivered', attempts = attempts + 1,
                             delivered_at = $2, lease_until = 0, last_error = NULL
                         WHERE id = $1",
                        &[&id, &now_ms],
                    )
                    .await?
            }
            Attempt::Retry { next_at_ms, error } => {
                client
                    .execute(
                        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2,
                             lease_until = 0, last_error = $3 WHERE id = $1",
                        &[&id, next_at_ms, error],
                    )
                    .await?
            }
            Attempt::Failed { error } => {
                client
                    .execute(
                        "UPDATE outbox SET status = 'failed', attempts = attempts + 1,
                             lease_until = 0, last_error = $2 WHERE id = $1",
                        &[&id, error],
                    )
                    .await?
            }
        };
        Ok(())
    }
}
