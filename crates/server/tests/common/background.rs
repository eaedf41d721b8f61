//! A server run as the binary runs it (`serve::serve_with`), on a thread and
//! runtime of its own, for the integration tests and the benchmarks.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use beatbook_server::serve::conn::Limits;
use beatbook_server::serve::{self, Transport};

/// A new, empty folder with the one file the server needs to serve the app.
pub fn site_folder(label: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("beatbook-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("a folder");
    std::fs::write(
        folder.join("index.html"),
        "<!doctype html><title>Beatbook</title>",
    )
    .expect("index.html");
    folder
}

/// Serves `app` and answers where, once it listens.
pub fn serve_in_background(transport: Transport, app: Router, limits: Limits) -> SocketAddr {
    let (told, listening) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime
            .block_on(serve::serve_with(transport, app, limits, move |l| {
                let _ = told.send(l.url);
            }))
            .expect("serve");
    });
    let url = listening.recv().expect("the server starts");
    url.trim_end_matches('/')
        .rsplit("://")
        .next()
        .and_then(|a| a.parse().ok())
        .expect("the server's address")
}
