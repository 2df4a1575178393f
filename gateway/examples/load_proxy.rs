//! A bare hyper 1 reverse proxy, the floor of proxy mode in `benches/gateway-load.sh`:
//! `load_proxy LISTEN UPSTREAM` forwards every request to `http://UPSTREAM` with hyper-util's
//! pooled legacy client and streams the answer back. No authentication, no header rewriting
//! beyond the URI.

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:18084".to_owned());
    let upstream = args.next().unwrap_or_else(|| "127.0.0.1:18081".to_owned());
    let client: Client<_, hyper::body::Incoming> =
        Client::builder(TokioExecutor::new()).build_http();
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "load_proxy listening on http://{} -> {upstream}",
        listener.local_addr()?
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let client = client.clone();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let service = service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                let client = client.clone();
                let upstream = upstream.clone();
                async move {
                    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                    let uri = format!("http://{upstream}{path}").parse::<http::Uri>();
                    let uri = uri.map_err(|e| e.to_string())?;
                    *req.uri_mut() = uri;
                    client.request(req).await.map_err(|e| e.to_string())
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
