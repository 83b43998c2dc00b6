//! The tools under the browser tests: Debian's Chromium and one `chromedriver` for the whole test binary, started
//! on a free port the first time a browser test asks for it and shared by every test after. It is started
//! through a small shell that ends it when the test binary goes away (the shell reads the binary's end of a
//! pipe and kills the driver at end of file), so no driver outlives `cargo test`, even a killed one.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::Value;

/// Where the browser tests keep what they collect (the driver's log, each session's console).
pub fn log_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).expect("browser log directory");
    dir
}

/// The browser and its driver, found on this machine.
#[derive(Clone, Debug)]
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// `NONGSAN_BROWSER_TESTS=require` (CI): a missing tool fails the test rather than skipping it.
pub fn required() -> bool {
    std::env::var("NONGSAN_BROWSER_TESTS").is_ok_and(|value| value == "require")
}

/// The tools, or why the browser tests cannot run here (`NONGSAN_BROWSER_TESTS=skip`, or a tool missing).
pub fn tools() -> Result<Tools, String> {
    if std::env::var("NONGSAN_BROWSER_TESTS").is_ok_and(|value| value == "skip") {
        return Err("NONGSAN_BROWSER_TESTS=skip".to_owned());
    }
    let chromium = tool("NONGSAN_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])
        .ok_or("no Chromium on this machine (apt-get install chromium chromium-driver, or set NONGSAN_CHROMIUM)")?;
    let chromedriver = tool("NONGSAN_CHROMEDRIVER", &["chromedriver"])
        .ok_or("no chromedriver on this machine (apt-get install chromium-driver, or set NONGSAN_CHROMEDRIVER)")?;
    Ok(Tools { chromium, chromedriver })
}

/// The path in `variable`, else the first of `names` found on the `PATH`.
fn tool(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).filter(|path| !path.is_empty()) {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    let dirs = std::env::var_os("PATH")?;
    names.iter().find_map(|name| std::env::split_paths(&dirs).map(|dir| dir.join(name)).find(|path| path.is_file()))
}

/// The running driver: its address, the process, and the pipe whose closing ends it.
struct Driver {
    address: String,
    _process: Child,
    _lifeline: ChildStdin,
}

static DRIVER: OnceLock<Mutex<Option<Driver>>> = OnceLock::new();

/// The address (`http://127.0.0.1:port/`) of the shared chromedriver, started on first use.
pub fn driver_address(tools: &Tools) -> String {
    let mut driver = DRIVER.get_or_init(|| Mutex::new(None)).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(driver) = driver.as_ref() {
        return driver.address.clone();
    }
    let started = start_driver(tools);
    let address = started.address.clone();
    *driver = Some(started);
    address
}

fn start_driver(tools: &Tools) -> Driver {
    let port = crate::helpers::port_for_a_later_server();
    let log = log_dir().join("chromedriver.log");
    // `sh` runs the driver in the background (its standard input is then /dev/null) and waits for the end of
    // its own standard input, the test binary's pipe: when the binary exits, the driver is ended.
    let mut process = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" --port="$1" --log-path="$2" --log-level=INFO & driver=$!; cat >/dev/null; kill "$driver""#)
        .arg(&tools.chromedriver)
        .arg(port.to_string())
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let lifeline = process.stdin.take().expect("the driver's lifeline");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within 20 s; see {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { address: format!("http://127.0.0.1:{port}/"), _process: process, _lifeline: lifeline }
}

/// Ends a WebDriver session (and its Chromium) from a destructor: a plain blocking request, so it works while
/// a failed test unwinds and its runtime is going away.
pub fn delete_session(driver_address: &str, session_id: &str) {
    let host = driver_address.trim_start_matches("http://").trim_end_matches('/');
    let Ok(mut stream) = TcpStream::connect(host) else { return };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    let request = format!(
        "DELETE /session/{session_id} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

/// A chromedriver command outside the W3C set, on the current session: `se/log` (the console), and
/// `goog/cdp/execute` (a DevTools protocol command).
#[derive(Debug)]
pub struct SessionCommand {
    pub path: &'static str,
    pub body: Value,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/{}", session_id.unwrap_or_default(), self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}
