//! What erasure leaves of a report: its kind, its place words, the area it
//! is in, when it was made, and (in the store) its code and status history;
//! never who sent it, what they wrote, or the exact spot.

use chrono::{DateTime, Utc};

use super::Report;

impl Report {
    /// Erases everything that could point at the resident who sent it: the
    /// contact details, the description (replaced by a dated line saying
    /// so), the words about when, and the exact location (kept only as the
    /// area around it, as a rounded report would have been).
    pub fn erase_personal(&mut self, at: DateTime<Utc>) {
        self.forget_contact();
        self.description = format!(
            "Erased at the resident's request on {}.",
            at.format("%-d %B %Y")
        );
        self.when_detail = None;
        if let Some(location) = self.location.filter(|_| !self.location_rounded) {
            self.location = Some(location.rounded_to_area());
            self.location_rounded = true;
        }
    }

    /// Forgets how to reach the resident (their report stands). Whether
    /// there was anything to forget.
    pub fn forget_contact(&mut self) -> bool {
        self.contact.take().is_some()
    }

    /// Whether anything personal is left to erase.
    pub fn holds_personal_data(&self) -> bool {
        self.contact.is_some() || (self.location.is_some() && !self.location_rounded)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ReportInput, ReportKind, WhenUnsafe};
    use super::*;
    use crate::Location;

    fn sent() -> Report {
        let input = ReportInput {
            kind: ReportKind::DrugDealing,
            location: Some(Location::new(51.507_351, -0.127_758, 9.0).unwrap()),
            round_location: false,
            place: "Mill Lane underpass".into(),
            when: WhenUnsafe::ParticularTime,
            when_detail: "Fridays after 11, when my son walks home".into(),
            description: "Two men by my door at 14 Mill Lane".into(),
            contact_name: "Sam Contactname".into(),
            ward: String::new(),
            contact_reach: "07700 900123".into(),
        };
        Report::create(
            uuid::Uuid::from_u128(7),
            &input,
            "2026-11-20T21:00:00Z".parse().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn erasure_leaves_nothing_that_points_at_the_resident() {
        let mut report = sent();
        assert!(report.holds_personal_data());
        let at = "2026-11-25T10:00:00Z".parse().unwrap();
        report.erase_personal(at);
        let kept = serde_json::to_string(&report).unwrap();
        for gone in [
            "Sam",
            "07700",
            "14 Mill Lane",
            "my son",
            "51.507351",
            "-0.127758",
        ] {
            assert!(!kept.contains(gone), "{gone} is still in {kept}");
        }
        assert!(!report.holds_personal_data());
        assert_eq!(
            report.description,
            "Erased at the resident's request on 25 November 2026."
        );
        assert_eq!(report.kind, ReportKind::DrugDealing);
        assert_eq!(report.place.as_deref(), Some("Mill Lane underpass"));
        let area = report.location.unwrap();
        assert!(
            (area.latitude - 51.507_351).abs() < 0.01,
            "the area is kept"
        );
        assert!(report.location_rounded);
    }

    #[test]
    fn expiry_forgets_only_the_contact() {
        let mut report = sent();
        let description = report.description.clone();
        assert!(report.forget_contact());
        assert!(!report.forget_contact(), "nothing left the second time");
        assert_eq!(report.contact, None);
        assert_eq!(report.description, description);
    }
}
