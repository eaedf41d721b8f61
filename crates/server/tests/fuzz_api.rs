//! Random and malformed request bodies sent to every endpoint that takes a
//! body: each is answered, never with a server error.

mod common;

use chrono::Utc;
use common::records::{note, report};
use serde_json::{json, Value};
use uuid::Uuid;

/// A small deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_json(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(rng.next() as i64),
        3 => json!(f64::from_bits(rng.next())
            .is_finite()
            .then(|| rng.next() as f64 / 7.0)),
        4 => Value::from(
            [
                "",
                "x",
                "📍",
                "\u{0}",
                "2026-11-24T23:00:00Z",
                "poor_lighting",
                "00000000-0000-0000-0000-000000000000",
            ][rng.below(7)],
        ),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "id",
                "text",
                "notes",
                "shifts",
                "sync",
                "revision",
                "category",
                "location",
                "created_at",
                "report",
                "changes",
                "status",
                "kind",
                "when",
            ];
            Value::Object(
                (0..rng.below(5))
                    .map(|_| {
                        (
                            keys[rng.below(keys.len())].to_owned(),
                            random_json(rng, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

#[test]
fn random_and_malformed_bodies_never_get_a_5xx() {
    let server = common::serve_with(beatbook_server::api::ApiState::unlimited);
    let auth = server.pair("phone");
    let report = report("Underpass", beatbook_core::ReportKind::PoorLighting);
    let triage = beatbook_core::report::Triage::create(
        Uuid::new_v4(),
        report.id,
        Utc::now(),
        beatbook_core::ReportStatus::Acknowledged,
        "Seen",
        "",
    )
    .unwrap();
    // Each endpoint that takes a body, a valid body for it, and where in
    // that body the fields are.
    let targets = [
        (
            "/api/v1/sync",
            json!({"notes": [note("seed").build()]}),
            "/notes/0",
        ),
        ("/api/v1/pair", json!({"code": "ABCDE-FGHJK"}), ""),
        ("/api/v1/reports", json!({"report": report}), "/report"),
        ("/api/v1/triage", json!({"changes": [triage]}), "/changes/0"),
    ];
    let mut rng = Rng(0x5eed_b0a7_2026);
    let started = std::time::Instant::now();
    let mut sent = 0;
    while sent < 1500 && started.elapsed() < std::time::Duration::from_secs(60) {
        let (path, valid, fields_at) = &targets[rng.below(targets.len())];
        let body: Vec<u8> = match rng.below(4) {
            // Random bytes.
            0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
            // Random JSON.
            1 => random_json(&mut rng, 0).to_string().into_bytes(),
            // A valid request with one field replaced by anything.
            2 => {
                let mut v = valid.clone();
                let fields = v
                    .pointer(fields_at)
                    .and_then(Value::as_object)
                    .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                if let Some(object) = v.pointer_mut(fields_at).and_then(Value::as_object_mut) {
                    let field = fields[rng.below(fields.len())].clone();
                    object.insert(field, random_json(&mut rng, 1));
                }
                v.to_string().into_bytes()
            }
            // A valid request cut short or with a byte changed.
            _ => {
                let mut b = valid.to_string().into_bytes();
                let at = rng.below(b.len());
                if rng.below(2) == 0 {
                    b.truncate(at);
                } else {
                    b[at] = rng.next() as u8;
                }
                b
            }
        };
        let r = server.post(path, &[&auth], &body);
        assert!(
            (200..500).contains(&r.status),
            "{path} answered {} to {:?}: {}",
            r.status,
            String::from_utf8_lossy(&body),
            r.text()
        );
        if r.status != 200 {
            assert!(r.json()["error"].is_string(), "error body for {}", r.status);
        }
        sent += 1;
    }
    assert!(sent >= 200, "only {sent} requests in the time allowed");
    // The server is still well after all that.
    assert_eq!(server.get("/api/health", &[]).status, 200);
}
