//! Client sync benchmarks against a real `outpost-server` process on loopback:
//!
//! 1. initial sync of the demo organisation (100 000 tickets + 300 000 entries by default) into
//!    an empty encrypted cache, with this process's peak resident memory;
//! 2. an edit on client A visible in client B's cache (B is a second process, following
//!    server pokes over SSE): p50/p95 over a series of replies;
//! 3. 10 000 mutations made offline, then pushed (and their echoes pulled) on reconnect.
//!
//! Run: `cargo run --release -p outpost-client --example sync_bench -- --tickets 100000`
//! (builds and uses the release `outpost-server` next to this binary).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use outpost_client::desk::{Desk, DeskConfig, Unlock};
use outpost_client::vault::Vault;
use outpost_core::sync::Mutation;

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin(name: &str) -> PathBuf {
    // examples live in <target>/release/examples/
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join(name)
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system, all threads) of process `pid` so far, from /proc/<pid>/stat.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (in parentheses, may contain spaces); utime and stime are
    // the 12th and 13th of them, in USER_HZ (100 on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn desk(dir: &Path) -> Desk {
    Desk::new(
        Vault::system(),
        DeskConfig {
            data_dir: dir.to_owned(),
            ca_pem: None,
        },
    )
}

fn unlock() -> Unlock {
    Unlock::Passphrase("benchmark passphrase".into())
}

/// Follower mode (client B): sign in, initial sync, then print `seen <ticket> <unix ms>` for
/// every change notice until stdin closes.
async fn follower(server: &str, email: &str, password: &str, dir: &Path) {
    let desk = desk(dir);
    desk.sign_in(server, email, password, None, unlock())
        .await
        .expect("follower sign-in");
    let started = Instant::now();
    desk.sync_now().await.expect("follower initial sync");
    println!("ready {:.2}", started.elapsed().as_secs_f64());
    let mut changes = desk.subscribe().await.expect("subscribe");
    desk.start_sync().await.expect("start sync");
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    });
    tokio::pin!(stdin_closed);
    loop {
        tokio::select! {
            notice = changes.recv() => {
                let Ok(notice) = notice else { continue };
                let at = unix_ms();
                for ticket in notice.tickets {
                    println!("seen {ticket} {at}");
                }
                let _ = std::io::stdout().flush();
            }
            _ = &mut stdin_closed => return,
        }
    }
}

#[tokio::main]
async fn main() {
    if std::env::var_os("OUTPOST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("OUTPOST_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("follow") {
        follower(&args[2], &args[3], &args[4], Path::new(&args[5])).await;
        return;
    }
    let tickets: u32 = args
        .iter()
        .position(|a| a == "--tickets")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // `--initial-only`: stop after the initial sync of client A.
    let initial_only = args.iter().any(|a| a == "--initial-only");
    let edits: usize = 60;
    let offline: usize = 10_000;
    let work = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", work.path().join("server.db").display());
    let server_bin = bin("outpost-server");
    let run = |args: &[&str]| {
        let out = Command::new(&server_bin)
            .args(["--database-url", &db])
            .args(args)
            .output()
            .expect("run outpost-server");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // `--seed-dir <dir>`: keep the loaded server database (and its credentials) in <dir> and
    // copy it on later runs instead of loading the demo again (saves the load when iterating).
    let seed_dir = args
        .iter()
        .position(|a| a == "--seed-dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let seeded = seed_dir
        .as_ref()
        .filter(|d| d.join(format!("server-{tickets}.db")).exists());
    let (init, credentials) = if let Some(dir) = seeded {
        // The database, its WAL and the master key file `init` made beside it.
        for suffix in [".db", ".db-wal", ".master-key"] {
            let from = dir.join(format!("server-{tickets}{suffix}"));
            if from.exists() {
                std::fs::copy(from, work.path().join(format!("server{suffix}")))
                    .expect("copy the seeded server database");
            }
        }
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(format!("{name}-{tickets}.txt"))).expect("seed")
        };
        (read("init"), read("demo"))
    } else {
        let init = run(&[
            "init",
            "--org",
            "Bench",
            "--admin-email",
            "admin@bench.example",
        ]);
        let loaded = Instant::now();
        let credentials = run(&["demo", "--tickets", &tickets.to_string()]);
        eprintln!(
            "server loaded {tickets} tickets in {:.1} s",
            loaded.elapsed().as_secs_f64()
        );
        if let Some(dir) = &seed_dir {
            std::fs::create_dir_all(dir).expect("seed dir");
            // The demo process has exited; the main file and any WAL left are the database.
            for suffix in [".db", ".db-wal", ".master-key"] {
                let from = work.path().join(format!("server{suffix}"));
                if from.exists() {
                    std::fs::copy(from, dir.join(format!("server-{tickets}{suffix}")))
                        .expect("save the server database");
                }
            }
            std::fs::write(dir.join(format!("init-{tickets}.txt")), &init).expect("seed");
            std::fs::write(dir.join(format!("demo-{tickets}.txt")), &credentials).expect("seed");
        }
        (init, credentials)
    };
    let admin_password = init
        .trim()
        .rsplit(' ')
        .next()
        .expect("one-time password")
        .to_owned();
    let supervisor = credentials
        .lines()
        .find(|l| l.starts_with("supervisor"))
        .expect("a supervisor in the demo");
    let fields: Vec<&str> = supervisor.split_whitespace().collect();
    let (email, password) = (fields[1].to_owned(), fields[2].to_owned());

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let server_process = Guard(
        Command::new(&server_bin)
            .args(["--database-url", &db, "serve"])
            .env("OUTPOST_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    // 1. Initial sync into an empty cache.
    let a = desk(&work.path().join("a"));
    let signed_in = Instant::now();
    let me = a
        .sign_in(&server, &email, &password, None, unlock())
        .await
        .expect("sign in");
    let sign_in_s = signed_in.elapsed().as_secs_f64();
    let rss_before = peak_rss_mib();
    let server_pid = server_process.0.id().to_string();
    let (client_cpu, server_cpu) = (cpu_seconds("self"), cpu_seconds(&server_pid));
    let started = Instant::now();
    a.sync_now().await.expect("initial sync");
    let initial_s = started.elapsed().as_secs_f64();
    let (client_cpu, server_cpu) = (
        cpu_seconds("self") - client_cpu,
        cpu_seconds(&server_pid) - server_cpu,
    );
    let count = a
        .queue(Default::default(), Default::default(), None, 1)
        .await
        .map_or(0, |p| p.rows.len());
    assert!(count > 0, "the cache has tickets");
    let peak = peak_rss_mib();
    println!(
        "# outpost client sync benchmarks ({tickets} demo tickets, SQLite server, loopback)\n"
    );
    println!("| measurement | result |");
    println!("| --- | --- |");
    println!("| sign-in (Argon2id passphrase key + login) | {sign_in_s:.2} s |");
    println!(
        "| initial sync: {tickets} tickets + {} entries into an empty cache | {:.2} s |",
        u64::from(tickets) * 3,
        initial_s
    );
    println!(
        "| peak resident memory of the client process | {peak:.0} MiB (before the sync: {rss_before:.0} MiB) |"
    );
    println!(
        "| CPU during the initial sync: client process / server process | {client_cpu:.2} s / {server_cpu:.2} s |"
    );
    if initial_only {
        return;
    }

    // 2. Edit on A visible in B (B in its own process: one cache per process).
    let b_dir = work.path().join("b");
    let mut b = Guard(
        Command::new(std::env::current_exe().expect("exe"))
            .args([
                "follow",
                &server,
                "admin@bench.example",
                &admin_password,
                b_dir.to_str().expect("utf-8 path"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start follower"),
    );
    let mut lines = BufReader::new(b.0.stdout.take().expect("stdout")).lines();
    let ready = lines.next().expect("follower output").expect("line");
    let b_initial: f64 = ready
        .strip_prefix("ready ")
        .and_then(|v| v.parse().ok())
        .expect("ready line");
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<(String, i64)>();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let ["seen", ticket, at] = parts[..] {
                let _ = seen_tx.send((ticket.to_owned(), at.parse().unwrap_or(0)));
            }
        }
    });
    a.start_sync().await.expect("background sync");
    let page = a
        .queue(Default::default(), Default::default(), None, edits as u32)
        .await
        .expect("queue");
    let mut latencies = Vec::new();
    for (i, row) in page.rows.iter().enumerate() {
        while seen_rx.try_recv().is_ok() {}
        let sent = unix_ms();
        a.reply(row.id, format!("bench reply {i}"))
            .await
            .expect("reply");
        let wait_until = Instant::now() + Duration::from_secs(10);
        loop {
            let remaining = wait_until.saturating_duration_since(Instant::now());
            match seen_rx.recv_timeout(remaining) {
                Ok((ticket, at)) if ticket == row.id.to_string() => {
                    latencies.push(Duration::from_millis((at - sent).max(0) as u64));
                    break;
                }
                Ok(_) => {}
                Err(_) => {
                    eprintln!("edit {i} not seen by B within 10 s");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(b.0.stdin.take());
    latencies.sort_unstable();
    println!("| initial sync of client B (admin, second process) | {b_initial:.2} s |");
    println!(
        "| edit on A visible in B's cache (SSE path, {} of {edits} edits seen) | p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms |",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        percentile(&latencies, 1.0)
    );

    // 3. Offline mutations pushed on reconnect: A stops syncing, makes changes, then syncs.
    a.lock().await;
    let me2 = a.resume(unlock()).await.expect("resume");
    assert_eq!(me.user.id, me2.user.id);
    let page = a
        .queue(Default::default(), Default::default(), None, 200)
        .await
        .expect("queue");
    let made = Instant::now();
    for i in 0..offline {
        let row = &page.rows[i % page.rows.len()];
        a.change(Mutation::AddTag {
            ticket_id: row.id,
            tag: format!("offline-{i}"),
        })
        .await
        .expect("local change");
    }
    let local_s = made.elapsed().as_secs_f64();
    let status = a.sync_status().await.expect("status");
    assert_eq!(status.unsent, offline as u64, "all queued");
    let pushed = Instant::now();
    let status = a.sync_now().await.expect("push on reconnect");
    let push_s = pushed.elapsed().as_secs_f64();
    assert_eq!(status.unsent, 0, "all confirmed");
    println!(
        "| {offline} local changes made offline (apply + outbox + audit each) | {local_s:.2} s |"
    );
    println!(
        "| those {offline} changes pushed on reconnect, confirmed and their echoes pulled | {push_s:.2} s |"
    );
}
