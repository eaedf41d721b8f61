//! Residents hear back, against a real server and a stand-in push service:
//! an HTTPS server on loopback, under a private root the sender is given as
//! `--push-root` gives it, that opens each notification with the
//! subscription's own keys (as the browser would) and checks its VAPID
//! signature against the server's published key.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use beatbook_core::report::{Notice, ReportKind, ReportStatus, Triage, MAX_SUBSCRIPTIONS};
use beatbook_server::api::ApiState;
use beatbook_server::push::send::Sender;
use beatbook_server::push::{open, VapidKey};
use beatbook_server::store::{DuePush, PushOutcome};
use chrono::Utc;
use common::records::report;
use common::{serve_with, TestServer};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::SecretKey;
use serde_json::{json, Value};
use uuid::Uuid;

/// One request the stand-in took.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// The stand-in push service: where it listens, its root certificate's
/// file, what it took, and the status it answers for each path (201 for
/// any other).
struct PushService {
    addr: SocketAddr,
    root: std::path::PathBuf,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<HashMap<String, u16>>>,
}

impl PushService {
    fn start(runtime: &tokio::runtime::Runtime) -> PushService {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let root = common::temp_dir("push-root").join("root.pem");
        std::fs::write(&root, cert.cert.pem()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(HashMap::new()));
        let (took, answer) = (received.clone(), answers.clone());
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, took, answer) = (acceptor.clone(), took.clone(), answer.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            let (took, answer) = (took.clone(), answer.clone());
                            async move {
                                let path = request.uri().path().to_owned();
                                let headers = request
                                    .headers()
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                    })
                                    .collect();
                                let body = request.into_body().collect().await?.to_bytes().to_vec();
                                let status =
                                    answer.lock().unwrap().get(&path).copied().unwrap_or(201);
                                took.lock().unwrap().push(Received {
                                    path,
                                    headers,
                                    body,
                                });
                                Ok::<_, hyper::Error>(
                                    hyper::Response::builder()
                                        .status(status)
                                        .body(Full::new(Bytes::new()))
                                        .expect("a response"),
                                )
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        PushService {
            addr,
            root,
            received,
            answers,
        }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Waits for `n` notifications in all, and gives them.
    fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let took = self.received.lock().unwrap().clone();
            if took.len() >= n {
                return took;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} notifications arrived",
                took.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A browser's subscription: its secret key and auth secret, and what
/// `PushSubscription.toJSON()` gives of it.
struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
    endpoint: String,
}

impl Browser {
    fn new(endpoint: String) -> Browser {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).unwrap();
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).unwrap();
        Browser {
            secret: SecretKey::from_slice(&bytes).unwrap(),
            auth,
            endpoint,
        }
    }

    fn json(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            }
        })
    }

    /// Opens a notification as the browser would.
    fn read(&self, body: &[u8]) -> Notice {
        serde_json::from_slice(&open(body, &self.secret, &self.auth).expect("opened")).unwrap()
    }
}

fn subscribe(server: &TestServer, code: &str, body: &Value) -> common::Response {
    server.post(
        &format!("/api/v1/reports/{code}/subscription"),
        &[],
        body.to_string().as_bytes(),
    )
}

fn triage(server: &TestServer, auth: &str, change: &Triage) {
    let r = server.post(
        "/api/v1/triage",
        &[auth],
        json!({ "changes": [change] }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// A server whose push sender runs on `runtime`, trusting the stand-in.
fn serve_pushing(runtime: &tokio::runtime::Runtime, service: &PushService) -> TestServer {
    let wake = Arc::new(Mutex::new(None));
    let kept = wake.clone();
    let server = serve_with(move |store| {
        let state = ApiState::new(store);
        *kept.lock().unwrap() = Some(state.push_wake());
        state
    });
    let sender = Sender::new(Some("mailto:host@example.org".into()), Some(&service.root)).unwrap();
    let wake = wake.lock().unwrap().take().unwrap();
    runtime.spawn(sender.run(server.db.clone(), wake));
    server
}

#[test]
fn a_resident_who_asked_hears_of_each_change_to_their_report_page() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = PushService::start(&runtime);
    let server = serve_pushing(&runtime, &service);
    let councillor = server.pair("Councillor's phone");
    let sent = report("Underpass by the station", ReportKind::PoorLighting);
    let code = server.file_report(&sent);

    let key = server.get("/api/v1/push/key", &[]);
    assert_eq!(key.status, 200, "{}", key.text());
    let key = key.json()["key"].as_str().unwrap().to_owned();
    assert_eq!(URL_SAFE_NO_PAD.decode(&key).unwrap().len(), 65);
    assert_eq!(
        server.get("/api/v1/push/key", &[]).json()["key"],
        key,
        "kept"
    );

    let phone = Browser::new(service.endpoint("/push/phone"));
    let gone = Browser::new(service.endpoint("/push/gone"));
    service
        .answers
        .lock()
        .unwrap()
        .insert("/push/gone".into(), 410);
    assert_eq!(subscribe(&server, &code, &phone.json()).status, 201);
    assert_eq!(
        subscribe(&server, &code, &phone.json()).status,
        200,
        "idempotent"
    );
    assert_eq!(subscribe(&server, &code, &gone.json()).status, 201);
    assert_eq!(server.db.subscriptions(&code).unwrap(), 2);

    // The councillor raises it with the police: the phone hears, within
    // moments, in words, signed as the server.
    let raised = Triage::create(
        Uuid::now_v7(),
        sent.id,
        Utc::now(),
        ReportStatus::RaisedWithPolice,
        "",
        "",
    )
    .unwrap();
    triage(&server, &councillor, &raised);
    let took = service.wait_for(2);
    let to_phone = took.iter().find(|r| r.path == "/push/phone").unwrap();
    let notice = phone.read(&to_phone.body);
    assert_eq!(notice.code, code);
    assert_eq!(notice.status, ReportStatus::RaisedWithPolice);
    assert_eq!(
        notice.title,
        format!("Your report {code} is now: Raised with police")
    );
    assert_eq!(notice.url, format!("/reports/{code}"));
    let headers = &to_phone.headers;
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert_eq!(headers["ttl"], "172800");
    let (token, k) = headers["authorization"]
        .strip_prefix("vapid t=")
        .and_then(|v| v.split_once(", k="))
        .unwrap();
    assert_eq!(k, key, "signed with the key browsers subscribe with");
    let parts: Vec<&str> = token.split('.').collect();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["aud"], format!("https://{}", service.addr));
    assert_eq!(claims["sub"], "mailto:host@example.org");
    let expires = claims["exp"].as_i64().unwrap() - Utc::now().timestamp();
    assert!((0..=24 * 3600).contains(&expires), "{expires}");
    let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    assert!(verifying
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .is_ok());
    // A push service that says the subscription is gone has it removed.
    wait_until(|| server.db.subscriptions(&code).unwrap() == 1);

    // The same change sent again (a phone that did not hear the answer)
    // tells nobody twice; a private note alone tells nobody.
    triage(&server, &councillor, &raised);
    let noted = Triage::create(
        Uuid::now_v7(),
        sent.id,
        Utc::now(),
        ReportStatus::RaisedWithPolice,
        "",
        "Rang the caretaker",
    )
    .unwrap();
    triage(&server, &councillor, &noted);
    // A change made on a phone with no signal an hour ago, sent now: one
    // notification, with the response's words.
    let earlier = Utc::now() - chrono::Duration::hours(1);
    let answered = Triage::create(
        Uuid::now_v7(),
        sent.id,
        earlier.max(raised.at),
        ReportStatus::RaisedWithPolice,
        "The Safer Neighbourhood team will patrol there after dark this week.",
        "",
    )
    .unwrap();
    triage(&server, &councillor, &answered);
    let took = service.wait_for(3);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        service.received.lock().unwrap().len(),
        3,
        "one notification per change"
    );
    assert_eq!(
        phone.read(&took[2].body).body,
        "The Safer Neighbourhood team will patrol there after dark this week."
    );

    // Closing tells the phone, and ends its subscription.
    let closed = Triage::create(
        Uuid::now_v7(),
        sent.id,
        Utc::now(),
        ReportStatus::Closed,
        "",
        "",
    )
    .unwrap();
    triage(&server, &councillor, &closed);
    let took = service.wait_for(4);
    assert_eq!(phone.read(&took[3].body).status, ReportStatus::Closed);
    assert_eq!(server.db.subscriptions(&code).unwrap(), 0);
    let again = subscribe(&server, &code, &phone.json());
    assert_eq!(again.status, 409, "{}", again.text());
}

fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_subscription_is_checked_and_let_go_of() {
    let server = common::serve();
    let sent = report("Bus stop on Mill Lane", ReportKind::PoorLighting);
    let code = server.file_report(&sent);
    let browser = Browser::new("https://push.example.net/send/1".into());
    let mut body = browser.json();
    assert_eq!(subscribe(&server, "ABCDE-FGHJK", &body).status, 404);
    assert_eq!(subscribe(&server, "not a code", &body).status, 400);
    body["endpoint"] = "http://push.example.net/send/1".into();
    let plain = subscribe(&server, &code, &body);
    assert_eq!(plain.status, 422, "{}", plain.text());
    assert!(plain.text().contains("https"), "{}", plain.text());
    let mut body = browser.json();
    body["keys"]["p256dh"] = "AAAA".into();
    let bad_key = subscribe(&server, &code, &body);
    assert_eq!(bad_key.status, 422);
    assert!(bad_key.text().contains("p256dh"), "{}", bad_key.text());
    let mut body = browser.json();
    body["keys"]["extra"] = "x".into();
    assert_eq!(
        subscribe(&server, &code, &body).status,
        400,
        "unknown fields"
    );
    let cross_site = server.post(
        &format!("/api/v1/reports/{code}/subscription"),
        &[
            "Origin: https://elsewhere.example",
            "Sec-Fetch-Site: cross-site",
        ],
        browser.json().to_string().as_bytes(),
    );
    assert_eq!(cross_site.status, 403, "{}", cross_site.text());
    assert_eq!(server.db.subscriptions(&code).unwrap(), 0);

    for n in 0..MAX_SUBSCRIPTIONS {
        let one = Browser::new(format!("https://push.example.net/send/{n}"));
        assert_eq!(subscribe(&server, &code, &one.json()).status, 201);
    }
    let full = subscribe(
        &server,
        &code,
        &Browser::new("https://push.example.net/x".into()).json(),
    );
    assert_eq!(full.status, 409, "{}", full.text());

    let delete = |endpoint: &str, headers: &[&str]| {
        let headers = [headers, &["Content-Type: application/json"]].concat();
        common::request(
            server.addr,
            "DELETE",
            &format!("/api/v1/reports/{code}/subscription"),
            &headers,
            json!({ "endpoint": endpoint }).to_string().as_bytes(),
        )
    };
    assert_eq!(
        delete(
            "https://push.example.net/send/0",
            &["Sec-Fetch-Site: cross-site"]
        )
        .status,
        403
    );
    assert_eq!(delete("https://push.example.net/send/0", &[]).status, 204);
    assert_eq!(
        delete("https://push.example.net/send/0", &[]).status,
        204,
        "asked twice"
    );
    assert_eq!(
        server.db.subscriptions(&code).unwrap(),
        MAX_SUBSCRIPTIONS - 1
    );
}

#[test]
fn a_push_service_on_the_server_s_own_network_is_not_contacted_unless_the_host_allows_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = PushService::start(&runtime);
    let browser = Browser::new(service.endpoint("/push/1"));
    let keys = browser.json();
    let due = DuePush {
        seq: 1,
        code: "K7QF2-M3XDA".into(),
        endpoint: browser.endpoint.clone(),
        p256dh: keys["keys"]["p256dh"].as_str().unwrap().into(),
        auth: keys["keys"]["auth"].as_str().unwrap().into(),
        payload: "{}".into(),
        attempts: 0,
    };
    let key = VapidKey::generate();
    let public = Sender::new(Some("mailto:host@example.org".into()), None).unwrap();
    assert_eq!(
        runtime.block_on(public.deliver(&key, &due)),
        PushOutcome::Gone
    );
    assert!(service.received.lock().unwrap().is_empty());
    // Allowed, but its certificate is not under the root given: tried again later.
    let other_root = PushService::start(&runtime);
    let wrong = Sender::new(
        Some("mailto:host@example.org".into()),
        Some(&other_root.root),
    )
    .unwrap();
    assert!(matches!(
        runtime.block_on(wrong.deliver(&key, &due)),
        PushOutcome::Retry(_)
    ));
    // The last try gives up.
    let last = DuePush {
        attempts: 4,
        ..due.clone()
    };
    assert_eq!(
        runtime.block_on(wrong.deliver(&key, &last)),
        PushOutcome::GaveUp
    );
    let private = Sender::new(Some("mailto:host@example.org".into()), Some(&service.root)).unwrap();
    assert_eq!(
        runtime.block_on(private.deliver(&key, &due)),
        PushOutcome::Sent
    );
    assert_eq!(service.received.lock().unwrap().len(), 1);
    let topic = &service.received.lock().unwrap()[0].headers["topic"];
    assert_eq!(topic, "K7QF2-M3XDA", "a newer notice replaces one waiting");
}

#[test]
fn a_councillor_who_asked_is_told_of_each_new_report_until_they_stop() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = PushService::start(&runtime);
    let server = serve_pushing(&runtime, &service);
    let councillor = server.pair("Councillor's phone");
    let phone = Browser::new(service.endpoint("/push/councillor"));
    let asked = server.post(
        "/api/v1/push/subscription",
        &[&councillor],
        phone.json().to_string().as_bytes(),
    );
    assert_eq!(asked.status, 200, "{}", asked.text());

    let sent = report("Underpass by the station", ReportKind::PoorLighting);
    let code = server.file_report(&sent);
    let took = service.wait_for(1);
    let notice = phone.read(&took[0].body);
    assert_eq!(notice.title, "New report in First ward");
    assert_eq!(notice.body, "Poor lighting · Underpass by the station");
    assert_eq!(
        (notice.code.as_str(), notice.url.as_str()),
        (code.as_str(), "/inbox")
    );
    // The same report sent again (its answer lost) tells nobody twice.
    server.file_report(&sent);

    let stopped = common::request(
        server.addr,
        "DELETE",
        "/api/v1/push/subscription",
        &[&councillor],
        b"",
    );
    assert_eq!(stopped.status, 204);
    server.file_report(&report("Bus stop on Mill Lane", ReportKind::Other));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        service.received.lock().unwrap().len(),
        1,
        "one report, told once"
    );
}
