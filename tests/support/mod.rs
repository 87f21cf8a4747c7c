//! Test support: a scripted HTTP server on 127.0.0.1:0 that records every request and
//! answers from a queue of canned replies, plus raw-socket helpers for refused and dropped
//! connections.

#![allow(dead_code)]

pub mod trace;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A canned reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
    /// How long the server waits before answering (a stimulus: a slow server).
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: body.to_string().into_bytes(),
            headers: vec![],
            delay: Duration::ZERO,
        }
    }
    pub fn problem(status: u16, title: &str, detail: &str) -> Reply {
        let body = serde_json::json!({"type": "about:blank", "title": title, "status": status, "detail": detail});
        Reply {
            status,
            content_type: "application/problem+json",
            body: body.to_string().into_bytes(),
            headers: vec![],
            delay: Duration::ZERO,
        }
    }
    pub fn raw(status: u16, content_type: &'static str, body: &str) -> Reply {
        Reply {
            status,
            content_type,
            body: body.as_bytes().to_vec(),
            headers: vec![],
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
    /// Answers only after `delay`, like a slow server.
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct State {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

/// The scripted server.
pub struct Scripted {
    pub base_url: String,
    state: Arc<State>,
}

impl Scripted {
    pub async fn start() -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(State::default());
        let handler_state = state.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let state = handler_state.clone();
            async move { answer(state, req).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Scripted { base_url, state }
    }

    /// Queues a reply; replies are used in order.
    pub fn reply(&self, reply: Reply) -> &Scripted {
        self.state.replies.lock().unwrap().push_back(reply);
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn client(&self) -> geopera::AuthenticatedClient {
        geopera::AuthenticatedClient::builder()
            .base_url(&self.base_url)
            .token("test-token-123")
            .retry_policy(geopera::RetryPolicy::disabled())
            .build()
            .expect("client")
    }
}

async fn answer(state: Arc<State>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    state.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body: body.to_vec(),
    });
    let reply = state.replies.lock().unwrap().pop_front();
    let reply = reply.unwrap_or_else(|| Reply::raw(599, "text/plain", "no scripted reply"));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap())
        .header("content-type", reply.content_type);
    for (name, value) in reply.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(reply.body)).unwrap()
}

/// A base URL on which nothing listens.
pub async fn refused_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// A server that reads one request, sends `head_and_partial_body`, then closes.
pub async fn dropping_server(head_and_partial_body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(head_and_partial_body.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}")
}

/// A server whose first answer is lost: it reads each request whole, closes the first
/// connection without answering (as when a response is lost after the server acted), and
/// answers every later request with `status` and the JSON `body`. Returns its base URL and
/// the number of requests it has read.
pub async fn losing_first_answer(
    status: u16,
    body: serde_json::Value,
) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let body = body.to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            if !read_request(&mut socket).await {
                continue;
            }
            if counter.fetch_add(1, Ordering::SeqCst) > 0 {
                let answer = format!(
                    "HTTP/1.1 {status} Answer\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
            let _ = socket.shutdown().await;
        }
    });
    (format!("http://{addr}"), seen)
}

/// Reads one HTTP/1.1 request, head and `content-length` body; `false` if it breaks off.
async fn read_request(socket: &mut tokio::net::TcpStream) -> bool {
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return true;
            }
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}
