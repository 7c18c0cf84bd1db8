//! A fault-injecting HTTP/1.1 proxy on loopback, between clients and the server.
//!
//! It understands just enough HTTP to find request and response boundaries (`Content-Length`
//! bodies; a response without one, the event stream, is piped through untouched), so a fault
//! can hit any request on a kept-alive connection, not only a connection's first. Per request,
//! with the configured probability, one fault is drawn from a seeded RNG:
//!
//! - **delay**: forward after 20–300 ms;
//! - **503/500 before**: answer a canned `{code, message}` error without forwarding, and close;
//! - **503/500 after**: forward (the server acts on it), drop its answer, reply with a canned
//!   error, and close — the client cannot know the server already applied its push;
//! - **drop mid-response**: forward, then send only part of the answer and close.
//!
//! It also counts completed responses by path, which tests use to time kills.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// What the proxy did, per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultStats {
    pub requests: u64,
    pub passed: u64,
    pub delayed: u64,
    pub canned_before: u64,
    pub canned_after: u64,
    pub dropped_mid_response: u64,
    /// Connections that could not reach the server (it was down).
    pub upstream_refused: u64,
}

impl FaultStats {
    pub fn faults(&self) -> u64 {
        self.delayed + self.canned_before + self.canned_after + self.dropped_mid_response
    }
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    Delay(Duration),
    CannedBefore(u16),
    CannedAfter(u16),
    DropMidResponse,
}

struct Shared {
    upstream: SocketAddr,
    /// Probability of a fault per request, in percent.
    fault_percent: AtomicU32,
    rng: Mutex<ChaCha8Rng>,
    stats: Mutex<FaultStats>,
    /// Status codes of completed (fully forwarded) responses by request path, without the
    /// query.
    completed: Mutex<HashMap<String, Vec<u16>>>,
}

impl Shared {
    fn draw(&self) -> Fault {
        let percent = self.fault_percent.load(Ordering::SeqCst);
        let mut rng = self.rng.lock().unwrap();
        if rng.random_range(0..100) >= percent {
            return Fault::None;
        }
        let status = if rng.random_bool(0.5) { 503 } else { 500 };
        match rng.random_range(0..4) {
            0 => Fault::Delay(Duration::from_millis(rng.random_range(20..300))),
            1 => Fault::CannedBefore(status),
            2 => Fault::CannedAfter(status),
            _ => Fault::DropMidResponse,
        }
    }

    fn cut(&self, len: usize) -> usize {
        self.rng.lock().unwrap().random_range(0..len.max(1))
    }

    fn count(&self, update: impl FnOnce(&mut FaultStats)) {
        update(&mut self.stats.lock().unwrap());
    }
}

/// The proxy; stops (and drops every connection) when dropped.
pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`; no faults until
    /// [`Proxy::set_fault_percent`].
    pub async fn start(upstream: SocketAddr, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            upstream,
            fault_percent: AtomicU32::new(0),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            stats: Mutex::new(FaultStats::default()),
            completed: Mutex::new(HashMap::new()),
        });
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                // Dropping the set (when this task is aborted) aborts every connection.
                let mut connections = JoinSet::new();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            if let Ok((stream, _)) = accepted {
                                let shared = shared.clone();
                                connections.spawn(async move {
                                    let _ = serve(stream, shared).await;
                                });
                            }
                        }
                        Some(_) = connections.join_next(), if !connections.is_empty() => {}
                    }
                }
            }
        });
        Proxy { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// 0 stops injecting faults (connections already open stay as they are).
    pub fn set_fault_percent(&self, percent: u32) {
        assert!(percent <= 100);
        self.shared.fault_percent.store(percent, Ordering::SeqCst);
    }

    pub fn stats(&self) -> FaultStats {
        self.shared.stats.lock().unwrap().clone()
    }

    /// Successful (2xx) responses to `path` (e.g. `/v1/sync/push`) forwarded in full so far.
    pub fn completed(&self, path: &str) -> u64 {
        self.statuses(path)
            .iter()
            .filter(|s| (200..300).contains(*s))
            .count() as u64
    }

    /// The status of every response to `path` forwarded in full so far, in order.
    pub fn statuses(&self, path: &str) -> Vec<u16> {
        self.shared
            .completed
            .lock()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A read half with a buffer, to split a byte stream at HTTP message boundaries.
struct Reader {
    inner: OwnedReadHalf,
    buf: Vec<u8>,
}

const MAX_HEAD: usize = 64 * 1024;

impl Reader {
    /// The next message head (through the blank line); `None` at a clean end of stream.
    async fn head(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..end + 4).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(std::io::Error::other("message head too long"));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    async fn exact(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn fill(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.inner.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// Copies everything else to `to` (buffered bytes first) until the stream ends.
    async fn pipe(mut self, to: &mut OwnedWriteHalf) -> std::io::Result<()> {
        to.write_all(&self.buf).await?;
        tokio::io::copy(&mut self.inner, to).await?;
        Ok(())
    }
}

/// What the proxy needs from a message head.
struct Head {
    /// The request path without its query (requests), or empty.
    path: String,
    /// The status code (responses), or 0.
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
}

fn parse_head(head: &[u8]) -> Head {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let path = first
        .split(' ')
        .nth(1)
        .filter(|_| !first.starts_with("HTTP/"))
        .map(|p| p.split('?').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let status = first
        .strip_prefix("HTTP/")
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let mut parsed = Head {
        path,
        status,
        content_length: None,
        chunked: false,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "content-length" {
            parsed.content_length = value.parse().ok();
        } else if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
            parsed.chunked = true;
        }
    }
    parsed
}

fn canned(status: u16) -> Vec<u8> {
    let (reason, code) = match status {
        503 => ("Service Unavailable", "unavailable"),
        _ => ("Internal Server Error", "internal"),
    };
    let body = serde_json::json!({
        "code": code,
        "message": format!("fault injected by the test proxy ({status})"),
    })
    .to_string();
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve(client: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let Ok(upstream) = TcpStream::connect(shared.upstream).await else {
        shared.count(|s| s.upstream_refused += 1);
        return Ok(());
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_read, mut client_write) = client.into_split();
    let (server_read, mut server_write) = upstream.into_split();
    let mut from_client = Reader {
        inner: client_read,
        buf: Vec::new(),
    };
    let mut from_server = Reader {
        inner: server_read,
        buf: Vec::new(),
    };
    loop {
        let Some(head) = from_client.head().await? else {
            return Ok(());
        };
        let request = parse_head(&head);
        if request.chunked {
            // Not something the client sends; pass the rest through untouched.
            server_write.write_all(&head).await?;
            let up = from_client.pipe(&mut server_write);
            let down = from_server.pipe(&mut client_write);
            let _ = tokio::join!(up, down);
            return Ok(());
        }
        let body = from_client
            .exact(request.content_length.unwrap_or(0))
            .await?;
        let fault = shared.draw();
        shared.count(|s| s.requests += 1);
        match fault {
            Fault::CannedBefore(status) => {
                shared.count(|s| s.canned_before += 1);
                client_write.write_all(&canned(status)).await?;
                return Ok(());
            }
            Fault::Delay(delay) => {
                shared.count(|s| s.delayed += 1);
                tokio::time::sleep(delay).await;
            }
            _ => {}
        }
        server_write.write_all(&head).await?;
        server_write.write_all(&body).await?;
        let Some(response_head) = from_server.head().await? else {
            return Ok(());
        };
        let response = parse_head(&response_head);
        let length = match response.content_length {
            Some(n) if !response.chunked => n,
            _ => {
                // A stream (server-sent events): forward it as it comes.
                shared.count(|s| s.passed += 1);
                client_write.write_all(&response_head).await?;
                let up = from_client.pipe(&mut server_write);
                let down = from_server.pipe(&mut client_write);
                let _ = tokio::join!(up, down);
                return Ok(());
            }
        };
        let response_body = from_server.exact(length).await?;
        match fault {
            Fault::CannedAfter(status) => {
                shared.count(|s| s.canned_after += 1);
                client_write.write_all(&canned(status)).await?;
                return Ok(());
            }
            Fault::DropMidResponse => {
                shared.count(|s| s.dropped_mid_response += 1);
                let mut whole = response_head;
                whole.extend_from_slice(&response_body);
                let cut = shared.cut(whole.len());
                client_write.write_all(&whole[..cut]).await?;
                return Ok(());
            }
            Fault::None | Fault::Delay(_) | Fault::CannedBefore(_) => {
                client_write.write_all(&response_head).await?;
                client_write.write_all(&response_body).await?;
                if matches!(fault, Fault::None) {
                    shared.count(|s| s.passed += 1);
                }
                shared
                    .completed
                    .lock()
                    .unwrap()
                    .entry(request.path)
                    .or_default()
                    .push(response.status);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_parsed() {
        let request =
            parse_head(b"POST /v1/sync/push?x=1 HTTP/1.1\r\nContent-Length: 12\r\nHost: a\r\n\r\n");
        assert_eq!(request.path, "/v1/sync/push");
        assert_eq!(request.content_length, Some(12));
        assert_eq!(request.status, 0);
        assert!(!request.chunked);
        let response =
            parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: x\r\n\r\n");
        assert_eq!(response.path, "");
        assert_eq!(response.status, 200);
        assert_eq!(response.content_length, None);
        assert!(response.chunked);
    }

    #[test]
    fn canned_answers_are_complete_json_errors() {
        let text = String::from_utf8(canned(503)).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "unavailable");
        assert!(json["message"].as_str().unwrap().contains("503"));
    }

    #[test]
    fn faults_follow_the_seed_and_the_rate() {
        let shared = |seed| Shared {
            upstream: SocketAddr::from(([127, 0, 0, 1], 9)),
            fault_percent: AtomicU32::new(30),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            stats: Mutex::new(FaultStats::default()),
            completed: Mutex::new(HashMap::new()),
        };
        let (a, b) = (shared(7), shared(7));
        let draws: Vec<String> = (0..1000).map(|_| format!("{:?}", a.draw())).collect();
        let again: Vec<String> = (0..1000).map(|_| format!("{:?}", b.draw())).collect();
        assert_eq!(draws, again);
        let faults = draws.iter().filter(|d| *d != "None").count();
        assert!(
            (200..400).contains(&faults),
            "{faults} faults in 1000 at 30 %"
        );
        a.fault_percent.store(0, Ordering::SeqCst);
        assert!((0..100).all(|_| matches!(a.draw(), Fault::None)));
    }
}
