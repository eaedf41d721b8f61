//! The tests' HTTP client reads answers as the server may send them: by
//! Content-Length, in chunks, or to the end of the connection.

mod common;

use common::http::read_response;

#[test]
fn answers_on_one_connection_are_read_one_after_another_by_length() {
    let mut wire: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Tag: one\r\n\r\nhello\
        HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}";
    let first = read_response(&mut wire, false);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-tag"), Some("one"));
    assert_eq!(first.body, b"hello");
    let second = read_response(&mut wire, false);
    assert_eq!(second.status, 404);
    assert_eq!(second.header("Content-Length"), Some("2"));
    assert_eq!(second.body, b"{}");
    assert!(wire.is_empty());
}

#[test]
fn chunked_answers_are_joined_and_their_trailers_skipped() {
    let mut wire: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5\r\nhello\r\nB;name=value\r\n, chunks!\r\n\r\n0\r\nX-Trailer: yes\r\n\r\n\
        HTTP/1.1 204 No Content\r\n\r\n";
    let r = read_response(&mut wire, false);
    assert_eq!(r.body, b"hello, chunks!\r\n");
    assert_eq!(read_response(&mut wire, false).status, 204);
    assert!(wire.is_empty());
}

#[test]
fn an_answer_without_a_length_runs_to_the_end_and_some_have_no_body() {
    let mut wire: &[u8] = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it";
    assert_eq!(read_response(&mut wire, false).body, b"all of it");
    for (status, to_head) in [
        ("204 No Content", false),
        ("304 Not Modified", false),
        ("200 OK", true),
    ] {
        let raw = format!("HTTP/1.1 {status}\r\nContent-Length: 3\r\n\r\nnext");
        let mut wire = raw.as_bytes();
        let r = read_response(&mut wire, to_head);
        assert!(r.body.is_empty(), "{status}");
        assert_eq!(wire, b"next", "{status}");
    }
}
