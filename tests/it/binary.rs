//! The built `users-api` binary, started as Lambda starts it.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary against a Runtime API address nothing listens on, so it starts, logs what
/// it logs at start, and fails its first poll; returns stdout and stderr.
fn start_output(extra_env: &[(&str, &str)]) -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let mut child = Command::new(env!("CARGO_BIN_EXE_users-api"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "users-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/users-api")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("STORE", "memory")
        .env(
            "API_KEYS",
            "dev-read:read:bb22af3bbb7413af1d7c8f58b0a8c03350ab86a93e30cb92eb5021f477294ace",
        )
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn a_start_under_the_emulators_concurrency_setting_is_quiet() {
    let out = start_output(&[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    assert!(out.contains("Connect"), "it got as far as polling: {out}");
    assert!(
        !out.contains("AWS_LAMBDA_MAX_CONCURRENCY"),
        "no concurrency warning at start: {out}"
    );
    assert!(!out.contains("API_KEYS is empty"), "{out}");
}
