//! A small W3C WebDriver client for the desktop suite: `tauri-driver` in front of Debian's
//! WebKitWebDriver, driving the real `outpost-desktop` binary (its front end embedded). Only
//! what the scenarios use: sessions, CSS lookups, clicks, typing, text, attributes, scripts and
//! screenshots. Every wait is bounded.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::process::{tail, ChildGuard};
use crate::server::free_port;

/// The key WebDriver uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The desktop binary next to the test executable.
pub fn desktop_bin() -> PathBuf {
    crate::process::binary("outpost-desktop", "outpost-desktop")
}

/// `tauri-driver` on a free loopback port, with its own WebKitWebDriver port. The app it
/// starts inherits `env` (its data directory, for one).
pub struct Driver {
    pub port: u16,
    native: u16,
    child: ChildGuard,
}

impl Drop for Driver {
    /// tauri-driver does not take its WebKitWebDriver down when it is killed: end that one too
    /// (it is the only process listening on this driver's native port).
    fn drop(&mut self) {
        self.child.kill();
        let _ = Command::new("pkill")
            .args(["-f", &format!("WebKitWebDriver --port={} ", self.native)])
            .status();
    }
}

impl Driver {
    pub async fn start(env: &[(&str, &Path)], log_dir: &Path) -> Driver {
        let port = free_port();
        let native = free_port();
        let program = std::env::var_os("TAURI_DRIVER").map_or_else(
            || {
                let home = std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_default();
                let installed = home.join(".cargo/bin/tauri-driver");
                if installed.is_file() {
                    installed
                } else {
                    PathBuf::from("tauri-driver")
                }
            },
            PathBuf::from,
        );
        let mut command = Command::new(program);
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("RUST_LOG", "info");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = ChildGuard::spawn(command, "tauri-driver", log_dir);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = format!("http://127.0.0.1:{port}/status");
            if http.get(&url).send().await.is_ok() {
                break;
            }
            assert!(
                child.is_running() && Instant::now() < deadline,
                "tauri-driver did not start (is it installed? `cargo install tauri-driver --locked`; \
                 WebKitWebDriver from webkit2gtk-driver; a display from Xvfb):\n{}",
                tail(&child.stderr, 30)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver {
            port,
            native,
            child,
        }
    }

    pub fn log(&self) -> String {
        tail(&self.child.stderr, 40)
    }

    /// A session that starts the app.
    pub async fn session(&self, application: &Path) -> Session {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        let base = format!("http://127.0.0.1:{}", self.port);
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": { "application": application },
                }
            }
        });
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("create a WebDriver session")
            .json()
            .await
            .expect("a session answer");
        let id = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}\n{}", self.log()))
            .to_owned();
        Session {
            http,
            base: format!("{base}/session/{id}"),
        }
    }
}

/// An element reference.
#[derive(Debug, Clone)]
pub struct Element(String);

pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// A WebDriver error answer (`value.error`), e.g. "no such element".
#[derive(Debug)]
pub struct WdError(pub String);

impl Session {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WdError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| WdError(e.to_string()))?;
        let value: Value = response.json().await.map_err(|e| WdError(e.to_string()))?;
        match value["value"].get("error") {
            Some(error) => Err(WdError(format!(
                "{}: {}",
                error,
                value["value"]["message"].as_str().unwrap_or_default()
            ))),
            None => Ok(value["value"].clone()),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, WdError> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value, WdError> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Every element matching `css`, now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        match self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await
        {
            Ok(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v[ELEMENT].as_str().map(|s| Element(s.to_owned())))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The first element matching `css`, waiting up to `limit` for it to appear.
    pub async fn wait(&self, css: &str, limit: Duration) -> Element {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(first) = self.find_all(css).await.into_iter().next() {
                return first;
            }
            if Instant::now() >= deadline {
                let body = self.text_of_body().await;
                panic!("no element `{css}` after {limit:?}; the page shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` (a function body returning a value) returns something truthy.
    pub async fn wait_until(&self, what: &str, script: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(value) = self.script(script).await {
                let truthy = !matches!(value, Value::Null | Value::Bool(false))
                    && value != json!(0)
                    && value != json!("");
                if truthy {
                    return value;
                }
            }
            if Instant::now() >= deadline {
                let body = self.text_of_body().await;
                panic!("timed out after {limit:?} waiting for {what}; the page shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn text_of_body(&self) -> String {
        self.script("return document.body ? document.body.innerText : ''")
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub async fn click(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await
            .unwrap_or_else(|e| panic!("click: {e:?}"));
    }

    pub async fn clear(&self, element: &Element) {
        let _ = self
            .post(&format!("/element/{}/clear", element.0), json!({}))
            .await;
    }

    pub async fn type_text(&self, element: &Element, text: &str) {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await
        .unwrap_or_else(|e| panic!("type into an element: {e:?}"));
    }

    pub async fn text(&self, element: &Element) -> String {
        self.get(&format!("/element/{}/text", element.0))
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub async fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", element.0))
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// Runs `body` as a function in the page; returns its value.
    pub async fn script(&self, body: &str) -> Result<Value, WdError> {
        self.post("/execute/sync", json!({ "script": body, "args": [] }))
            .await
    }

    /// Runs `body` as an asynchronous function in the page: it calls `arguments[0](value)`
    /// when done. WebDriver's script timeout bounds it.
    pub async fn script_async(&self, body: &str) -> Result<Value, WdError> {
        self.post("/execute/async", json!({ "script": body, "args": [] }))
            .await
    }

    /// Sets the script timeout (milliseconds) for [`Session::script_async`].
    pub async fn set_script_timeout(&self, ms: u64) {
        let _ = self.post("/timeouts", json!({ "script": ms })).await;
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, path: &Path) {
        let data = self
            .get("/screenshot")
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e:?}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("a base64 screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("a screenshot directory");
        }
        std::fs::write(path, png).expect("write a screenshot");
    }

    /// Ends the session (the app is closed).
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
