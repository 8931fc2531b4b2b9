//! The function links one TLS stack: `ring` (and with it rustls 0.21 and hyper 0.14, which
//! the SDK's legacy `rustls` feature brings) must not come back into the normal tree.

use std::process::Command;

/// The targets the function ships for: Lambda's x86_64 and arm64 Linux. Asking about every
/// target (`--target all`) needs crates that no build here downloads (Android's, Windows'),
/// so `--offline` would fail on a fresh machine's cargo cache.
const SHIPPED_TARGETS: [&str; 2] = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

/// The crates in the normal (non-dev, non-build) dependency tree, for the shipped targets.
fn normal_tree() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--target",
            SHIPPED_TARGETS[0],
            "--target",
            SHIPPED_TARGETS[1],
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn one_tls_stack_and_no_unused_sdk_clients() {
    let tree = normal_tree();
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(
        crates.contains(&"rustls"),
        "the HTTPS client is still rustls:\n{tree}"
    );
    for banned in ["ring", "aws-config", "aws-sdk-sts", "aws-sdk-sso"] {
        assert!(
            !crates.contains(&banned),
            "{banned} is back in the normal dependency tree"
        );
    }
    let versions = |name: &str| {
        let mut v: Vec<&str> = tree
            .lines()
            .filter(|l| l.split(' ').next() == Some(name))
            .filter_map(|l| l.split(' ').nth(1))
            .collect();
        v.sort();
        v.dedup();
        v.len()
    };
    for one in ["rustls", "hyper", "hyper-rustls", "http-body"] {
        assert_eq!(
            versions(one),
            1,
            "two versions of {one} in the tree:\n{tree}"
        );
    }
}
