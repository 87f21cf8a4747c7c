//! HTTP/1.x over a plain `TcpStream`, for tests that control exactly what reaches the server:
//! the request line and `Host`, when (and whether) a body arrives, and what happens to the
//! connection afterwards. Every read is bounded by [`WAIT`] so a server that never answers
//! fails the test instead of hanging it.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest a test waits for the server to answer or close.
pub const WAIT: Duration = Duration::from_secs(5);

/// One response read off the wire.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    pub status: u16,
    /// Lower-cased names, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the response says `Connection: close`.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// A client connection that reads responses itself.
pub struct RawConn {
    stream: TcpStream,
    /// Bytes read past the end of the last response.
    buffered: Vec<u8>,
}

impl RawConn {
    /// Connects to `addr` (`host:port`).
    pub async fn connect(addr: &str) -> RawConn {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect within the wait")
            .expect("connect");
        RawConn {
            stream,
            buffered: Vec::new(),
        }
    }

    /// Writes `bytes` as they are.
    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .write_all(bytes.as_ref())
            .await
            .expect("write to the server");
        self.stream.flush().await.expect("flush");
    }

    /// Reads one response (head and `Content-Length` body), waiting at most [`WAIT`].
    pub async fn response(&mut self) -> RawResponse {
        self.response_within(WAIT)
            .await
            .expect("the server answers within the wait")
    }

    /// Reads one response, or `None` when none starts arriving within `wait`.
    pub async fn response_within(&mut self, wait: Duration) -> Option<RawResponse> {
        tokio::time::timeout(wait, self.read_response()).await.ok()
    }

    async fn read_response(&mut self) -> RawResponse {
        let head_end = loop {
            if let Some(at) = find(&self.buffered, b"\r\n\r\n") {
                break at;
            }
            self.fill().await;
        };
        let head = String::from_utf8_lossy(&self.buffered[..head_end]).into_owned();
        self.buffered.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_owned();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut response = RawResponse {
            status_line,
            status,
            headers,
            body: Vec::new(),
        };
        if (100..200).contains(&status) {
            return response;
        }
        let length: usize = response
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while self.buffered.len() < length {
            self.fill().await;
        }
        response.body = self.buffered.drain(..length).collect();
        response
    }

    /// Reads more bytes; panics on EOF or error (a response was expected).
    async fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .expect("read from the server");
        assert!(
            n > 0,
            "the server closed the connection mid-response; read so far: {:?}",
            String::from_utf8_lossy(&self.buffered)
        );
        self.buffered.extend_from_slice(&chunk[..n]);
    }

    /// Whether the server closes the connection (EOF or reset) within [`WAIT`], after any
    /// bytes already buffered; `false` if it stays open or sends more.
    pub async fn closed_by_server(&mut self) -> bool {
        if !self.buffered.is_empty() {
            return false;
        }
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout(WAIT, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) | Err(_) => false,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// `host:port` of a base URL such as `http://127.0.0.1:8787`.
pub fn authority(base_url: &str) -> &str {
    base_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
}

/// The path and query of an absolute URL (`/storage/…?…`).
pub fn path_and_query(url: &str) -> &str {
    let rest = url.trim_start_matches("http://");
    rest.find('/').map_or("/", |at| &rest[at..])
}
