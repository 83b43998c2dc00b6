//! Hostile uploads through the real HTTP stack: multipart forms built from a valid photo upload and then
//! mutated (cut short, bytes flipped, boundaries broken, other field names and content types). Whatever
//! arrives, the answer is a 2xx or a 4xx problem, never a 5xx, and the service keeps answering. Bounded:
//! 96 cases per run (`PROPTEST_CASES` raises it).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::helpers::{TestApp, WARD_BUON_MA_THUOT, photo_form};
use nongsan::media::sample;

/// How a valid upload is spoiled.
#[derive(Debug, Clone)]
struct Spoiled {
    cut: Option<usize>,
    flips: Vec<(usize, u8)>,
    field: &'static str,
    content_type: u8,
}

fn spoiled() -> impl Strategy<Value = Spoiled> {
    (
        proptest::option::of(any::<usize>()),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..16),
        prop::sample::select(vec!["photo", "file", "", "photo\"; filename=\"x", "ảnh"]),
        0u8..5,
    )
        .prop_map(|(cut, flips, field, content_type)| Spoiled { cut, flips, field, content_type })
}

fn body_of(photo: &[u8], spoil: &Spoiled) -> (String, Vec<u8>) {
    let (content_type, mut body) = photo_form(photo, "IMG_0001.jpg");
    let body_text = String::from_utf8_lossy(&body[..120.min(body.len())])
        .replace("name=\"photo\"", &format!("name=\"{}\"", spoil.field));
    body.splice(..120.min(body.len()), body_text.into_bytes());
    for (at, byte) in &spoil.flips {
        let len = body.len();
        body[at % len] = *byte;
    }
    if let Some(cut) = spoil.cut {
        body.truncate(cut % (body.len() + 1));
    }
    let content_type = match spoil.content_type {
        0 => content_type,
        1 => "multipart/form-data".to_owned(),
        2 => "multipart/form-data; boundary=".to_owned(),
        3 => "multipart/form-data; boundary=not-the-boundary".to_owned(),
        _ => "image/jpeg".to_owned(),
    };
    (content_type, body)
}

#[test]
fn mutated_photo_uploads_never_get_a_5xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let app = runtime.block_on(TestApp::sqlite());
    let token = runtime.block_on(app.farmer(WARD_BUON_MA_THUOT)).token;
    let photo = sample::demo_photo(320, 240, 5);
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(96);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let outcome = runner.run(&spoiled(), |spoil| {
        let (content_type, body) = body_of(&photo, &spoil);
        let (status, answer_type) = runtime.block_on(async {
            let answer = app
                .request("POST", "/api/v1/media", Some(&token))
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .expect("sent");
            let answer_type = answer.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
            (answer.status().as_u16(), answer_type)
        });
        prop_assert!(status < 500, "{status} for {spoil:?}");
        if status >= 400 {
            prop_assert_eq!(answer_type.as_deref(), Some("application/problem+json"), "{:?}", spoil);
        }
        Ok(())
    });
    let healthy = runtime.block_on(async { app.get("/healthz").await.status().as_u16() });
    runtime.block_on(async move { drop(app) });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    assert_eq!(healthy, 200, "still answering");
}
