//! Each connection, bounded: at most so many at once, and so many from one
//! client (see [`door`](super::door)); its first byte within a few seconds
//! of being accepted, request headers within a few more, no bytes either way
//! for a minute closes it, and a request, its body included, is answered
//! within half a minute or refused. A slow, silent or half-sent request
//! costs a slot for seconds, not for ever, and makes way for a newcomer
//! when the server is full.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;
use tower_http::timeout::TimeoutLayer;

use super::door::{Busy, Door, Guest, Hushed, Ticket};
use crate::api::proxy::Cidr;

/// What one server allows each connection.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections open at once, TLS handshakes included.
    pub connections: usize,
    /// Connections open at once from one IPv4 address or IPv6 /64.
    pub per_client: usize,
    /// From accepting a connection to its first byte (or, in TLS mode, to
    /// its finished handshake).
    pub first_byte: Duration,
    /// From a connection's first byte of a request to the end of its headers.
    pub headers: Duration,
    /// No bytes in or out for this long closes the connection.
    pub idle: Duration,
    /// From a request's headers to its answer, reading the body included.
    pub request: Duration,
    /// Reverse proxies that speak for many clients: no per-client cap.
    pub trusted: Vec<Cidr>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 1024,
            per_client: 64,
            first_byte: Duration::from_secs(8),
            headers: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            request: Duration::from_secs(30),
            trusted: Vec::new(),
        }
    }
}

/// File descriptors kept for the database, photo files and backups, beyond
/// one a connection.
pub const DESCRIPTOR_RESERVE: u64 = 128;

impl Limits {
    /// These limits with no more connections than `descriptors` (the
    /// process's open-file limit) leaves room for, beside the reserve.
    pub fn within_descriptors(mut self, descriptors: u64) -> Limits {
        let room = descriptors.saturating_sub(DESCRIPTOR_RESERVE).max(16);
        self.connections = self
            .connections
            .min(usize::try_from(room).unwrap_or(usize::MAX));
        self
    }

    pub(super) fn door(&self) -> Arc<Door> {
        Door::new(self.connections, self.per_client, self.trusted.clone())
    }
}

/// Where connections come from: each is let in through the door before
/// anything else is done with it.
pub trait Entrance: Send + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The next connection let in, who from, and its ticket.
    fn enter(&mut self) -> impl Future<Output = (Self::Io, SocketAddr, Ticket)> + Send;
}

/// Accept failures (out of file descriptors, or the like) are logged at
/// most this often.
static ACCEPT_FAILED: Hushed = Hushed::new(Duration::from_secs(10));

/// Accepts one TCP connection: after a failure, waits a moment and tries
/// again; a connection the door turns away is closed at once.
pub(super) async fn accept(tcp: &TcpListener, door: &Arc<Door>) -> (TcpStream, SocketAddr, Ticket) {
    loop {
        match tcp.accept().await {
            Ok((stream, peer)) => {
                if let Some(ticket) = door.admit(peer.ip()) {
                    let _ = stream.set_nodelay(true);
                    return (stream, peer, ticket);
                }
            }
            Err(e) => {
                ACCEPT_FAILED.warn(format_args!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Plain TCP connections, let in through a door.
pub struct Plain {
    tcp: TcpListener,
    door: Arc<Door>,
}

impl Plain {
    pub fn new(tcp: TcpListener, door: Arc<Door>) -> Plain {
        Plain { tcp, door }
    }
}

impl Entrance for Plain {
    type Io = TcpStream;

    async fn enter(&mut self) -> (TcpStream, SocketAddr, Ticket) {
        accept(&self.tcp, &self.door).await
    }
}

/// Serves `app` on what comes in through `entrance` until `stopping` says
/// so, then lets the requests in flight finish.
pub async fn run<E: Entrance>(
    mut entrance: E,
    app: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    let app = app.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        limits.request,
    ));
    let graceful = GracefulShutdown::new();
    let stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    tokio::pin!(stop);
    loop {
        let (io, peer, ticket) = tokio::select! {
            entered = entrance.enter() => entered,
            () = &mut stop => break,
        };
        let guest = ticket.guest.clone();
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            // Who is asking, for the rate limits (see `api::extract`).
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = guest.busy();
            let answer = app.clone().oneshot(request.map(Body::new));
            async move {
                // Busy until the answer's last byte is written, not only its
                // headers: a photo or a ZIP on its way is not idle.
                let answer = answer.await;
                answer
                    .map(|response| response.map(|body| Body::new(Answering { body, _busy: busy })))
            }
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.headers);
        let io = Idle::new(io, ticket.guest.clone(), limits.first_byte, limits.idle);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                () = ticket.guest.asked_to_leave() => {}
            }
            drop(ticket);
        });
    }
    // No more connections: in TLS mode this stops the accept loop and its
    // handshakes too.
    drop(entrance);
    graceful.shutdown().await;
    Ok(())
}

/// An answer's body, holding its connection busy until it ends.
struct Answering {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Answering {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A connection that fails once no bytes have passed either way for `idle`
/// (or, before its first byte, for `first_byte`), and tells its door when
/// bytes move.
pub struct Idle<T> {
    io: T,
    guest: Arc<Guest>,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<T> Idle<T> {
    pub(super) fn new(io: T, guest: Arc<Guest>, first_byte: Duration, idle: Duration) -> Self {
        Idle {
            io,
            guest,
            idle,
            deadline: Box::pin(tokio::time::sleep(first_byte)),
        }
    }

    /// Bytes moved: the connection is alive.
    fn moved(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
        self.guest.moved();
    }

    /// Nothing moved: an error once the deadline has passed.
    fn waited<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no bytes either way for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Idle<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(done) => {
                this.moved();
                Poll::Ready(done)
            }
            Poll::Pending => this.waited(cx),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Idle<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(done) => {
                this.moved();
                Poll::Ready(done)
            }
            Poll::Pending => this.waited(cx),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(done) => {
                this.moved();
                Poll::Ready(done)
            }
            Poll::Pending => this.waited(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
