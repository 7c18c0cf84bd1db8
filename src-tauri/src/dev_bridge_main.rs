//! `outpost-dev-bridge`: the Desk and the app's commands over loopback HTTP for the browser
//! preview (`make dev` starts it with a demo server and vite, which proxies `/cmd` to it). A
//! development tool: it is built only with the `dev-bridge` feature and never packaged.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use outpost_client::desk::{Desk, DeskConfig};
use outpost_client::vault::Vault;
use outpost_desktop::shell::Shell;

#[derive(Parser, Debug)]
#[command(
    name = "outpost-dev-bridge",
    about = "The Outpost desktop commands over loopback HTTP, for the browser preview"
)]
struct Cli {
    /// Where to listen: a loopback address only.
    #[arg(long, env = "OUTPOST_BRIDGE_BIND", default_value = "127.0.0.1:1421")]
    bind: SocketAddr,
    /// Where profiles, caches and settings live. Required: a development profile should not
    /// share the desktop app's own directory.
    #[arg(long, env = "OUTPOST_DATA_DIR")]
    data_dir: PathBuf,
    /// Sign in to this server at start (with --email; the password from OUTPOST_PASSWORD, the
    /// passphrase, when there is no keychain, from OUTPOST_PASSPHRASE).
    #[arg(long, env = "OUTPOST_SERVER", requires = "email")]
    server: Option<String>,
    #[arg(long, env = "OUTPOST_EMAIL", requires = "server")]
    email: Option<String>,
}

#[tokio::main]
async fn main() {
    outpost_desktop::STARTED.get_or_init(std::time::Instant::now);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTPOST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    if !cli.bind.ip().is_loopback() {
        eprintln!(
            "outpost-dev-bridge: {} is not a loopback address; the bridge serves this machine only",
            cli.bind
        );
        std::process::exit(2);
    }
    let listener = match tokio::net::TcpListener::bind(cli.bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("outpost-dev-bridge: cannot listen on {}: {e}", cli.bind);
            std::process::exit(1);
        }
    };
    let desk = Desk::new(
        Vault::system(),
        DeskConfig {
            data_dir: cli.data_dir,
            ca_pem: None,
        },
    );
    let shell = Shell::new(desk);
    let idle = shell.clone();
    tokio::spawn(async move { idle.idle_loop().await });
    let start = shell.clone();
    let sign_in = cli.server.zip(cli.email);
    tokio::spawn(async move { start.start(sign_in).await });
    eprintln!("outpost-dev-bridge: listening on http://{}", cli.bind);
    if let Err(e) = outpost_desktop::dev_bridge::serve(listener, shell).await {
        eprintln!("outpost-dev-bridge: {e}");
        std::process::exit(1);
    }
}
