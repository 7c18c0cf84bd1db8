//! Child processes: where the binaries are, a guard that SIGKILLs on drop, bounded waits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `<target>/<profile>`: test executables live in `<target>/<profile>/deps/`, and the binaries
/// of other workspace packages are placed one level up.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable lives in <target>/<profile>/deps")
        .to_owned()
}

pub(crate) fn binary(name: &str, package: &str) -> PathBuf {
    let path = profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p {package} --bins`, or run `make test`)",
        path.display()
    );
    path
}

/// The `outpost-server` binary next to the test executable.
pub fn server_bin() -> PathBuf {
    binary("outpost-server", "outpost-server")
}

/// The `outpost` CLI next to the test executable.
pub fn cli_bin() -> PathBuf {
    binary("outpost", "outpost-client")
}

/// A child process that is killed (SIGKILL) and reaped when dropped.
pub struct ChildGuard {
    name: String,
    child: Option<Child>,
    /// Where its standard error goes (shown when a test fails).
    pub stderr: PathBuf,
    pub stdout: PathBuf,
}

impl ChildGuard {
    /// Starts `command` with standard output and error in `<dir>/<name>.out` / `.err`.
    pub fn spawn(mut command: Command, name: &str, dir: &Path) -> ChildGuard {
        let stdout = dir.join(format!("{name}.out"));
        let stderr = dir.join(format!("{name}.err"));
        command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("create stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("create stderr file"));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        ChildGuard {
            name: name.to_owned(),
            child: Some(child),
            stderr,
            stdout,
        }
    }

    /// SIGKILL (no chance to clean up) and reap. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The exit status if the process has ended (reaping it), without waiting.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                Some(status)
            }
            _ => None,
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.is_some() && self.try_wait().is_none()
    }

    /// Waits up to `limit` for the process to end; `None` if it is still running.
    pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            self.child.as_ref()?;
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn errors(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs a command to completion (at most `limit`) and returns its standard output; panics with
/// its standard error when it fails or takes too long.
pub fn run_to_end(command: Command, name: &str, dir: &Path, limit: Duration) -> String {
    let mut child = ChildGuard::spawn(command, name, dir);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait() {
            break status;
        }
        if Instant::now() >= deadline {
            child.kill();
            panic!(
                "{name} took more than {limit:?}; stderr:\n{}",
                child.errors()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "{name} failed ({status}); stderr:\n{}",
        child.errors()
    );
    child.output()
}

/// The last `lines` lines of a file, for failure reports.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
