//! The desktop suite's WebDriver side: `tauri-driver` in front of Debian's WebKitWebDriver,
//! driving the real `outpost-desktop` binary (its front end embedded), through the fantoccini
//! client. `Session` keeps to what the scenarios use (CSS lookups, clicks, typing, text,
//! attributes, scripts, screenshots) and bounds every wait and every command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::process::{tail, ChildGuard};
use crate::server::free_port;

/// Longest a single WebDriver command may take (a session start launches the app).
const COMMAND_LIMIT: Duration = Duration::from_secs(120);

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
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("wry"));
        capabilities.insert(
            "tauri:options".into(),
            json!({ "application": application }),
        );
        // The driver is on loopback: plain HTTP, no TLS stack.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = within(
            "create a WebDriver session",
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{}", self.port)),
        )
        .await
        .unwrap_or_else(|e| panic!("no session: {e:?}\n{}", self.log()));
        Session { client }
    }
}

/// An element reference.
#[derive(Debug, Clone)]
pub struct Element(fantoccini::elements::Element);

pub struct Session {
    client: fantoccini::Client,
}

/// A WebDriver error answer (e.g. "no such element"), or a command that took too long.
#[derive(Debug)]
pub struct WdError(pub String);

/// Runs one WebDriver command, bounded by [`COMMAND_LIMIT`].
async fn within<T, E: std::fmt::Display>(
    what: &str,
    command: impl std::future::IntoFuture<Output = Result<T, E>>,
) -> Result<T, WdError> {
    match tokio::time::timeout(COMMAND_LIMIT, command.into_future()).await {
        Ok(result) => result.map_err(|e| WdError(format!("{what}: {e}"))),
        Err(_) => Err(WdError(format!("{what}: no answer in {COMMAND_LIMIT:?}"))),
    }
}

impl Session {
    /// Every element matching `css`, now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        within("find elements", self.client.find_all(Locator::Css(css)))
            .await
            .map(|found| found.into_iter().map(Element).collect())
            .unwrap_or_default()
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
        within("click", element.0.click())
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }

    pub async fn clear(&self, element: &Element) {
        let _ = within("clear", element.0.clear()).await;
    }

    pub async fn type_text(&self, element: &Element, text: &str) {
        within("type into an element", element.0.send_keys(text))
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }

    /// W3C "Element Send Keys" on an `<input type=file>`: the files' absolute paths, one per
    /// line (several only if the input is `multiple`). The driver sets the input's files as a
    /// picker would and the page gets its `input` and `change` events; no dialog opens.
    pub async fn send_files(&self, input: &Element, files: &[&Path]) -> Result<(), WdError> {
        let paths = files
            .iter()
            .map(|f| {
                assert!(f.is_absolute(), "{} is not absolute", f.display());
                f.to_str()
                    .unwrap_or_else(|| panic!("{} is not UTF-8", f.display()))
            })
            .collect::<Vec<_>>()
            .join("\n");
        within("send files to a file input", input.0.send_keys(&paths)).await
    }

    /// Every element matching `css` inside `parent`, now.
    pub async fn find_in(&self, parent: &Element, css: &str) -> Vec<Element> {
        within("find elements", parent.0.find_all(Locator::Css(css)))
            .await
            .map(|found| found.into_iter().map(Element).collect())
            .unwrap_or_default()
    }

    pub async fn text(&self, element: &Element) -> String {
        within("text", element.0.text()).await.unwrap_or_default()
    }

    pub async fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        within("attribute", element.0.attr(name))
            .await
            .ok()
            .flatten()
    }

    /// Runs `body` as a function in the page; returns its value.
    pub async fn script(&self, body: &str) -> Result<Value, WdError> {
        within("script", self.client.execute(body, Vec::new())).await
    }

    /// Runs `body` as an asynchronous function in the page: it calls `arguments[0](value)`
    /// when done. WebDriver's script timeout bounds it.
    pub async fn script_async(&self, body: &str) -> Result<Value, WdError> {
        within("script", self.client.execute_async(body, Vec::new())).await
    }

    /// Sets the script timeout (milliseconds) for [`Session::script_async`].
    pub async fn set_script_timeout(&self, ms: u64) {
        let timeouts = TimeoutConfiguration::new(Some(Duration::from_millis(ms)), None, None);
        let _ = within("set timeouts", self.client.update_timeouts(timeouts)).await;
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, path: &Path) {
        let png = within("screenshot", self.client.screenshot())
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("a screenshot directory");
        }
        std::fs::write(path, png).expect("write a screenshot");
    }

    /// Ends the session (the app is closed).
    pub async fn quit(self) {
        let _ = within("end the session", self.client.close()).await;
    }
}
