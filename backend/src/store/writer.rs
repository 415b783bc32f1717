//! The group-commit writer thread, the background checkpointer and the two ways the async side
//! reaches the database ([`Sqlite::read`] on the blocking pool, [`Sqlite::write`] via the writer).

use super::{Sqlite, StoreError};
use crate::crypto::Cipher;
use rusqlite::Connection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most write jobs committed in one transaction.
const MAX_BATCH: usize = 256;

/// Write jobs that may wait for the writer before senders are slowed down.
pub(super) const QUEUE: usize = 4096;

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// The checkpointer thread: copies committed WAL pages into the database file in the
/// background (a passive checkpoint never blocks the writer), so the writer, which answers
/// requests, does not stall on that I/O and its fsync. Stops when the last [`Sqlite`] handle is gone.
pub(super) fn checkpoint_loop(conn: Connection, alive: std::sync::Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "background checkpoint failed");
        }
    }
}

/// A unit of work for the writer thread: run inside the batch transaction, then told whether
/// the batch committed.
pub(super) trait WriteJob: Send {
    /// Runs the job; `false` when it failed and its savepoint must be rolled back.
    fn run(&mut self, conn: &Connection, cipher: &Cipher) -> bool;
    /// Answers the caller: the job's own result if the batch committed, else `error`.
    fn finish(self: Box<Self>, error: Option<&str>);
}

/// A [`WriteJob`] from a closure and the channel its caller waits on.
struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteJob for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection, &Cipher) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection, cipher: &Cipher) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = work(conn, cipher);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, error: Option<&str>) {
        let answer = match (error, self.result) {
            (None, Some(result)) => result,
            (Some(e), _) => Err(StoreError::BatchFailed(e.to_string())),
            (None, None) => Err(StoreError::JobDropped),
        };
        let _ = self.reply.send(answer);
    }
}

/// The writer thread: takes the first queued job and whatever else is waiting (up to
/// [`MAX_BATCH`]), runs each in a savepoint of one immediate transaction, commits, then answers.
pub(super) fn writer_loop(
    conn: Connection,
    cipher: Cipher,
    mut jobs: mpsc::Receiver<Box<dyn WriteJob>>,
) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = (|| -> Result<(), rusqlite::Error> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            for job in batch.iter_mut() {
                conn.prepare_cached("SAVEPOINT job")?.execute([])?;
                if !job.run(&conn, &cipher) {
                    conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
                }
                conn.prepare_cached("RELEASE job")?.execute([])?;
            }
            conn.execute_batch("COMMIT")
        })();
        let error = outcome.err().map(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!(error = %e, jobs = batch.len(), "write batch failed");
            e.to_string()
        });
        for job in batch {
            job.finish(error.as_deref());
        }
    }
}

impl Sqlite {
    /// Runs `f` with the read connection on the blocking pool.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Cipher) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.reader);
        let cipher = self.cipher.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard, &cipher)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` on the writer thread inside a transaction; answers after the commit.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Cipher) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work: Some(f),
            result: None,
            reply,
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::JobDropped)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_job_never_affects_the_others_in_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(&dir.path().join("db.sqlite3"), Cipher::new(&[3u8; 32])).unwrap();
        let mut jobs = tokio::task::JoinSet::new();
        for i in 0..200i64 {
            let store = store.clone();
            jobs.spawn(async move {
                let result = store
                    .write(move |conn, _| {
                        conn.execute(
                            "INSERT INTO meta (name, value) VALUES (?1, x'00')",
                            [format!("job-{i}")],
                        )?;
                        if i % 2 == 0 {
                            // Even jobs fail after writing.
                            return Err(StoreError::JobDropped);
                        }
                        Ok(i)
                    })
                    .await;
                (i, result)
            });
        }
        while let Some(joined) = jobs.join_next().await {
            let (i, result) = joined.unwrap();
            assert_eq!(result.is_ok(), i % 2 == 1, "job {i}");
        }
        let rows: i64 = store
            .read(|conn, _| {
                Ok(conn.query_row(
                    "SELECT count(*) FROM meta WHERE name LIKE 'job-%'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(
            rows, 100,
            "exactly the successful jobs' writes were committed"
        );
    }
}
