//! A TCP proxy between Chromium and the service: it counts the bytes the service sends (what goes over the air,
//! for the page-weight benchmark), and its connection can be cut and given back (a phone losing its network:
//! every request fails, the service worker's included).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Default)]
struct Line {
    received: AtomicU64,
    cut: AtomicBool,
    /// The copying tasks of the open connections, ended when the line is cut.
    open: Mutex<Vec<AbortHandle>>,
}

pub struct Proxy {
    pub address: String,
    line: Arc<Line>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let address = format!("http://{}", listener.local_addr().expect("proxy address"));
        let line = Arc::new(Line::default());
        let shared = line.clone();
        tokio::spawn(async move {
            while let Ok((browser_side, _)) = listener.accept().await {
                if shared.cut.load(Ordering::SeqCst) {
                    continue; // dropped: the browser sees the connection closed
                }
                let Ok(service_side) = TcpStream::connect(&upstream).await else { continue };
                let (mut from_browser, mut to_browser) = browser_side.into_split();
                let (mut from_service, mut to_service) = service_side.into_split();
                let counter = shared.clone();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_browser, &mut to_service).await;
                    let _ = to_service.shutdown().await;
                });
                let down = tokio::spawn(async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(read) = from_service.read(&mut buffer).await {
                        if read == 0 || to_browser.write_all(&buffer[..read]).await.is_err() {
                            break;
                        }
                        counter.received.fetch_add(read as u64, Ordering::SeqCst);
                    }
                });
                let mut open = shared.open.lock().expect("open connections");
                open.retain(|task| !task.is_finished());
                open.extend([up.abort_handle(), down.abort_handle()]);
            }
        });
        Proxy { address, line }
    }

    /// The network is gone: open connections are closed and new ones refused.
    pub fn cut(&self) {
        self.line.cut.store(true, Ordering::SeqCst);
        self.line.open.lock().expect("open connections").drain(..).for_each(|task| task.abort());
    }

    /// The network is back.
    pub fn restore(&self) {
        self.line.cut.store(false, Ordering::SeqCst);
    }

    pub fn received(&self) -> u64 {
        self.line.received.load(Ordering::SeqCst)
    }

    /// Bytes sent since `since` until the network has been quiet for a second (at most 15 s).
    pub async fn settle(&self, since: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = self.received();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.received();
            if now == last || Instant::now() > deadline {
                return now - since;
            }
            last = now;
        }
    }
}
