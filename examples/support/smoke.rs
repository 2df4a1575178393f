//! The self-check (`--smoke`) helpers the server examples share: a client that signs with the
//! crate's `SignSigV4Layer`, and a check of one exchange. Not an example itself (cargo builds
//! only `examples/*.rs`); each example includes it with `#[path = "support/smoke.rs"] mod smoke;`.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_sigv4::{Credentials, SignError, SignSigV4Layer, Signer};

/// The error type of the examples.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

/// A hyper-util client that signs every request with the crate's `SignSigV4Layer`.
pub(crate) fn signing_client(
    key: &str,
    secret: &str,
) -> impl Service<Request<Full<Bytes>>, Response = Response<Incoming>, Error = SignError> + Clone {
    let signer = Signer::new(Credentials::new(key, secret), REGION, SERVICE);
    ServiceBuilder::new()
        .layer(SignSigV4Layer::new(signer))
        .service(Client::builder(TokioExecutor::new()).build_http())
}

/// Sends `request` with `client`; fails unless the answer is `status` with exactly `body`.
pub(crate) async fn check<S>(
    what: &str,
    client: S,
    request: Request<Full<Bytes>>,
    status: u16,
    body: &str,
) -> Result<(), BoxError>
where
    S: Service<Request<Full<Bytes>>, Response = Response<Incoming>>,
    S::Error: Into<BoxError>,
{
    let response = client.oneshot(request).await.map_err(Into::into)?;
    let got_status = response.status();
    let got_body = response.into_body().collect().await?.to_bytes();
    if got_status != StatusCode::from_u16(status)? || got_body != body.as_bytes() {
        return Err(format!(
            "{what}: expected {status} {body:?}, got {got_status} {:?}",
            String::from_utf8_lossy(&got_body)
        )
        .into());
    }
    println!("{}", format!("ok  {what}: {status} {body}").trim_end());
    Ok(())
}
