//! A stand-in for an SMS or Zalo gateway: a real HTTP server on a free port that records every request and
//! answers with a status and body the test sets (and may change while the app runs).

use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// One request the gateway received: its headers (lower-case names) and JSON body.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    answer: Mutex<(u16, Value)>,
}

pub struct Gateway {
    pub url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl Gateway {
    /// A gateway answering `200 {"error": 0}` (what ZNS says on success; an SMS gateway reads only the status).
    pub async fn start() -> Gateway {
        let shared = Arc::new(Shared::default());
        *shared.answer.lock().expect("answer") = (200, json!({"error": 0, "message": "Success"}));
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(record)))
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("gateway binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Gateway { url: format!("http://127.0.0.1:{port}/send"), shared, handle }
    }

    /// From now on, answer `status` with `body`.
    pub fn answer(&self, status: u16, body: Value) {
        *self.shared.answer.lock().expect("answer") = (status, body);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("received").clone()
    }

    /// The texts sent to `phone` (E.164), in order.
    pub fn texts_to(&self, phone: &str) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| r.body["to"] == phone)
            .map(|r| r.body["text"].as_str().expect("text").to_owned())
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn record(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.received.lock().expect("received").push(Received { headers, body });
    let (status, answer) = shared.answer.lock().expect("answer").clone();
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status")).json(answer)
}
