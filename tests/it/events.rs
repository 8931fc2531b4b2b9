//! Replays every file of `events/` in name order against a fresh embedded store, through
//! the same conversion the Lambda runtime applies, and checks the status its name ends with.
//! (`events/stream/` holds the stream handler's samples: `change_events.rs` replays them.)

use crate::common;

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
        .filter(|p| p.is_file())
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

/// One request of `requests.http`: its status, method, path, headers and body.
struct HttpRequest {
    expect: u16,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// Parses the collection: `###` separates requests, `@name = value` defines variables.
fn parse_collection(text: &str) -> Vec<HttpRequest> {
    let mut vars = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some((name, value)) = line.strip_prefix('@').and_then(|l| l.split_once('=')) {
            vars.insert(format!("{{{{{}}}}}", name.trim()), value.trim().to_owned());
        }
    }
    let expand = |s: &str| vars.iter().fold(s.to_owned(), |s, (k, v)| s.replace(k, v));
    text.split("\n###")
        .skip(1)
        .map(|block| {
            let mut lines = block.lines().skip(1);
            let mut expect = 0;
            let request_line = lines
                .by_ref()
                .find(|l| {
                    if let Some(e) = l.strip_prefix("# expect:") {
                        expect = e.trim().parse().unwrap();
                    }
                    !l.starts_with('#') && !l.trim().is_empty()
                })
                .expect("a request line");
            let (method, url) = request_line.split_once(' ').unwrap();
            let url = expand(url);
            let path = url.trim_start_matches("http://localhost:9000").to_owned();
            let mut headers = Vec::new();
            for line in lines.by_ref() {
                let Some((k, v)) = line.split_once(": ") else {
                    break;
                };
                headers.push((k.to_owned(), expand(v)));
            }
            let body = lines.collect::<Vec<_>>().join("\n").trim().to_owned();
            HttpRequest {
                expect,
                method: method.to_owned(),
                path,
                headers,
                body,
            }
        })
        .collect()
}

#[tokio::test]
async fn the_request_collection_answers_as_it_says() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/requests.http")).unwrap();
    let requests = parse_collection(&text);
    assert!(
        requests.len() >= 10,
        "requests.http holds the README's examples"
    );
    let app = common::router(common::memory_store());
    for r in requests {
        let headers: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = (!r.body.is_empty()).then_some(r.body.as_str());
        let answer = common::send(&app, &r.method, &r.path, &headers, body).await;
        assert_eq!(
            answer.status.as_u16(),
            r.expect,
            "{} {}: {}",
            r.method,
            r.path,
            answer.text
        );
    }
}
