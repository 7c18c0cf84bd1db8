//! `outpost-load attachments`: the attachment benchmarks of issue 16, on loopback only.
//!
//! A real `outpost-server` runs as a separate process (so its resident memory can be read from
//! `/proc/<pid>/status`), on a database made in a temporary directory (SQLite and the
//! filesystem blob store beside it), or on the PostgreSQL database given (its blob store is
//! then the database, the server's default).
//!
//! 1. Memory: the server's idle RSS, then `clients` agents each upload a different file of
//!    `memory_kib` at the same moment (create + 1 MiB `PUT`s, as the client does); RSS is
//!    sampled every 20 ms and the kernel's high-water mark (`VmHWM`, reset before the phase)
//!    read at the end. Run first, on the fresh server, so "idle" is not inflated by earlier
//!    phases.
//! 2. Throughput, for each size: the baseline is a plain file copy of the same bytes in the
//!    same temporary directory (`std::fs::copy`, then `fsync` of the copy); then an upload of
//!    a file with other bytes (create + 1 MiB chunked `PUT`s) and the streamed download of it
//!    (`GET`, read to the end, checked against its SHA-256 after the clock stops). Each is
//!    repeated; the median is reported.
//!
//! The files are PDFs (`%PDF-1.7` and a pseudo-random payload): random bytes alone would be
//! refused by the server's type check, and a pseudo-random payload does not compress.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt;
use outpost_core::model::{Category, Channel, CustomerTier, Priority, Requester, RiskLevel, Role};
use outpost_core::sync::{Mutation, MutationEnvelope, NewTicket, PushRequest, PushResponse};
use outpost_server::db::Db;
use sha2::Digest as _;
use uuid::Uuid;

/// The chunk the desktop client sends per `PUT`.
const CHUNK: usize = 1024 * 1024;
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
const MIB: f64 = 1024.0 * 1024.0;

#[derive(clap::Args, Debug)]
pub struct AttachmentArgs {
    /// postgres://… to measure PostgreSQL (blobs in the database); a temporary SQLite file
    /// with the filesystem blob store when omitted.
    #[arg(long)]
    database_url: Option<String>,
    /// The outpost-server binary; default: beside this executable (same target directory).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// File sizes for the throughput phase, in KiB.
    #[arg(long, value_delimiter = ',', default_values_t = [5 * 1024, 25 * 1024])]
    sizes_kib: Vec<u64>,
    /// Repetitions of each throughput measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    repetitions: usize,
    /// Concurrent uploaders in the memory phase.
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// File size each uploader sends in the memory phase, in KiB.
    #[arg(long, default_value_t = 25 * 1024)]
    memory_kib: u64,
}

/// A pseudo-random PDF: the same `seed` and `size` always give the same bytes, produced a
/// piece at a time so twenty 25 MiB files never sit in this process's memory at once.
#[derive(Clone, Copy)]
struct Payload {
    seed: u64,
    size: u64,
}

const PDF_HEAD: &[u8] = b"%PDF-1.7\n";

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Payload {
    /// Bytes `[offset, offset + len)` (clamped to the size).
    fn piece(&self, offset: u64, len: usize) -> Vec<u8> {
        let end = (offset + len as u64).min(self.size);
        let mut out = Vec::with_capacity((end - offset) as usize);
        let mut pos = offset;
        while pos < end {
            let word = splitmix(self.seed.wrapping_mul(0x1000_0000_01B3) ^ (pos / 8)).to_le_bytes();
            let stop = (pos - pos % 8 + 8).min(end);
            out.extend_from_slice(&word[(pos % 8) as usize..(pos % 8 + stop - pos) as usize]);
            pos = stop;
        }
        if let Some(head) = PDF_HEAD.get(offset as usize..) {
            let n = head.len().min(out.len());
            out[..n].copy_from_slice(&head[..n]);
        }
        out
    }

    fn sha256(&self) -> String {
        let mut hasher = sha2::Sha256::new();
        let mut offset = 0;
        while offset < self.size {
            let piece = self.piece(offset, CHUNK);
            offset += piece.len() as u64;
            hasher.update(&piece);
        }
        hex::encode(hasher.finalize())
    }
}

/// The server process: killed and reaped when dropped.
struct Server {
    child: Child,
    base: String,
    stderr: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// Samples the RSS of `pid` every 20 ms until stopped; returns (samples, peak) in KiB.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(usize, u64)>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut count, mut peak) = (0, 0);
            while !flag.load(Ordering::Relaxed) {
                if let Ok(kib) = status_kib(pid, "VmRSS") {
                    count += 1;
                    peak = peak.max(kib);
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            (count, peak)
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> (usize, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0))
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn server_bin(args: &AttachmentArgs) -> anyhow::Result<PathBuf> {
    let path = if let Some(path) = &args.server_bin {
        path.clone()
    } else {
        // `<target>/<profile>/outpost-load`, or `<target>/<profile>/deps/<test>` in tests.
        let exe = std::env::current_exe()?;
        let mut dir = exe.parent().context("no directory")?.to_owned();
        if dir.ends_with("deps") {
            dir.pop();
        }
        dir.join(format!("outpost-server{}", std::env::consts::EXE_SUFFIX))
    };
    anyhow::ensure!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p outpost-server` with the same profile), \
         or pass --server-bin",
        path.display()
    );
    Ok(path)
}

/// Makes the organisation and `agents` agents in the database, in this process.
async fn prepare(url: &str, agents: usize, password: &str) -> anyhow::Result<String> {
    let db = Db::connect(url).await?;
    let key = outpost_server::secrets::MasterKey::generate()?;
    outpost_server::admin::init(&db, &key, "Bench", "admin@bench.example", "Admin").await?;
    let hash = outpost_server::auth::hash_password(password)?;
    let departments = vec!["support".to_owned()];
    let mut tx = db.begin_write().await?;
    for i in 0..agents {
        let email = format!("agent{i}@bench.example");
        outpost_server::users::create(
            &mut tx,
            outpost_server::users::NewUser {
                email: &email,
                name: &email,
                role: Role::Agent,
                departments: &departments,
                skills: &[],
                password_hash: &hash,
            },
        )
        .await?;
    }
    tx.commit().await?;
    db.pool.close().await;
    Ok(key.to_base64().to_string())
}

async fn start_server(
    bin: &Path,
    url: &str,
    key: &str,
    dir: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<Server> {
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        "sla_monitor_interval_secs = 3600\nlogin_attempts_per_minute = 1000000\n",
    )?;
    let port = free_port()?;
    let stderr = dir.join("server.err");
    let child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .arg("--database-url")
        .arg(url)
        .arg("serve")
        .env("OUTPOST_MASTER_KEY", key)
        .env("OUTPOST_BIND", format!("127.0.0.1:{port}"))
        .env("OUTPOST_LOG", "warn")
        .env_remove("OUTPOST_DATABASE_URL")
        .env_remove("CREDENTIALS_DIRECTORY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr)?)
        .spawn()
        .with_context(|| format!("start {}", bin.display()))?;
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        stderr,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.child.try_wait()? {
            anyhow::bail!(
                "outpost-server exited ({status}):\n{}",
                server.stderr_tail()
            );
        }
        let health = http.get(format!("{}/health", server.base)).send().await;
        if health.is_ok_and(|r| r.status().is_success()) {
            return Ok(server);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "outpost-server not ready within 60 s:\n{}",
            server.stderr_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    i: usize,
    password: &str,
) -> anyhow::Result<String> {
    let session: serde_json::Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&serde_json::json!({ "email": format!("agent{i}@bench.example"), "password": password }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    session["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}

async fn push(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    device: Uuid,
    mutation_id: u64,
    mutation: Mutation,
) -> anyhow::Result<()> {
    let request = PushRequest {
        device_id: device,
        mutations: vec![MutationEnvelope {
            mutation_id,
            client_time: crate::now(),
            base_revision: None,
            mutation,
        }],
    };
    let response: PushResponse = http
        .post(format!("{base}/v1/sync/push"))
        .bearer_auth(token)
        .json(&request)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    anyhow::ensure!(
        response.results.iter().all(|r| matches!(
            r.outcome,
            outpost_core::sync::MutationOutcome::Applied { .. }
        )),
        "push refused: {response:?}"
    );
    Ok(())
}

async fn create_ticket(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    device: Uuid,
) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    let ticket = NewTicket {
        id,
        subject: "Attachment benchmark".into(),
        description: "generated by outpost-load attachments".into(),
        requester: Requester {
            name: "Bench".into(),
            contact: "bench@example.com".into(),
            account_id: None,
            tier: CustomerTier::Standard,
        },
        channel: Channel::Api,
        language: "en".into(),
        category: Category::LOGIN_ANOMALY,
        priority: Priority::P3,
        risk: RiskLevel::None,
        department: Some("support".into()),
        tags: Default::default(),
    };
    push(http, base, token, device, 1, Mutation::CreateTicket(ticket)).await?;
    Ok(id)
}

/// One signed-in agent and the ticket its files are attached to.
#[derive(Clone)]
struct Agent {
    http: reqwest::Client,
    base: String,
    token: String,
    ticket: Uuid,
}

/// How long an upload's requests took.
struct UploadTimes {
    create: Duration,
    /// Every `PUT` but the last.
    puts: Vec<Duration>,
    /// The last `PUT`: its bytes, then the server's check of the whole file and the commit.
    last: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Uploads `payload` as the client does: create, then 1 MiB `PUT`s from the server's offset.
/// `bytes` holds the whole file when the caller has it in memory; otherwise each chunk is
/// produced from the payload just before it is sent.
async fn upload(
    agent: &Agent,
    filename: &str,
    payload: Payload,
    sha256: &str,
    bytes: Option<&[u8]>,
) -> anyhow::Result<UploadTimes> {
    let Agent {
        http,
        base,
        token,
        ticket,
    } = agent;
    let start = Instant::now();
    let created: serde_json::Value = http
        .post(format!("{base}/v1/tickets/{ticket}/uploads"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "filename": filename, "size": payload.size, "sha256": sha256 }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["upload_id"].as_str().context("no upload_id")?;
    let mut times = UploadTimes {
        create: start.elapsed(),
        puts: Vec::new(),
        last: Duration::ZERO,
    };
    let mut offset = 0u64;
    loop {
        let chunk = match bytes {
            Some(all) => {
                let end = (offset as usize + CHUNK).min(all.len());
                all[offset as usize..end].to_vec()
            }
            None => payload.piece(offset, CHUNK),
        };
        let start = Instant::now();
        let response = http
            .put(format!("{base}/v1/uploads/{id}?offset={offset}"))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(chunk)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "PUT at {offset}: {status} {body}");
        offset = body["offset"].as_u64().context("no offset")?;
        if body["complete"].as_bool() == Some(true) {
            anyhow::ensure!(offset == payload.size, "complete at {offset}: {body}");
            times.last = start.elapsed();
            return Ok(times);
        }
        times.puts.push(start.elapsed());
        anyhow::ensure!(offset < payload.size, "not complete at the end: {body}");
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

fn mib_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / MIB / seconds
}

fn size_label(kib: u64) -> String {
    if kib.is_multiple_of(1024) {
        format!("{} MiB", kib / 1024)
    } else {
        format!("{kib} KiB")
    }
}

impl Report {
    /// The targets: each throughput at least half the file copy's, and the server's
    /// peak no more than 64 MiB above idle.
    pub fn verdict(&self) -> String {
        let mut lines = Vec::new();
        let above = self.peak_rss_kib.saturating_sub(self.idle_rss_kib) as f64 / 1024.0;
        lines.push(format!(
            "memory, {} uploads at once: {above:.1} MiB above idle (target ≤ 64 MiB): {}",
            self.uploads_completed,
            if above <= 64.0 { "met" } else { "NOT met" }
        ));
        for &(size, copy, up, down) in &self.throughput {
            for (what, rate) in [("upload", up), ("download", down)] {
                let ratio = rate / copy * 100.0;
                lines.push(format!(
                    "{what} of {}: {ratio:.0} % of the file copy (target ≥ 50 %): {}",
                    size_label(size / 1024),
                    if ratio >= 50.0 { "met" } else { "NOT met" }
                ));
            }
        }
        lines.join("\n")
    }
}

/// What one run measured (also what the test checks).
#[derive(Debug)]
pub struct Report {
    pub idle_rss_kib: u64,
    pub peak_rss_kib: u64,
    pub uploads_completed: usize,
    /// (size in bytes, copy MiB/s, upload MiB/s, download MiB/s), medians.
    pub throughput: Vec<(u64, f64, f64, f64)>,
}

pub async fn run(args: AttachmentArgs) -> anyhow::Result<Report> {
    let bin = server_bin(&args)?;
    let dir = tempfile::tempdir()?;
    let (url, backend) = match &args.database_url {
        Some(url) => (url.clone(), "PostgreSQL, blobs in the database"),
        None => (
            format!("sqlite://{}", dir.path().join("outpost.db").display()),
            "SQLite, filesystem blob store",
        ),
    };
    let password = "bench-password";
    let agents = args.clients.max(1);
    let key = prepare(&url, agents, password).await?;
    // Installing twice (tests, or several runs in one process) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(agents * 2)
        .build()?;
    let mut server = start_server(&bin, &url, &key, dir.path(), &http).await?;
    let base = server.base.clone();
    // The first agent's one device: its pushes are numbered 1, 2, … in order.
    let device = Uuid::now_v7();
    let mut tokens = Vec::new();
    for i in 0..agents {
        tokens.push(login(&http, &base, i, password).await?);
    }
    let ticket = create_ticket(&http, &base, &tokens[0], device).await?;
    println!(
        "# outpost-load attachments: {backend}; server pid {} on {base}\n",
        server.pid()
    );

    // 1. Memory: the server settles, idle RSS is read, then every client uploads at once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(status_kib(server.pid(), "VmRSS")? as f64);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle_kib = median(&mut idle) as u64;
    // Resets the kernel's peak-RSS mark (VmHWM) to the current RSS.
    let hwm_reset = std::fs::write(format!("/proc/{}/clear_refs", server.pid()), "5").is_ok();
    let memory_size = args.memory_kib * 1024;
    let payloads: Vec<(Payload, String)> = (0..args.clients)
        .map(|i| {
            let payload = Payload {
                seed: 1000 + i as u64,
                size: memory_size,
            };
            let sha = payload.sha256();
            (payload, sha)
        })
        .collect();
    let sampler = Sampler::start(server.pid());
    let started = Instant::now();
    let tasks: Vec<_> = payloads
        .into_iter()
        .zip(tokens.iter().cloned())
        .enumerate()
        .map(|(i, ((payload, sha), token))| {
            let agent = Agent {
                http: http.clone(),
                base: base.clone(),
                token,
                ticket,
            };
            tokio::spawn(async move {
                let name = format!("memory-{i}.pdf");
                upload(&agent, &name, payload, &sha, None).await
            })
        })
        .collect();
    let mut completed = 0;
    for task in tasks {
        task.await??;
        completed += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (samples, sampled_peak) = sampler.finish();
    let hwm_kib = status_kib(server.pid(), "VmHWM")?;
    let peak_kib = sampled_peak.max(if hwm_reset { hwm_kib } else { 0 });
    let after_kib = status_kib(server.pid(), "VmRSS")?;
    println!(
        "## Server memory: {completed} clients upload {} at once\n",
        size_label(args.memory_kib)
    );
    println!("| idle RSS | peak RSS (sampled every 20 ms, {samples} samples) | peak (kernel VmHWM{}) | peak − idle | RSS after | all {completed} uploads took |", if hwm_reset { ", reset before" } else { ", not resettable: since start" });
    println!("| --- | --- | --- | --- | --- | --- |");
    println!(
        "| {:.1} MiB | {:.1} MiB | {:.1} MiB | **{:.1} MiB** | {:.1} MiB | {elapsed:.1} s ({:.0} MiB/s in all) |\n",
        idle_kib as f64 / 1024.0,
        sampled_peak as f64 / 1024.0,
        hwm_kib as f64 / 1024.0,
        peak_kib.saturating_sub(idle_kib) as f64 / 1024.0,
        after_kib as f64 / 1024.0,
        mib_per_s(memory_size * completed as u64, elapsed),
    );

    // 2. Throughput against a plain file copy.
    println!("## Throughput, median of {} (MiB/s)\n", args.repetitions);
    println!("| size | file copy + fsync | upload (1 MiB PUTs) | upload ÷ copy | download (streamed GET) | download ÷ copy |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut throughput = Vec::new();
    let mut breakdown = Vec::new();
    let mut mutation_id = 2;
    let first = Agent {
        http: http.clone(),
        base: base.clone(),
        token: tokens[0].clone(),
        ticket,
    };
    for (s, &kib) in args.sizes_kib.iter().enumerate() {
        let size = kib * 1024;
        let (mut copy, mut up, mut down) = (Vec::new(), Vec::new(), Vec::new());
        let (mut creates, mut puts, mut lasts) = (Vec::new(), Vec::new(), Vec::new());
        for rep in 0..args.repetitions {
            let payload = Payload {
                seed: 1_000_000 + (s * 1000 + rep) as u64,
                size,
            };
            let bytes = payload.piece(0, size as usize);
            let sha = hex::encode(sha2::Sha256::digest(&bytes));

            let source = dir.path().join(format!("source-{kib}-{rep}.pdf"));
            let target = dir.path().join(format!("copy-{kib}-{rep}.pdf"));
            std::fs::write(&source, &bytes)?;
            std::fs::File::open(&source)?.sync_all()?;
            let start = Instant::now();
            std::fs::copy(&source, &target)?;
            std::fs::File::open(&target)?.sync_all()?;
            copy.push(mib_per_s(size, start.elapsed().as_secs_f64()));
            std::fs::remove_file(&source)?;
            std::fs::remove_file(&target)?;

            let name = format!("bench-{kib}-{rep}.pdf");
            let start = Instant::now();
            let times = upload(&first, &name, payload, &sha, Some(&bytes)).await?;
            up.push(mib_per_s(size, start.elapsed().as_secs_f64()));
            creates.push(ms(times.create));
            puts.extend(times.puts.into_iter().map(ms));
            lasts.push(ms(times.last));

            let attachment = Uuid::now_v7();
            push(
                &http,
                &base,
                &tokens[0],
                device,
                mutation_id,
                Mutation::AddAttachment {
                    entry_id: Uuid::now_v7(),
                    ticket_id: ticket,
                    attachment_id: attachment,
                    filename: name,
                    mime: "application/pdf".into(),
                    size,
                    sha256: sha.clone(),
                },
            )
            .await?;
            mutation_id += 1;
            let start = Instant::now();
            let response = http
                .get(format!(
                    "{base}/v1/tickets/{ticket}/attachments/{attachment}"
                ))
                .bearer_auth(&tokens[0])
                .send()
                .await?
                .error_for_status()?;
            let mut body = response.bytes_stream();
            let mut received = Vec::with_capacity(size as usize);
            while let Some(piece) = body.next().await {
                received.extend_from_slice(&piece?);
            }
            down.push(mib_per_s(size, start.elapsed().as_secs_f64()));
            anyhow::ensure!(
                received.len() as u64 == size
                    && hex::encode(sha2::Sha256::digest(&received)) == sha,
                "the download of {kib} KiB is not the uploaded file"
            );
        }
        let (copy, up, down) = (median(&mut copy), median(&mut up), median(&mut down));
        println!(
            "| {} | {copy:.0} | {up:.0} | {:.0} % | {down:.0} | {:.0} % |",
            size_label(kib),
            up / copy * 100.0,
            down / copy * 100.0
        );
        throughput.push((size, copy, up, down));
        breakdown.push(format!(
            "| {} | {:.1} | {:.1} ({} PUTs) | {:.1} |",
            size_label(kib),
            median(&mut creates),
            median(&mut puts),
            puts.len(),
            median(&mut lasts)
        ));
    }
    println!("\nWhere an upload's time goes (median ms per request, all repetitions):\n");
    println!(
        "| size | create | 1 MiB PUT (all but the last) | last PUT (bytes + check + commit) |"
    );
    println!("| --- | --- | --- | --- |");
    for line in breakdown {
        println!("{line}");
    }
    if let Some(status) = server.child.try_wait()? {
        anyhow::bail!(
            "outpost-server exited during the run ({status}):\n{}",
            server.stderr_tail()
        );
    }
    Ok(Report {
        idle_rss_kib: idle_kib,
        peak_rss_kib: peak_kib,
        uploads_completed: completed,
        throughput,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_a_pdf_agents_may_upload_and_its_pieces_agree() {
        let payload = Payload {
            seed: 7,
            size: 3 * 1024 * 1024 + 5,
        };
        let whole = payload.piece(0, payload.size as usize);
        assert_eq!(whole.len() as u64, payload.size);
        let mut pieces = Vec::new();
        let mut offset = 0;
        for len in [3, 4, 1, CHUNK, 17, CHUNK, CHUNK] {
            let piece = payload.piece(offset, len);
            offset += piece.len() as u64;
            pieces.extend(piece);
        }
        assert_eq!(pieces, whole);
        assert_eq!(payload.sha256(), hex::encode(sha2::Sha256::digest(&whole)));
        let other = Payload { seed: 8, ..payload };
        assert_ne!(other.sha256(), payload.sha256());
        let checked = outpost_core::files::check_upload(None, "bench.pdf", &whole, payload.size);
        assert_eq!(checked.ok(), Some(outpost_core::files::FileType::Pdf));
    }

    /// The whole subcommand on tiny sizes, against the real server binary of the same
    /// profile (`cargo build -p outpost-server` first, as for the system tests).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_benchmark_runs_on_tiny_sizes() {
        let args = AttachmentArgs {
            database_url: None,
            server_bin: None,
            sizes_kib: vec![64, 1500],
            repetitions: 1,
            clients: 3,
            memory_kib: 300,
        };
        let report = run(args).await.expect("the benchmark runs");
        assert_eq!(report.uploads_completed, 3);
        assert!(report.idle_rss_kib > 0);
        assert!(report.peak_rss_kib >= report.idle_rss_kib);
        let sizes: Vec<u64> = report.throughput.iter().map(|t| t.0).collect();
        assert_eq!(sizes, [64 * 1024, 1500 * 1024]);
        for &(_, copy, up, down) in &report.throughput {
            assert!(copy.is_finite() && copy > 0.0);
            assert!(up.is_finite() && up > 0.0);
            assert!(down.is_finite() && down > 0.0);
        }
        assert!(report.verdict().contains("memory, 3 uploads at once"));
    }
}
