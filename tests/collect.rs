//! `vigie collect` as a process: its help, a configuration it cannot run refused before it
//! connects, a clean stop on SIGTERM; and `vigie standalone` polling a feed of `--config` (served
//! on 127.0.0.1 by the test) over its in-process bus.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FEED: &[u8] = include_bytes!("../testdata/connectors/rss/rss2_news.xml");

/// A `vigie` process, killed when the test ends if it is still running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A configuration file in a directory of its own.
fn config(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vigie-collect-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vigie.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `GET path` on `addr`: the whole answer, or `None` when nothing listens yet.
fn get(addr: &str, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM and waits for the process to exit 0.
fn terminate(mut running: Running, log: &std::path::Path) {
    let child = &mut running.0;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            assert!(status.success(), "exited with {status} on SIGTERM:\n{log}");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(config: &std::path::Path, command: &str) -> (Running, std::path::PathBuf) {
    let log = config.with_file_name(format!("{command}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["--config", config.to_str().unwrap(), command])
        .env("VIGIE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("vigie runs");
    (Running(child), log)
}

#[test]
fn collect_has_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["collect", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("pull connectors") && help.contains("cursor"),
        "{help}"
    );
}

#[test]
fn a_connector_that_cannot_run_is_refused_before_connecting() {
    let path = config(
        "refused",
        "[kafka]\nbrokers = \"127.0.0.1:1\"\n[[connectors]]\nname = \"feed\"\ntype = \"rss\"\ntenant = \"acme\"\nurl = \"http://127.0.0.1:1/feed\"\nintervall = \"1m\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["--config", path.to_str().unwrap(), "collect"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("connectors[0] (feed).intervall: unknown key"),
        "{error}"
    );
}

#[test]
fn collect_serves_its_metrics_and_stops_on_sigterm() {
    // No broker answers here: the service still serves its metrics, and SIGTERM stops it.
    let metrics = format!("127.0.0.1:{}", free_port());
    let path = config(
        "sigterm",
        &format!(
            "[kafka]\nbrokers = \"127.0.0.1:{}\"\n[collect]\nmetrics_listen = \"{metrics}\"\n[[connectors]]\nname = \"feed\"\ntype = \"rss\"\ntenant = \"acme\"\nurl = \"http://127.0.0.1:1/feed\"\n",
            free_port()
        ),
    );
    let (running, log) = spawn(&path, "collect");
    wait_until("/healthz", || {
        get(&metrics, "/healthz").is_some_and(|a| a.ends_with("ok\n"))
    });
    terminate(running, &log);
}

/// Serves `FEED` to every request on 127.0.0.1 from a thread; returns the feed's URL.
fn serve_feed() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/news.xml", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nETag: \"n1\"\r\nConnection: close\r\n\r\n",
                FEED.len()
            );
            let _ = stream.write_all(FEED);
        }
    });
    url
}

#[test]
fn standalone_polls_the_feeds_of_its_configuration() {
    let http = format!("127.0.0.1:{}", free_port());
    let path = config(
        "standalone",
        &format!(
            "[ingest]\nhttp_listen = \"{http}\"\n[api]\ngrpc_listen = \"127.0.0.1:{}\"\n[[connectors]]\nname = \"quotidien\"\ntype = \"rss\"\ntenant = \"dev\"\nurl = \"{}\"\ninterval = \"1m\"\n",
            free_port(),
            serve_feed()
        ),
    );
    let (running, log) = spawn(&path, "standalone");
    let published = "vigie_connector_published_total{connector=\"quotidien\"} 3";
    wait_until("the feed's three items published", || {
        get(&http, "/metrics").is_some_and(|m| m.contains(published))
    });
    terminate(running, &log);
}
