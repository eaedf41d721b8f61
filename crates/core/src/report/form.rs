//! The "Report a place" form as the resident fills it: nothing chosen until
//! they choose it, and every problem found at once, each with its field, so
//! the form can show all of them beside the fields they belong to.

use super::{
    ReportError, ReportInput, ReportKind, WhenUnsafe, MAX_CONTACT_CHARS, MAX_DESCRIPTION_CHARS,
    MAX_PLACE_CHARS, MAX_WHEN_CHARS,
};
use crate::note::Location;
use crate::text::typed;

/// A field of the report form, in the order the form shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportField {
    Kind,
    Place,
    When,
    WhenDetail,
    Description,
    ContactName,
    ContactReach,
}

impl ReportField {
    /// The id of the element that shows this field's problem.
    pub fn error_id(self) -> &'static str {
        match self {
            ReportField::Kind => "report-kind-error",
            ReportField::Place => "report-place-error",
            ReportField::When => "report-when-error",
            ReportField::WhenDetail => "report-when-detail-error",
            ReportField::Description => "report-description-error",
            ReportField::ContactName => "report-name-error",
            ReportField::ContactReach => "report-reach-error",
        }
    }
}

impl ReportField {
    /// The field's name in the form as a browser posts it (the server's
    /// plain page, and the app reading that page when it takes over).
    pub fn name(self) -> &'static str {
        match self {
            ReportField::Kind => "kind",
            ReportField::Place => "place",
            ReportField::When => "when",
            ReportField::WhenDetail => "when_detail",
            ReportField::Description => "description",
            ReportField::ContactName => "contact_name",
            ReportField::ContactReach => "contact_reach",
        }
    }

    pub const ALL: [ReportField; 7] = [
        ReportField::Kind,
        ReportField::Place,
        ReportField::When,
        ReportField::WhenDetail,
        ReportField::Description,
        ReportField::ContactName,
        ReportField::ContactReach,
    ];
}

/// The name of the field people never see or fill: bots fill every field.
pub const HONEYPOT: &str = "website";

/// What the form holds while it is being filled. It is also the form's
/// crash-proof draft (journalled while the resident types, and brought back
/// after a reload, a crash, or the browser discarding the tab while the
/// camera is open), so every field has a default: a draft written by an
/// earlier release reads with the fields it lacks empty.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReportForm {
    pub kind: Option<ReportKind>,
    pub location: Option<Location>,
    /// Share the exact spot rather than the area around it.
    pub exact_location: bool,
    pub place: String,
    pub when: Option<WhenUnsafe>,
    pub when_detail: String,
    pub description: String,
    pub contact_name: String,
    pub contact_reach: String,
    /// The ward chosen by name, when the server holds several and there is
    /// no location; empty for none ("I don't know").
    pub ward: String,
}

/// The name the ward's choice is posted under.
pub const WARD_FIELD: &str = "ward";

/// The name a photo is posted under (the plain form's file input; the app's
/// gallery input takes the focus from it by this name).
pub const PHOTO_FIELD: &str = "photo";

/// A problem with one field, in words for the resident.
pub type Problem = (ReportField, String);

impl ReportForm {
    /// Nothing chosen or typed: no draft to keep.
    pub fn is_blank(&self) -> bool {
        let typed = [
            &self.place,
            &self.when_detail,
            &self.description,
            &self.contact_name,
            &self.contact_reach,
        ];
        self.kind.is_none()
            && self.location.is_none()
            && self.when.is_none()
            && typed.iter().all(|t| t.trim().is_empty())
    }

    /// Every problem in the form, in the form's order; empty when it can be
    /// sent. The same rules as `Report::create`, which the server applies,
    /// and one that only a form needs: words about a time with another
    /// choice made, which a report would leave out, are asked about, never
    /// dropped unsaid.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut note = |field: ReportField, message: String| problems.push((field, message));
        if self.kind.is_none() {
            note(ReportField::Kind, "Choose the kind of problem.".into());
        }
        match (
            typed("place description", &self.place, MAX_PLACE_CHARS),
            self.location,
        ) {
            (Err(e), _) => note(ReportField::Place, e.to_string()),
            (Ok(_), Some(l)) if l.validate().is_err() => {
                note(ReportField::Place, ReportError::InvalidLocation.to_string())
            }
            (Ok(None), None) => note(ReportField::Place, ReportError::NoPlace.to_string()),
            (Ok(_), _) => {}
        }
        match self.when {
            None => note(ReportField::When, "Choose when it feels unsafe.".into()),
            Some(WhenUnsafe::ParticularTime) => {
                match typed("time description", &self.when_detail, MAX_WHEN_CHARS) {
                    Err(e) => note(ReportField::WhenDetail, e.to_string()),
                    Ok(None) => note(
                        ReportField::WhenDetail,
                        ReportError::WhenMissing.to_string(),
                    ),
                    Ok(Some(_)) => {}
                }
            }
            Some(_) if !self.when_detail.trim().is_empty() => note(
                ReportField::WhenDetail,
                format!(
                    "These words go with \u{201c}{}\u{201d}: choose it, or clear them.",
                    WhenUnsafe::ParticularTime.label()
                ),
            ),
            Some(_) => {}
        }
        match typed("description", &self.description, MAX_DESCRIPTION_CHARS) {
            Err(e) => note(ReportField::Description, e.to_string()),
            Ok(None) => note(
                ReportField::Description,
                ReportError::DescriptionEmpty.to_string(),
            ),
            Ok(Some(_)) => {}
        }
        let name = typed("name", &self.contact_name, MAX_CONTACT_CHARS);
        if let Err(e) = &name {
            note(ReportField::ContactName, e.to_string());
        }
        match typed("contact detail", &self.contact_reach, MAX_CONTACT_CHARS) {
            Err(e) => note(ReportField::ContactReach, e.to_string()),
            Ok(None) if matches!(name, Ok(Some(_))) => note(
                ReportField::ContactReach,
                ReportError::ContactReachMissing.to_string(),
            ),
            Ok(_) => {}
        }
        problems
    }

    /// The form from the values a browser posted, by [`ReportField::name`]
    /// (the last of a repeated name wins; other names, such as the hidden
    /// field's, are not the form's), line breaks as typed. A choice not
    /// offered is no choice.
    pub fn from_posted<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> ReportForm {
        let mut form = ReportForm::default();
        for (name, value) in values {
            if name == WARD_FIELD {
                form.ward = value.to_owned();
                continue;
            }
            let Some(field) = ReportField::ALL.into_iter().find(|f| f.name() == name) else {
                continue;
            };
            match field {
                ReportField::Kind => form.kind = ReportKind::from_slug(value),
                ReportField::When => form.when = WhenUnsafe::from_slug(value),
                // A browser posts a text area's line breaks as CR LF.
                _ => *form.text_mut(field) = value.replace("\r\n", "\n").replace('\r', "\n"),
            }
        }
        form
    }

    /// A typed field's value as it goes back into the form; empty for the
    /// two choices.
    pub fn typed(&self, field: ReportField) -> &str {
        match field {
            ReportField::Place => &self.place,
            ReportField::WhenDetail => &self.when_detail,
            ReportField::Description => &self.description,
            ReportField::ContactName => &self.contact_name,
            ReportField::ContactReach => &self.contact_reach,
            ReportField::Kind | ReportField::When => "",
        }
    }

    fn text_mut(&mut self, field: ReportField) -> &mut String {
        match field {
            ReportField::WhenDetail => &mut self.when_detail,
            ReportField::Description => &mut self.description,
            ReportField::ContactName => &mut self.contact_name,
            ReportField::ContactReach => &mut self.contact_reach,
            _ => &mut self.place,
        }
    }

    /// What `Report::create` takes, once the form has no problems.
    pub fn input(&self) -> Result<ReportInput, Vec<Problem>> {
        let problems = self.problems();
        match (self.kind, self.when) {
            (Some(kind), Some(when)) if problems.is_empty() => Ok(ReportInput {
                kind,
                location: self.location,
                round_location: !self.exact_location,
                place: self.place.clone(),
                when,
                when_detail: self.when_detail.clone(),
                description: self.description.clone(),
                contact_name: self.contact_name.clone(),
                contact_reach: self.contact_reach.clone(),
                ward: self.ward.clone(),
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Report;
    use chrono::{DateTime, TimeZone, Utc};
    use uuid::Uuid;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 22, 0, 0).unwrap()
    }

    fn filled() -> ReportForm {
        ReportForm {
            kind: Some(ReportKind::PoorLighting),
            place: "The underpass".into(),
            when: Some(WhenUnsafe::AfterDark),
            description: "No lights at all".into(),
            ..ReportForm::default()
        }
    }

    fn fields(form: &ReportForm) -> Vec<ReportField> {
        form.problems().into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn an_empty_form_names_every_missing_field_at_once_in_order() {
        assert_eq!(
            fields(&ReportForm::default()),
            vec![
                ReportField::Kind,
                ReportField::Place,
                ReportField::When,
                ReportField::Description
            ]
        );
    }

    #[test]
    fn a_filled_form_makes_a_report_that_shares_only_the_area_by_default() {
        let mut form = filled();
        form.location = Some(Location {
            latitude: 51.501_234,
            longitude: -0.141_987,
            accuracy_m: 8.0,
        });
        let input = form.input().unwrap();
        assert!(input.round_location);
        let report = Report::create(Uuid::nil(), &input, now()).unwrap();
        assert!(report.location_rounded);
        assert_ne!(report.location, form.location);

        form.exact_location = true;
        let report = Report::create(Uuid::nil(), &form.input().unwrap(), now()).unwrap();
        assert_eq!(report.location, form.location);
    }

    #[test]
    fn each_field_s_problem_is_its_own() {
        let mut form = filled();
        form.when = Some(WhenUnsafe::ParticularTime);
        assert_eq!(fields(&form), vec![ReportField::WhenDetail]);
        form.when_detail = "Fridays".into();
        form.contact_name = "Sam".into();
        assert_eq!(fields(&form), vec![ReportField::ContactReach]);
        form.contact_reach = "sam@example.org".into();
        form.place = "x".repeat(MAX_PLACE_CHARS + 1);
        assert_eq!(fields(&form), vec![ReportField::Place]);
        form.place.clear();
        assert_eq!(fields(&form), vec![ReportField::Place], "no place at all");
        form.place = "Here".into();
        form.description = "bad\u{202E}text".into();
        assert_eq!(fields(&form), vec![ReportField::Description]);
    }

    #[test]
    fn words_about_a_time_with_another_choice_are_asked_about_not_dropped() {
        let mut form = filled();
        form.when = Some(WhenUnsafe::AfterDark);
        form.when_detail = "Weekday evenings".into();
        let problems = form.problems();
        assert_eq!(fields(&form), vec![ReportField::WhenDetail]);
        assert_eq!(
            problems[0].1,
            "These words go with \u{201c}At a particular time\u{201d}: choose it, or clear them."
        );
        form.when_detail = " \n".into();
        assert!(form.problems().is_empty(), "blank is no words");
        form.when_detail = "Weekday evenings".into();
        form.when = Some(WhenUnsafe::ParticularTime);
        assert!(form.problems().is_empty());
        // With no choice at all, the choice is what is asked for.
        form.when = None;
        assert_eq!(fields(&form), vec![ReportField::When]);
    }

    #[test]
    fn the_form_and_report_create_agree() {
        // Whatever the form lets through, the server's rule accepts.
        let mut form = filled();
        form.when = Some(WhenUnsafe::ParticularTime);
        form.when_detail = "Late".into();
        form.contact_reach = "01234 567890".into();
        let input = form.input().unwrap();
        assert!(Report::create(Uuid::nil(), &input, now()).is_ok());
        assert!(ReportForm::default().input().is_err());
    }

    #[test]
    fn a_posted_form_reads_as_typed_and_a_choice_not_offered_is_none() {
        let form = ReportForm::from_posted([
            ("kind", "poor_lighting"),
            ("place", "The underpass"),
            ("when", "particular_time"),
            ("when_detail", "Fridays"),
            ("description", "No lights\r\nat all"),
            ("contact_name", "Sam"),
            ("contact_reach", "sam@example.org"),
            (HONEYPOT, ""),
            ("submit", "Send report"),
        ]);
        assert_eq!(form.kind, Some(ReportKind::PoorLighting));
        assert_eq!(form.when, Some(WhenUnsafe::ParticularTime));
        assert_eq!(form.typed(ReportField::Description), "No lights\nat all");
        assert_eq!(form.typed(ReportField::ContactReach), "sam@example.org");
        assert!(form.problems().is_empty());
        for field in ReportField::ALL {
            let name = field.name();
            assert!(ReportField::ALL.iter().filter(|f| f.name() == name).count() == 1);
        }
        let odd = ReportForm::from_posted([("kind", "aliens"), ("when", ""), ("place", "x")]);
        assert_eq!((odd.kind, odd.when), (None, None));
        assert_eq!(fields(&odd)[..2], [ReportField::Kind, ReportField::When]);
    }

    #[test]
    fn a_draft_reads_back_as_typed_and_a_blank_form_is_no_draft() {
        assert!(ReportForm::default().is_blank());
        let form = ReportForm {
            contact_name: "  ".into(),
            ..ReportForm::default()
        };
        assert!(form.is_blank(), "spaces are not a draft");
        let mut form = filled();
        form.contact_reach = "sam@example.org".into();
        let kept = serde_json::to_string(&form).unwrap();
        assert_eq!(serde_json::from_str::<ReportForm>(&kept).unwrap(), form);
        assert!(!form.is_blank());
        // Fields a draft lacks (an older draft) read as empty.
        let older: ReportForm = serde_json::from_str(r#"{"description":"Dark"}"#).unwrap();
        assert_eq!(older.description, "Dark");
        assert_eq!(older.kind, None);
    }
}
