//! The HTTP/1.1 connections to the upstream: kept open and reused, last in first out.
//!
//! One upstream, so no keys: an idle list of hyper's `SendRequest` handles, each over a
//! connection whose task runs on the runtime. A connection goes back to the list when the
//! response body it carried has been read to its end (a body dropped half-read closes the
//! connection, as HTTP/1.1 requires). A request takes the newest idle connection that is ready;
//! one that is not yet (its task has not noticed the end of the last exchange) is passed over
//! and kept; with none ready a new connection is opened. A request that a connection closed
//! before writing is sent again once, on a new connection (as hyper-util's client does).
//!
//! Compared with hyper-util's pooled client this skips, per request, the pool's hashed key
//! (the authority hashed byte by byte), the task spawned to wait for the connection's
//! readiness, and the rewriting of the URI to origin form.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

use crate::BoxError;

/// Idle connections kept at most; one more is closed when it comes back.
pub(super) const MAX_IDLE: usize = 256;

/// The HTTP/1.1 connections to one upstream, for requests with bodies of type `B`.
pub(super) struct Http1Pool<B> {
    connector: HttpsConnector<HttpConnector>,
    /// `scheme://authority/`, what the connector dials.
    target: Uri,
    idle: Mutex<Vec<SendRequest<B>>>,
}

impl<B> Http1Pool<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    pub(super) fn new(connector: HttpsConnector<HttpConnector>, target: Uri) -> Arc<Self> {
        Arc::new(Self {
            connector,
            target,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends `request` (origin-form URI, `Host` set) and answers the response, whose body
    /// returns the connection to the pool once read to its end.
    pub(super) async fn send(
        self: &Arc<Self>,
        request: Request<B>,
    ) -> Result<Response<PooledBody<B>>, BoxError> {
        let (mut sender, reused) = match self.take_ready() {
            Some(sender) => (sender, true),
            None => (self.connect().await?, false),
        };
        let response = match sender.try_send_request(request).await {
            Ok(response) => response,
            Err(mut e) => match e.take_message() {
                // Never written: the connection closed meanwhile. Once more, on a new one.
                Some(request) if reused => {
                    sender = self.connect().await?;
                    sender.send_request(request).await?
                }
                _ => return Err(e.into_error().into()),
            },
        };
        let (parts, body) = response.into_parts();
        let mut body = PooledBody {
            body,
            home: Some((sender, self.clone())),
        };
        if body.body.is_end_stream() {
            body.release();
        }
        Ok(Response::from_parts(parts, body))
    }

    /// The newest idle connection that is ready; closed ones are dropped, not-yet-ready ones
    /// kept.
    fn take_ready(&self) -> Option<SendRequest<B>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let mut found = None;
        let mut index = idle.len();
        while index > 0 {
            index -= 1;
            let Some(sender) = idle.get(index) else { break };
            if sender.is_closed() {
                drop(idle.remove(index));
            } else if sender.is_ready() {
                found = Some(idle.remove(index));
                break;
            }
        }
        found
    }

    async fn connect(&self) -> Result<SendRequest<B>, BoxError> {
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx)).await?;
        let io = connector.call(self.target.clone()).await?;
        let (sender, connection) = hyper::client::conn::http1::Builder::new()
            .handshake(io)
            .await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "upstream connection ended with an error");
            }
        });
        Ok(sender)
    }

    /// Idle connections now (for tests).
    #[cfg(test)]
    pub(super) fn idle_count(&self) -> usize {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A response body from the upstream that returns its connection to the pool at its end.
pub(crate) struct PooledBody<B> {
    body: Incoming,
    home: Option<(SendRequest<B>, Arc<Http1Pool<B>>)>,
}

impl<B> PooledBody<B> {
    fn release(&mut self) {
        if let Some((sender, pool)) = self.home.take() {
            if !sender.is_closed() {
                let mut idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < MAX_IDLE {
                    idle.push(sender);
                }
            }
        }
    }
}

impl<B> Body for PooledBody<B> {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.body.is_end_stream() => self.release(),
            // An error leaves the connection unusable: dropped with the body.
            Poll::Ready(Some(Err(_))) => self.home = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::{BodyExt, Empty, Full};
    use hyper_util::rt::TokioIo;
    use tokio::net::TcpListener;

    /// An upstream answering `body` to every request, counting the connections it accepts;
    /// with `one_each`, it closes every connection after its first response (without saying
    /// so: no `Connection: close`).
    async fn upstream(body: &'static [u8], one_each: bool) -> (Uri, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_: Request<Incoming>| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(body))))
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(!one_each)
                        .serve_connection(TokioIo::new(stream), service);
                    let _ = conn.await;
                });
            }
        });
        (format!("http://{addr}/").parse().unwrap(), accepted)
    }

    fn pool<B>(target: Uri) -> Arc<Http1Pool<B>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(crate::tls::upstream_client_config(None).unwrap())
            .https_or_http()
            .enable_http1()
            .wrap_connector(HttpConnector::new());
        Http1Pool::new(connector, target)
    }

    fn request(target: &Uri) -> Request<Empty<Bytes>> {
        with_body(target, Empty::new())
    }

    fn with_body<B>(target: &Uri, body: B) -> Request<B> {
        Request::post("/x")
            .header(http::header::HOST, target.authority().unwrap().as_str())
            .body(body)
            .unwrap()
    }

    /// A request body that never ends (nor sends a byte).
    struct Endless;

    impl Body for Endless {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Pending
        }
    }

    async fn read<B>(response: Response<PooledBody<B>>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    /// Ready again: the connection's task has seen the end of the last exchange.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_connection_is_reused_once_its_response_is_read() {
        let (target, accepted) = upstream(b"ok", false).await;
        let pool = pool(target.clone());
        for _ in 0..5 {
            let response = pool.send(request(&target)).await.unwrap();
            assert_eq!(pool.idle_count(), 0, "lent out while its body is unread");
            assert_eq!(read(response).await, Bytes::from_static(b"ok"));
            assert_eq!(pool.idle_count(), 1, "back once the body was read");
            settle().await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_body_dropped_half_read_does_not_return_its_connection() {
        let (target, accepted) = upstream(&[b'x'; 256 * 1024], false).await;
        let pool = pool(target.clone());
        let response = pool.send(request(&target)).await.unwrap();
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap();
        assert!(first.data_ref().is_some_and(|d| !d.is_empty()));
        drop(body);
        assert_eq!(pool.idle_count(), 0);
        let response = pool.send(request(&target)).await.unwrap();
        assert_eq!(read(response).await.len(), 256 * 1024);
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new connection");
        assert_eq!(pool.idle_count(), 1);
    }

    #[tokio::test]
    async fn connections_the_upstream_closes_are_replaced() {
        let (target, accepted) = upstream(b"ok", true).await;
        let pool = pool(target.clone());
        for _ in 0..5 {
            let response = pool.send(request(&target)).await.unwrap();
            assert_eq!(read(response).await, Bytes::from_static(b"ok"));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 5);
    }

    /// An upstream that answers `200 ok` as soon as a request head has come, and keeps every
    /// connection open without reading the rest (a request body stays unsent).
    async fn hasty_upstream() -> (Uri, Arc<AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    if stream.write_all(answer).await.is_err() {
                        return;
                    }
                    std::future::pending::<()>().await;
                });
            }
        });
        (format!("http://{addr}/").parse().unwrap(), accepted)
    }

    #[tokio::test]
    async fn a_connection_not_yet_ready_is_passed_over_and_kept() {
        let (target, accepted) = hasty_upstream().await;
        let pool = pool::<http_body_util::Either<Endless, Empty<Bytes>>>(target.clone());
        // Answered while its request body is still being sent: the connection comes back with
        // the response's end, open but not ready for another request.
        let busy = with_body(&target, http_body_util::Either::Left(Endless));
        let response = pool.send(busy).await.unwrap();
        assert_eq!(read(response).await, Bytes::from_static(b"ok"));
        settle().await;
        assert_eq!(pool.idle_count(), 1);
        // So the next request opens a second connection, and both stay.
        let next = with_body(&target, http_body_util::Either::Right(Empty::new()));
        let response = pool.send(next).await.unwrap();
        assert_eq!(read(response).await, Bytes::from_static(b"ok"));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert_eq!(pool.idle_count(), 2);
    }
}
