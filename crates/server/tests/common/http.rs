//! A small HTTP/1.1 client that shows exactly what the server answered: one
//! request on its own connection (`Connection: close`), or many on one
//! keep-alive [`Connection`]. Shared by the integration tests and the ingest
//! benchmark; it reads answers by Content-Length, chunks, or to the end.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request with `Connection: close`. Headers are `Name: value` lines.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &[u8],
) -> Response {
    let mut connection = Connection::open(addr);
    connection.send(method, path, headers, body, true)
}

/// A byte stream to the server: plain TCP, or TLS over it.
trait Stream: Read + Write + Send {}

impl<T: Read + Write + Send> Stream for T {}

/// One HTTP/1.1 connection to the server, for as many requests as it keeps
/// open for.
pub struct Connection {
    /// Reads are buffered; requests are written to the stream beneath.
    stream: BufReader<Box<dyn Stream>>,
    host: String,
}

impl Connection {
    pub fn open(addr: SocketAddr) -> Connection {
        Connection::over(
            TcpStream::connect(addr).expect("connect to the server"),
            addr,
        )
    }

    /// From the loopback address `source` (127.0.0.x), as another client.
    pub fn open_from(source: &str, addr: SocketAddr) -> Connection {
        Connection::over(connect_from(source, addr), addr)
    }

    fn over(stream: TcpStream, addr: SocketAddr) -> Connection {
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Connection {
            stream: BufReader::new(Box::new(stream)),
            host: addr.to_string(),
        }
    }

    /// Over TLS to `name` at `addr`, trusting only `root` (DER).
    pub fn open_tls(addr: SocketAddr, name: &str, root: &[u8]) -> Connection {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(root.to_vec().into()).expect("a usable root");
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server_name = name.to_owned().try_into().expect("a DNS name");
        let tls = rustls::ClientConnection::new(std::sync::Arc::new(config), server_name)
            .expect("a TLS client");
        let tcp = TcpStream::connect(addr).expect("connect to the server");
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        Connection {
            stream: BufReader::new(Box::new(rustls::StreamOwned::new(tls, tcp))),
            host: name.to_owned(),
        }
    }

    /// One request that leaves the connection open for the next.
    pub fn request(&mut self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Response {
        self.send(method, path, headers, body, false)
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: &[u8],
        close: bool,
    ) -> Response {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        // The app sends JSON; a test that means otherwise says so.
        let typed = headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("content-type:"));
        if method == "POST" && !typed {
            head.push_str("Content-Type: application/json\r\n");
        }
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let writer = self.stream.get_mut();
        writer.write_all(head.as_bytes()).expect("send head");
        let sent = writer.write_all(body).and_then(|()| writer.flush());
        // The server may answer (413) and close before reading a large body;
        // on a connection that ends with this request, that is fine.
        if !close {
            sent.expect("send body");
        }
        read_response(&mut self.stream, method == "HEAD")
    }
}

/// Reads one answer: status line, headers, then the body by Content-Length,
/// by chunks, or to the end of the connection.
pub fn read_response(reader: &mut impl BufRead, to_head: bool) -> Response {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read status");
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read header");
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if to_head || status == 204 || status == 304 || (100..200).contains(&status) {
        return response;
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"));
    let length = response
        .header("content-length")
        .map(|v| v.parse::<usize>().expect("numeric Content-Length"));
    response.body = if chunked {
        read_chunks(reader)
    } else if let Some(length) = length {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("read body");
        body
    } else {
        let mut body = Vec::new();
        let _ = reader.read_to_end(&mut body);
        body
    };
    response
}

fn read_chunks(reader: &mut impl BufRead) -> Vec<u8> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read chunk size");
        let size = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16)
            .unwrap_or_else(|_| panic!("not a chunk size: {line:?}"));
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                line.clear();
                let read = reader.read_line(&mut line).expect("read trailer");
                if read == 0 || line.trim_end().is_empty() {
                    return body;
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).expect("read chunk");
        line.clear();
        reader.read_line(&mut line).expect("read chunk end");
    }
}

/// A TCP connection to `to` from the loopback address `source`
/// (127.0.0.x), as another client would connect.
pub fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let source: std::net::IpAddr = source.parse().unwrap();
    socket.bind(&SocketAddr::new(source, 0).into()).unwrap();
    socket.connect(&to.into()).unwrap();
    socket.into()
}
