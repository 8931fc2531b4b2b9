//! What the HTTPS client's trust roots cost to load, by each way of loading them.
//!
//! The SDK's client loads the platform's trust store once per process, lazily, when it opens
//! its first connection (a `LazyLock` in `aws-smithy-http-client`), so the cost lands in the
//! first request, not in init. The alternative is a compiled-in set: Amazon Trust Services'
//! five roots, which every AWS endpoint chains to.

use std::time::Instant;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Amazon Root CA 1–4 and Starfield Services Root G2, as Debian's ca-certificates ships them.
const AMAZON_ROOTS: &str = include_str!("../../src/store/dynamo/certs/amazon-roots.pem");

/// Prints both ways, median of 5 loads each (the first platform load is reported apart: it
/// reads the files cold, as a fresh Lambda sandbox does).
pub fn report() {
    let (cold, native_count) = timed(|| rustls_native_certs::load_native_certs().certs.len());
    let warm = median_of(5, || rustls_native_certs::load_native_certs().certs.len());
    let (_, amazon_count) = timed(parse_amazon);
    let compiled = median_of(5, parse_amazon);
    println!("\ntrust roots, loaded once per process at the first HTTPS connection:");
    println!("| way | certificates | first load | later loads (median) |");
    println!("|---|---|---|---|");
    println!("| platform store (SDK default) | {native_count} | {cold:.2} ms | {warm:.2} ms |");
    println!("| compiled-in Amazon roots | {amazon_count} | — | {compiled:.3} ms |");
}

fn parse_amazon() -> usize {
    CertificateDer::pem_slice_iter(AMAZON_ROOTS.as_bytes())
        .filter_map(Result::ok)
        .count()
}

fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed().as_secs_f64() * 1000.0, out)
}

fn median_of(n: usize, f: impl Fn() -> usize) -> f64 {
    let times: Vec<f64> = (0..n).map(|_| timed(&f).0).collect();
    super::median(&times)
}
