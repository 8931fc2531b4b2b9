//! The baseline of the cold-start benchmark: `cargo lambda new`'s HTTP hello-world, built with
//! the same profile and `lambda_http` features as the service. (The template calls
//! `lambda_http::tracing::init_default_subscriber()`, which the service's features leave
//! out; this sets up the same plain subscriber.)

use lambda_http::{run, service_fn, Body, Error, Request, Response};

async fn handler(_request: Request) -> Result<Response<Body>, Error> {
    let response = Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body("Hello world, this is an AWS Lambda HTTP request".into())
        .map_err(Box::new)?;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .without_time()
        .init();
    run(service_fn(handler)).await
}
