//! A bare hyper 1 "hello" server, the floor of echo mode in `benches/gateway-load.sh`:
//! `load_hello ADDR` answers every request `200 hello` over HTTP/1.1 keep-alive, on the same
//! multi-thread tokio runtime the gateway uses. No authentication, no routing.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18083".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("load_hello listening on http://{}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_req| async {
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"hello"))))
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
