//! Desktop benchmarks on the real, optimised `outpost-desktop` driven over WebDriver
//! (tauri-driver + WebKitWebDriver) with a cache of 100 000 tickets:
//!
//! 1. start-up to an interactive queue: from the app process's start (its `/proc` start time)
//!    to the page's `outpost:queue-ready` mark (the first real rows on screen), five launches;
//!    baseline in the same run: the same binary with no profile, to the sign-in form;
//! 2. filter and scroll latency: a saved view or a filter changed / the list scrolled by a
//!    screen, to the updated rows on screen, measured inside the page (p50 / p95 / max);
//! 3. resident memory of the whole app (the shell and its WebKit processes: RSS and PSS) after
//!    scrolling the whole 100 000-ticket queue from top to bottom.
//!
//! Run under a display and a session bus with an unlocked keyring (the key goes to the
//! keychain, as for a real agent):
//!
//! ```sh
//! cargo build --release -p outpost-server -p outpost-desktop -p outpost-system-tests --example desktop_bench
//! xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- sh -c \
//!   'printf x | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//!    $CARGO_TARGET_DIR/release/examples/desktop_bench --tickets 100000 --seed-dir /tmp/seed'
//! ```
//!
//! `--seed-dir` reuses (or keeps) a loaded server database, as the client sync benchmark does
//! (`server-<n>.db`, `init-<n>.txt`, `demo-<n>.txt`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use outpost_client::desk::{Desk, DeskConfig, Unlock};
use outpost_client::vault::Vault;
use outpost_system_tests::webdriver::{Driver, Session};
use outpost_system_tests::ChildGuard;
use serde_json::Value;

fn release_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("<target>/release/examples")
        .join(name)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Clock ticks per second for /proc times (USER_HZ; 100 on Linux).
const HZ: f64 = 100.0;

fn boot_time_ms() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("btime in /proc/stat")
        * 1000.0
}

struct Proc {
    pid: u32,
    ppid: u32,
    comm: String,
    start_ticks: f64,
}

fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ppid = fields.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
        let start_ticks = fields.get(19).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        out.push(Proc {
            pid,
            ppid,
            comm,
            start_ticks,
        });
    }
    out
}

/// The running app's process and every process it started (WebKit's web and network
/// processes).
fn app_tree() -> Vec<Proc> {
    let all = processes();
    let Some(root) = all
        .iter()
        .find(|p| p.comm == "outpost-desktop")
        .map(|p| p.pid)
    else {
        return Vec::new();
    };
    let mut pids = vec![root];
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        pids.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    all.into_iter().filter(|p| pids.contains(&p.pid)).collect()
}

/// `Rss` and `Pss` (MiB) of a process, from smaps_rollup.
fn memory(pid: u32) -> (f64, f64, f64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("Rss:"), field("Pss:"), field("Pss_Anon:"))
}

fn stats(mut samples: Vec<f64>) -> String {
    if samples.is_empty() {
        return "skipped".into();
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (n = {})",
        at(0.5),
        at(0.95),
        at(1.0),
        samples.len()
    )
}

/// Launches the app and answers milliseconds from the app process's start to the page mark
/// `mark`, and to the webview's navigation start (`performance.timeOrigin`: the shell and
/// WebKit up, the page about to load).
async fn launch_to(driver: &Driver, app: &Path, mark: &str) -> (Session, f64, f64) {
    let s = driver.session(app).await;
    let times = s
        .wait_until(
            mark,
            &format!(
                "const m = performance.getEntriesByName('{mark}')[0];
                 return m ? [performance.timeOrigin, performance.timeOrigin + m.startTime] : null;"
            ),
            Duration::from_secs(60),
        )
        .await;
    let (origin, ready) = (
        times[0].as_f64().expect("a time"),
        times[1].as_f64().expect("a time"),
    );
    let tree = app_tree();
    let root = tree
        .iter()
        .find(|p| p.comm == "outpost-desktop")
        .expect("the app process");
    let started = boot_time_ms() + root.start_ticks / HZ * 1000.0;
    (s, ready - started, origin - started)
}

/// Starts the app directly (no WebDriver), as a user does, and answers the milliseconds from
/// spawning it to its `outpost-startup: <marker>` log line (the UI reached the milestone), and
/// the app's own figure (milliseconds since its `main` started).
fn direct_launch(app: &Path, data_dir: &Path, marker: &str) -> (f64, f64) {
    use std::io::BufRead;
    let started = Instant::now();
    let mut child = Command::new(app)
        .env("OUTPOST_DATA_DIR", data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the app");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let prefix = format!("outpost-startup: {marker} ");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.strip_prefix(&prefix) {
                let own: f64 = rest.trim_end_matches(" ms").parse().unwrap_or(f64::NAN);
                let _ = tx.send((started.elapsed().as_secs_f64() * 1000.0, own));
            }
        }
    });
    let result = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("no `{marker}` mark within 60 s"));
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// In the page: runs `action` (JS statements), then waits (animation frames) until `done`
/// (a JS expression) holds; answers the milliseconds between.
async fn timed(s: &Session, setup: &str, action: &str, done: &str) -> f64 {
    let script = format!(
        "const cb = arguments[arguments.length - 1];
         {setup}
         const t0 = performance.now();
         {action}
         const poll = () => {{
           if ({done}) {{ cb(performance.now() - t0); return; }}
           if (performance.now() - t0 > 20000) {{ cb(-1); return; }}
           requestAnimationFrame(poll);
         }};
         requestAnimationFrame(poll);"
    );
    let value = match s.script_async(&script).await {
        Ok(value) => value,
        Err(e) => panic!("{e:?} during `{action}`"),
    };
    let ms = value.as_f64().unwrap_or(-1.0);
    assert!(ms >= 0.0, "timed out: {action} / {done}");
    ms
}

/// The list has finished loading its filter (`data-ready`) and every row it shows is loaded
/// (no placeholder).
const LOADED: &str = "(() => {
    const list = document.querySelector('[data-testid=queue-list]');
    const rows = [...document.querySelectorAll('[data-testid=queue-row]')];
    return list.getAttribute('data-ready') === 'true'
      && rows.every(r => r.getAttribute('data-key') !== '');
  })()";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tickets: usize = arg(&args, "--tickets").map_or(100_000, |v| v.parse().expect("--tickets"));
    let seed_dir = arg(&args, "--seed-dir").map(PathBuf::from);
    let launches: usize = arg(&args, "--launches").map_or(5, |v| v.parse().expect("--launches"));
    let work = tempfile::tempdir().expect("a work directory");
    let server_bin = release_bin("outpost-server");
    let app = release_bin("outpost-desktop");
    let db = format!("sqlite://{}", work.path().join("server.db").display());

    // The server with `tickets` demo tickets.
    let seeded = seed_dir
        .as_ref()
        .filter(|d| d.join(format!("server-{tickets}.db")).exists());
    let credentials = if let Some(dir) = seeded {
        std::fs::copy(
            dir.join(format!("server-{tickets}.db")),
            work.path().join("server.db"),
        )
        .expect("copy the seeded database");
        // The master key file `init` made beside it (sync_bench's seed directory keeps it).
        std::fs::copy(
            dir.join(format!("server-{tickets}.master-key")),
            work.path().join("server.master-key"),
        )
        .expect("copy the seeded database's master key");
        std::fs::read_to_string(dir.join(format!("demo-{tickets}.txt"))).expect("credentials")
    } else {
        let run = |a: &[&str]| {
            let out = Command::new(&server_bin)
                .args(["--database-url", &db])
                .args(a)
                .output()
                .expect("outpost-server");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        run(&[
            "init",
            "--org",
            "Bench",
            "--admin-email",
            "admin@bench.example",
        ]);
        run(&["demo", "--tickets", &tickets.to_string()])
    };
    let supervisor: Vec<&str> = credentials
        .lines()
        .find(|l| l.starts_with("supervisor"))
        .expect("a supervisor")
        .split_whitespace()
        .collect();
    let (email, password) = (supervisor[1], supervisor[2]);
    let port = outpost_system_tests::server::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut serve = Command::new(&server_bin);
    serve
        .args(["--database-url", &db, "serve"])
        .env("OUTPOST_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null());
    let _server = ChildGuard::spawn(serve, "server", work.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The agent's cache: signed in with the OS keychain, fully synced, closed.
    // `--keep <dir>`: keep the synced client cache there and reuse it on later runs (run with the
    // same XDG_DATA_HOME so the keyring that holds its key is the same).
    let keep = arg(&args, "--keep").map(PathBuf::from);
    let data = keep.clone().unwrap_or_else(|| work.path().join("client"));
    let reuse = data.join("last-profile").exists();
    let desk = Desk::new(
        Vault::system(),
        DeskConfig {
            data_dir: data.clone(),
            ca_pem: None,
        },
    );
    if reuse {
        desk.resume(Unlock::Keychain)
            .await
            .expect("resume the kept cache");
    } else {
        desk.sign_in(&url, email, password, None, Unlock::Keychain)
            .await
            .expect("sign in with the keychain (run under a session bus with an unlocked keyring)");
    }
    let synced = Instant::now();
    if !reuse {
        desk.sync_now().await.expect("initial sync");
    }
    let count = desk.queue_count(Default::default()).await.expect("count");
    eprintln!(
        "cache ready: {count} tickets in {:.1} s",
        synced.elapsed().as_secs_f64()
    );
    assert!(count as usize >= tickets, "{count} tickets cached");
    desk.lock().await;
    drop(desk);

    println!("# outpost desktop benchmarks ({count} cached tickets, release build, Xvfb)\n");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average before: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    let only_interactive = args.iter().any(|a| a == "--only-interactive");
    // 1. Start-up as a user launches the app (no WebDriver): spawn → the app's log marker.
    let empty_direct = work.path().join("empty-direct");
    std::fs::create_dir_all(&empty_direct).expect("empty data dir");
    let (mut signin, mut queue_ready) = (Vec::new(), Vec::new());
    let (mut signin_own, mut queue_own) = (Vec::new(), Vec::new());
    for _ in 0..if only_interactive { 0 } else { launches } {
        let (ms, own) = direct_launch(&app, &empty_direct, "signin-ready");
        signin.push(ms);
        signin_own.push(own);
        std::thread::sleep(Duration::from_millis(500));
    }
    // The first launch on the cache is not timed (the supervisor opens on All, 100 000 rows).
    let _ = direct_launch(&app, &data, "queue-ready");
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..if only_interactive { 0 } else { launches } {
        let (ms, own) = direct_launch(&app, &data, "queue-ready");
        queue_ready.push(ms);
        queue_own.push(own);
        std::thread::sleep(Duration::from_millis(500));
    }
    println!(
        "direct launch, baseline (no profile) to the sign-in form: {}; the app's own count from main: {}",
        stats(signin),
        stats(signin_own)
    );
    println!(
        "direct launch, 100 000-ticket cache, to an interactive queue: {}; the app's own count from main: {}",
        stats(queue_ready),
        stats(queue_own)
    );

    let app_memory = || {
        let mut lines = Vec::new();
        let (mut rss, mut pss) = (0.0, 0.0);
        for p in app_tree() {
            let (r, s, a) = memory(p.pid);
            lines.push(format!(
                "  {:<22} RSS {r:>7.1} MiB, PSS {s:>7.1} MiB (anonymous {a:>7.1} MiB)",
                p.comm
            ));
            rss += r;
            pss += s;
        }
        (lines.join("\n"), rss, pss)
    };

    // Through WebDriver (what the suite uses; WebKit's automation session adds its own set-up).
    // 1. Baseline: no profile, to the sign-in form.
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).expect("empty data dir");
    let driver = Driver::start(&[("OUTPOST_DATA_DIR", empty.as_path())], work.path()).await;
    let (mut baseline, mut baseline_nav) = (Vec::new(), Vec::new());
    for _ in 0..if only_interactive { 0 } else { launches } {
        let (s, ms, nav) = launch_to(&driver, &app, "outpost:signin-ready").await;
        baseline.push(ms);
        baseline_nav.push(nav);
        s.quit().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The memory floor: the same binary with no profile, on its sign-in form (no cache open, no
    // queue), through the same WebDriver session set-up as the measurement below.
    let (s, _, _) = launch_to(&driver, &app, "outpost:signin-ready").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (lines, rss, pss) = app_memory();
    println!(
        "memory floor, no profile, at the sign-in form: RSS {rss:.1} MiB (sum), PSS {pss:.1} MiB\n{lines}"
    );
    s.quit().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(driver);
    println!(
        "baseline, no profile, process start to the sign-in form: {}; of which to the webview's navigation start: {}",
        stats(baseline),
        stats(baseline_nav)
    );

    // 1. Start-up with the 100 000-ticket cache. A first launch leaves the queue on "All" (the
    // app reopens the last view), so the timed launches open on the whole queue.
    let driver = Driver::start(&[("OUTPOST_DATA_DIR", data.as_path())], work.path()).await;
    let (s, _, _) = launch_to(&driver, &app, "outpost:queue-ready").await;
    s.set_script_timeout(30_000).await;
    timed(
        &s,
        "const el = document.querySelector('[data-testid=view-all]');",
        "el.click();",
        LOADED,
    )
    .await;
    s.quit().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut starts, mut starts_nav) = (Vec::new(), Vec::new());
    for _ in 0..if only_interactive { 0 } else { launches - 1 } {
        let (s, ms, nav) = launch_to(&driver, &app, "outpost:queue-ready").await;
        starts.push(ms);
        starts_nav.push(nav);
        s.quit().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (s, ms, nav) = launch_to(&driver, &app, "outpost:queue-ready").await;
    starts.push(ms);
    starts_nav.push(nav);
    let shown = s
        .script("return document.querySelector('[data-testid=queue-total]').textContent")
        .await
        .expect("the queue total");
    println!(
        "start-up to an interactive queue ({shown}; keychain unlock, cache open, first rows): {}; of which to the webview's navigation start: {}",
        stats(starts),
        stats(starts_nav)
    );

    // 2. Filter: switch saved views (All ↔ P1 ↔ Pending …) and filters.
    s.set_script_timeout(30_000).await;
    let mut views = Vec::new();
    for view in [
        "all",
        "p1",
        "unassigned",
        "pending",
        "all",
        "at_risk",
        "my_open",
        "all",
    ]
    .iter()
    .cycle()
    .take(24)
    {
        let ms = timed(
            &s,
            &format!("const el = document.querySelector('[data-testid=view-{view}]');"),
            "el.click(); const list = document.querySelector('[data-testid=queue-list]'); let reset = list.getAttribute('data-ready') === 'false';",
            &format!("(reset = reset || list.getAttribute('data-ready') === 'false', reset || performance.now() - t0 > 2000) && {LOADED}"),
        )
        .await;
        views.push(ms);
    }
    println!("saved view click to updated list: {}", stats(views));

    let mut filters = Vec::new();
    for value in ["P1", "P2", "P3", "P4", ""].iter().cycle().take(15) {
        let ms = timed(
            &s,
            "const sel = document.querySelector('select[data-testid=filter-priority]');
             const list = document.querySelector('[data-testid=queue-list]');",
            &format!("sel.value = '{value}'; sel.dispatchEvent(new Event('change', {{ bubbles: true }})); let reset = list.getAttribute('data-ready') === 'false';"),
            &format!("(reset = reset || list.getAttribute('data-ready') === 'false', reset || performance.now() - t0 > 2000) && {LOADED}"),
        )
        .await;
        filters.push(ms);
    }
    println!("priority filter change to updated list: {}", stats(filters));

    // Scroll: one screen down (as PageDown), in the All view.
    timed(
        &s,
        "const el = document.querySelector('[data-testid=view-all]');",
        "el.click();",
        LOADED,
    )
    .await;
    let mut scrolls = Vec::new();
    for _ in 0..40 {
        let ms = timed(
            &s,
            "const list = document.querySelector('[data-testid=queue-list]');
             const target = list.scrollTop + list.clientHeight;",
            "list.scrollTop = target;",
            &format!("Math.abs(list.scrollTop - target) < 2 && {LOADED}"),
        )
        .await;
        scrolls.push(ms);
    }
    println!("scroll one screen to loaded rows: {}", stats(scrolls));

    // 3. Memory after start-up and the interactions above (the baseline), then after scrolling
    // the whole queue.
    let (lines, rss, pss) = app_memory();
    println!(
        "whole app before scrolling the queue: RSS {rss:.1} MiB (sum), PSS {pss:.1} MiB\n{lines}"
    );
    // `--ipc-probe N`: N queue-page commands straight through the IPC, nothing rendered, to
    // tell what the IPC keeps from what the list keeps.
    if let Some(n) = arg(&args, "--ipc-probe").and_then(|v| v.parse::<usize>().ok()) {
        let t0 = Instant::now();
        let value: Value = s
            .script_async(&format!(
                "const cb = arguments[arguments.length - 1];
                 const filter = {{ statuses: [], priorities: [], departments: [], categories: [], assignee: {{ kind: 'any' }}, tag: null, sla: null, revisit: false }};
                 (async () => {{
                   let cursor = null, rows = 0;
                   for (let i = 0; i < {n}; i++) {{
                     const page = await window.__TAURI_INTERNALS__.invoke('queue', {{ filter, sort: 'sla_due', cursor, limit: 100 }});
                     rows += page.rows.length;
                     cursor = page.next;
                   }}
                   return rows;
                 }})().then(cb, (e) => cb(String(e)));"
            ))
            .await
            .expect("ipc probe");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (lines, rss, pss) = app_memory();
        println!(
            "after {n} queue pages through the IPC ({value} rows, {:.1} s): RSS {rss:.1} MiB (sum), PSS {pss:.1} MiB\n{lines}",
            t0.elapsed().as_secs_f64()
        );
    }
    let swept = Instant::now();
    let mut steps = 0;
    loop {
        let value: Value = s
            .script_async(&format!(
                "const cb = arguments[arguments.length - 1];
                 const list = document.querySelector('[data-testid=queue-list]');
                 list.scrollTop = list.scrollTop + list.clientHeight * 20;
                 const t0 = performance.now();
                 const poll = () => {{
                   if ({LOADED} || performance.now() - t0 > 20000)
                     return cb(list.scrollTop + list.clientHeight >= list.scrollHeight - 2);
                   requestAnimationFrame(poll);
                 }};
                 requestAnimationFrame(poll);"
            ))
            .await
            .expect("scroll");
        steps += 1;
        if value == Value::Bool(true) || steps > 20_000 {
            break;
        }
    }
    let last = s
        .script("return [...document.querySelectorAll('[data-testid=queue-row]')].map(r => Number(r.getAttribute('data-index'))).reduce((a, b) => Math.max(a, b), 0)")
        .await
        .expect("last row");
    println!(
        "scrolled the whole queue in {steps} steps of 20 screens, {:.1} s (last row index {last})",
        swept.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    // `OUTPOST_BENCH_SMAPS=<dir>`: keep each process's smaps after the sweep, for a breakdown.
    if let Some(dir) = std::env::var_os("OUTPOST_BENCH_SMAPS") {
        for p in app_tree() {
            let _ = std::fs::copy(
                format!("/proc/{}/smaps", p.pid),
                PathBuf::from(&dir).join(format!("{}.smaps", p.comm)),
            );
        }
    }
    let (lines, rss, pss) = app_memory();
    println!("whole app after scrolling the full queue: RSS {rss:.1} MiB (sum), PSS {pss:.1} MiB\n{lines}");
    // Garbage the page no longer holds is collected on WebKit's idle timers: the same figure
    // after half a minute without input.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let (lines, rss, pss) = app_memory();
    println!("whole app 30 s later, idle: RSS {rss:.1} MiB (sum), PSS {pss:.1} MiB\n{lines}");
    s.quit().await;
}
