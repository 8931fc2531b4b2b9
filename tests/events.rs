//! Replays every file of `events/` in name order against a fresh embedded store, through
//! the same conversion the Lambda runtime applies, and checks the status its name ends with.

mod common;

use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;

fn expected_status(name: &str) -> u16 {
    let stem = name.trim_end_matches(".json");
    stem.rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no status"))
}

#[tokio::test]
async fn every_sample_event_answers_the_status_its_name_gives() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "events/ holds the sample events");
    let app = common::router(common::memory_store());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let request =
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Body::from(body.to_vec()));
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let request_id = response.headers().get("x-request-id").cloned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            status,
            expected_status(&name),
            "{name}: {}",
            String::from_utf8_lossy(&bytes)
        );
        let event_id = name[..2].to_owned();
        assert_eq!(
            request_id.unwrap(),
            format!("event-{event_id}").as_str(),
            "{name}: X-Request-Id"
        );
    }
}
