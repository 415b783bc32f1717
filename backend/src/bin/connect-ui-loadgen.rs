//! Load generator for the reference backend, bounded in count and time: creates one connect
//! session per request via `POST /sessions`, then sends `POST /connections` (each with its own
//! session and `Idempotency-Key`) with a fixed concurrency, and reports throughput, latency
//! percentiles, status counts and whether the rows stored equal the 201s.
//!
//! Run it against a backend with verification and rate limits off (see backend/README.md).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Usage text.
const USAGE: &str = "\
connect-ui-loadgen: bounded load test of POST /connections

Usage: connect-ui-loadgen --host-api-key KEY [OPTIONS]

  --url URL             backend base URL, loopback only       [default http://127.0.0.1:3000]
  --host-api-key KEY    the backend's host API key            [or CONNECT_UI_HOST_API_KEY]
  --requests N          connections to submit (and sessions to create)  [default 20000]
  --concurrency C       requests in flight at once            [default 32]
  --max-seconds S       stop each phase after S seconds       [default 60]
  --provider ID         workos (default), torii, ordinal or kandji
  --threads T           client runtime threads                [default 1]
  --server-pid PID      also report the server's CPU time per request (Linux /proc)
";

/// Largest accepted `--requests`, so a typo cannot start an endless run.
const MAX_REQUESTS: usize = 1_000_000;
/// Largest accepted `--concurrency`.
const MAX_CONCURRENCY: usize = 1024;
/// Largest accepted `--max-seconds`.
const MAX_SECONDS: u64 = 600;

/// The run's parameters.
#[derive(Debug, Clone)]
struct Options {
    url: String,
    host_api_key: String,
    requests: usize,
    concurrency: usize,
    max_seconds: u64,
    provider: String,
    threads: usize,
    server_pid: Option<u32>,
}

/// Parses the command line (`--flag value` or `--flag=value`).
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        url: "http://127.0.0.1:3000".into(),
        host_api_key: std::env::var("CONNECT_UI_HOST_API_KEY").unwrap_or_default(),
        requests: 20_000,
        concurrency: 32,
        max_seconds: 60,
        provider: "workos".into(),
        threads: 1,
        server_pid: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |max: u64| {
            value
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| format!("{flag} must be a number from 1 to {max}"))
        };
        match flag.as_str() {
            "--url" => o.url = value.trim_end_matches('/').to_string(),
            "--host-api-key" => o.host_api_key = value,
            "--requests" => o.requests = number(MAX_REQUESTS as u64)? as usize,
            "--concurrency" => o.concurrency = number(MAX_CONCURRENCY as u64)? as usize,
            "--max-seconds" => o.max_seconds = number(MAX_SECONDS)?,
            "--provider" => o.provider = value,
            "--threads" => o.threads = number(16)? as usize,
            "--server-pid" => o.server_pid = Some(number(u32::MAX as u64)? as u32),
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }
    let host = o
        .url
        .strip_prefix("http://")
        .ok_or("--url must be http://127.0.0.1:PORT (loopback only)")?;
    let host = host.split('/').next().unwrap_or(host);
    if !(host.starts_with("127.") || host.starts_with("localhost:") || host.starts_with("[::1]")) {
        return Err("--url must point at loopback (127.0.0.1, localhost or [::1])".into());
    }
    if o.host_api_key.is_empty() {
        return Err("--host-api-key (or CONNECT_UI_HOST_API_KEY) is required".into());
    }
    if body(&o.provider, 0).is_none() {
        return Err(format!("unsupported --provider {:?}", o.provider));
    }
    Ok(Some(o))
}

/// A valid connection request number `i` for `provider`, distinct per request.
fn body(provider: &str, i: usize) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match provider {
        "workos" => {
            json!({"provider":"workos","credentials":{"apiKey":format!("sk_test_load_{i}")}})
        }
        "torii" => json!({"provider":"torii","credentials":{"apiKey":format!("torii-load-{i}")}}),
        "ordinal" => json!({"provider":"ordinal","credentials":{"apiKey":format!("ord_load_{i}")}}),
        "kandji" => json!({"provider":"kandji",
            "credentials":{"apiKey":format!("00000000-0000-4000-8000-{i:012}")},
            "connection_config":{"subdomain":"load.api"}}),
        _ => return None,
    })
}

/// What one phase measured.
#[derive(Debug, Default)]
struct Phase {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<String, usize>,
    elapsed: Duration,
    tokens: Vec<(usize, String)>,
}

impl Phase {
    /// Adds another worker's measurements.
    fn merge(&mut self, other: Phase) {
        self.latencies_us.extend(other.latencies_us);
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.tokens.extend(other.tokens);
    }

    /// Number of answers with this status.
    fn count(&self, status: &str) -> usize {
        self.statuses.get(status).copied().unwrap_or(0)
    }

    /// Prints throughput, latency percentiles and status counts.
    fn report(&mut self, name: &str) {
        self.latencies_us.sort_unstable();
        let n = self.latencies_us.len();
        let pct = |q: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            self.latencies_us[i] as f64 / 1000.0
        };
        let secs = self.elapsed.as_secs_f64();
        println!(
            "{name}: {n} requests in {secs:.2} s = {:.0} req/s; latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
            n as f64 / secs.max(1e-9),
            pct(0.50),
            pct(0.90),
            pct(0.99),
            pct(1.0),
        );
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        println!("{name}: statuses {}", statuses.join(", "));
    }
}

/// Runs `op(i)` for `i` in `0..n` with `concurrency` workers until done or `deadline`.
async fn run_phase<F, Fut>(n: usize, concurrency: usize, deadline: Instant, op: F) -> Phase
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = (String, Option<String>)> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(n) {
        let (next, op) = (next.clone(), op.clone());
        workers.spawn(async move {
            let mut phase = Phase::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let (status, token) = op(i).await;
                phase.latencies_us.push(t.elapsed().as_micros() as u64);
                *phase.statuses.entry(status).or_default() += 1;
                if let Some(token) = token {
                    phase.tokens.push((i, token));
                }
            }
            phase
        });
    }
    let mut total = Phase::default();
    while let Some(p) = workers.join_next().await {
        total.merge(p.expect("worker panicked"));
    }
    total.elapsed = start.elapsed();
    total
}

/// CPU time (user + system) used so far by process `pid`, from `/proc/PID/stat`.
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time of the server (if its pid is known) and of this load generator.
fn cpu_times(server: Option<u32>) -> (Option<Duration>, Option<Duration>) {
    (cpu_time(server), cpu_time(Some(std::process::id())))
}

/// Prints the CPU time the server and this client used since `before`, per request.
fn report_cpu(
    name: &str,
    server: Option<u32>,
    before: (Option<Duration>, Option<Duration>),
    requests: usize,
) {
    let after = cpu_times(server);
    let per = |b: Option<Duration>, a: Option<Duration>| {
        let used = a?.saturating_sub(b?).as_secs_f64();
        Some(format!(
            "{used:.2} s = {:.3} ms/request",
            used * 1000.0 / requests.max(1) as f64
        ))
    };
    let server = per(before.0, after.0).unwrap_or_else(|| "not measured".into());
    let client = per(before.1, after.1).unwrap_or_else(|| "not measured".into());
    println!("{name}: CPU time: server {server}; load generator {client}");
}

/// Status text of a response or of a transport error.
fn status_of(result: &Result<reqwest::Response, reqwest::Error>) -> String {
    match result {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timeout".into(),
        Err(_) => "error".into(),
    }
}

/// Number of rows `GET /connections` lists, following its pages (`{connections, next_cursor}`).
async fn row_count(client: &reqwest::Client, o: &Options) -> Result<usize, String> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/connections?limit=200", o.url);
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(c);
        }
        let res = client
            .get(url)
            .bearer_auth(&o.host_api_key)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| format!("GET /connections failed: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("GET /connections answered {}", res.status()));
        }
        let page: serde_json::Value = serde_json::from_slice(
            &res.bytes()
                .await
                .map_err(|e| format!("GET /connections body: {e}"))?,
        )
        .map_err(|e| format!("GET /connections is not JSON: {e}"))?;
        count += page["connections"]
            .as_array()
            .ok_or("GET /connections has no connections list")?
            .len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(count),
        }
    }
}

/// The whole run; returns whether rows matched 201s.
async fn run(o: Options) -> Result<bool, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(o.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let before = row_count(&client, &o).await?;
    println!(
        "target {} · {} requests · concurrency {} · max {} s per phase · provider {} · rows before: {before}",
        o.url, o.requests, o.concurrency, o.max_seconds, o.provider
    );

    let deadline = Instant::now() + Duration::from_secs(o.max_seconds);
    let cpu_before = cpu_times(o.server_pid);
    let (c, url, key) = (client.clone(), o.url.clone(), o.host_api_key.clone());
    let mut sessions = run_phase(o.requests, o.concurrency, deadline, move |i| {
        let (c, url, key) = (c.clone(), url.clone(), key.clone());
        async move {
            let result = c
                .post(format!("{url}/sessions"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(format!(r#"{{"end_user_id":"load-{i}"}}"#))
                .send()
                .await;
            let status = status_of(&result);
            let token = match result {
                Ok(r) if r.status().as_u16() == 201 => r
                    .bytes()
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .and_then(|v| v["token"].as_str().map(str::to_string)),
                _ => None,
            };
            (status, token)
        }
    })
    .await;
    sessions.report("POST /sessions");
    report_cpu(
        "POST /sessions",
        o.server_pid,
        cpu_before,
        sessions.latencies_us.len(),
    );
    let mut tokens = std::mem::take(&mut sessions.tokens);
    tokens.sort_unstable();
    let tokens: Arc<Vec<String>> = Arc::new(tokens.into_iter().map(|(_, t)| t).collect());
    if tokens.is_empty() {
        return Err("no session could be created; check the host API key".into());
    }

    let deadline = Instant::now() + Duration::from_secs(o.max_seconds);
    let cpu_before = cpu_times(o.server_pid);
    let run_id = std::process::id();
    let (c, url, provider) = (client.clone(), o.url.clone(), o.provider.clone());
    let bodies: Arc<Vec<String>> = Arc::new(
        (0..tokens.len())
            .map(|i| body(&provider, i).expect("checked provider").to_string())
            .collect(),
    );
    let mut connections = run_phase(tokens.len(), o.concurrency, deadline, move |i| {
        let (c, url, tokens, bodies) = (c.clone(), url.clone(), tokens.clone(), bodies.clone());
        async move {
            let result = c
                .post(format!("{url}/connections"))
                .bearer_auth(&tokens[i])
                .header("content-type", "application/json")
                .header("idempotency-key", format!("load-{run_id}-{i}"))
                .body(bodies[i].clone())
                .send()
                .await;
            let status = status_of(&result);
            if let Ok(r) = result {
                let _ = r.bytes().await;
            }
            (status, None)
        }
    })
    .await;
    connections.report("POST /connections");
    report_cpu(
        "POST /connections",
        o.server_pid,
        cpu_before,
        connections.latencies_us.len(),
    );

    let after = row_count(&client, &o).await?;
    let created = connections.count("201");
    let added = after.saturating_sub(before);
    let ok = added == created;
    println!(
        "rows added (GET /connections): {added}; 201 answers: {created}; {}",
        if ok { "equal" } else { "MISMATCH" }
    );
    Ok(ok)
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match options.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    }
    .expect("tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
