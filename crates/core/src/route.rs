//! Where each screen lives: one path per screen, so the back gesture walks
//! back through screens, a reload stays put and a link can name a screen.
//!
//! The app has two faces. A phone that is not paired (and holds no notebook)
//! shows the residents' pages; a paired phone shows the councillor's
//! notebook and can still open every residents' page.

use uuid::Uuid;

use crate::record::RecordKind;
use crate::team::{Action, Role};

/// Which set of screens a phone shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    /// Anyone: report a place, follow a report, meetings, privacy.
    Residents,
    /// A paired phone: capture, notes, shifts, inbox, settings.
    Notebook,
}

impl Face {
    /// The records only a notebook keeps (a resident's phone keeps reports).
    /// The page's first script decides by them too, from the storage keys
    /// before the app runs: the build writes them into it
    /// (`xtask/src/dist.rs`).
    pub const NOTEBOOK_KINDS: [RecordKind; 4] = [
        RecordKind::Note,
        RecordKind::Shift,
        RecordKind::Concern,
        RecordKind::Triage,
    ];

    /// A paired phone shows the notebook; so does one that already holds
    /// notes, shifts, concerns or triage (made before this release, or
    /// before it was unpaired), so nothing on it is ever out of reach.
    pub fn of(paired: bool, book: &crate::Notebook) -> Face {
        let keeps_a_notebook = book
            .revisions()
            .any(|(key, _)| Face::NOTEBOOK_KINDS.contains(&key.kind));
        if paired || keeps_a_notebook {
            Face::Notebook
        } else {
            Face::Residents
        }
    }
}

/// A screen and what it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: the face's home (the residents' home, or capture on a paired phone).
    Home,
    /// `/residents`: the residents' home, on either face.
    Residents,
    /// `/report`: the "Report a place" form.
    Report,
    /// `/reports`: reports made on this phone, and checking a code.
    Reports,
    /// `/reports/<code>`: one report's public status.
    ReportStatus(String),
    Meetings,
    Privacy,
    /// `/pair`: a councillor pairs this phone.
    Pair,
    Notes,
    Note(Uuid),
    Shifts,
    Inbox,
    Settings,
    /// A path no screen has.
    NotFound,
}

impl Route {
    /// The screen an address names. `query` is the part after `?`, without
    /// it: links from before screens had paths (`/?screen=notes`,
    /// `/?screen=reports&code=…`) open the same screen.
    pub fn parse(path: &str, query: &str) -> Route {
        let path = path.trim_end_matches('/');
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] | ["index.html"] => Self::from_old_query(query),
            ["residents"] => Route::Residents,
            ["report"] => Route::Report,
            ["reports"] => Route::Reports,
            ["reports", code] => match crate::code::normalise(code) {
                Some(code) => Route::ReportStatus(code),
                None => Route::NotFound,
            },
            ["meetings"] => Route::Meetings,
            ["privacy"] => Route::Privacy,
            ["pair"] => Route::Pair,
            ["notes"] => Route::Notes,
            ["notes", id] => match Uuid::parse_str(id) {
                Ok(id) => Route::Note(id),
                Err(_) => Route::NotFound,
            },
            ["shifts"] => Route::Shifts,
            ["inbox"] => Route::Inbox,
            ["settings"] => Route::Settings,
            _ => Route::NotFound,
        }
    }

    fn from_old_query(query: &str) -> Route {
        let param = |name: &str| {
            query.split('&').find_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key == name).then_some(value)
            })
        };
        match param("screen") {
            Some("notes") => Route::Notes,
            Some("shifts") => Route::Shifts,
            Some("settings") => Route::Settings,
            Some("report") => Route::Report,
            Some("reports") => match param("code").and_then(crate::code::normalise) {
                Some(code) => Route::ReportStatus(code),
                None => Route::Reports,
            },
            Some("inbox") => Route::Inbox,
            Some("meetings") => Route::Meetings,
            Some("privacy") => Route::Privacy,
            _ => Route::Home,
        }
    }

    /// The path this screen lives at.
    pub fn path(&self) -> String {
        match self {
            Route::Home | Route::NotFound => "/".into(),
            Route::Residents => "/residents".into(),
            Route::Report => "/report".into(),
            Route::Reports => "/reports".into(),
            Route::ReportStatus(code) => format!("/reports/{code}"),
            Route::Meetings => "/meetings".into(),
            Route::Privacy => "/privacy".into(),
            Route::Pair => "/pair".into(),
            Route::Notes => "/notes".into(),
            Route::Note(id) => format!("/notes/{id}"),
            Route::Shifts => "/shifts".into(),
            Route::Inbox => "/inbox".into(),
            Route::Settings => "/settings".into(),
        }
    }

    /// Whether only a paired phone may open this screen.
    pub fn needs_notebook(&self) -> bool {
        matches!(
            self,
            Route::Notes | Route::Note(_) | Route::Shifts | Route::Inbox | Route::Settings
        )
    }

    /// The screen a phone with this face actually shows for this address:
    /// a phone without the notebook that follows a notebook link lands on
    /// the residents' home, and a paired phone has no pairing screen.
    pub fn for_face(self, face: Face) -> Route {
        match (face, self) {
            (Face::Residents, route) if route.needs_notebook() => Route::Home,
            (Face::Notebook, Route::Pair) => Route::Settings,
            (_, route) => route,
        }
    }

    /// The screen a paired phone shows for this address, by its person's
    /// role: a ward panel member keeps no notebook, so the notebook's
    /// screens (and its home, the capture screen) open the inbox.
    pub fn for_role(self, role: Role) -> Route {
        let keeps_notebook = role.may(Action::KeepNotebook).is_ok();
        match self {
            Route::Home | Route::Notes | Route::Note(_) | Route::Shifts if !keeps_notebook => {
                Route::Inbox
            }
            route => route,
        }
    }

    /// The document's title on this screen, for the tab, the app switcher and
    /// a screen reader.
    pub fn title(&self, face: Face) -> String {
        let name = match (self, face) {
            (Route::Home, Face::Residents) | (Route::Residents, _) => {
                return "Beatbook: report a place that feels unsafe".into()
            }
            (Route::Home, Face::Notebook) => "New note",
            (Route::Report, _) => "Report a place",
            (Route::Reports, _) => "Your reports",
            (Route::ReportStatus(code), _) => return format!("Report {code} · Beatbook"),
            (Route::Meetings, _) => "Meetings",
            (Route::Privacy, _) => "Your privacy",
            (Route::Pair, _) => "Pair this phone",
            (Route::Notes, _) => "Notes",
            (Route::Note(_), _) => "Note",
            (Route::Shifts, _) => "Shifts",
            (Route::Inbox, _) => "Inbox",
            (Route::Settings, _) => "Settings",
            (Route::NotFound, _) => "Page not found",
        };
        format!("{name} · Beatbook")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every() -> Vec<Route> {
        vec![
            Route::Home,
            Route::Residents,
            Route::Report,
            Route::Reports,
            Route::ReportStatus("K7QF2-M3XDA".into()),
            Route::Meetings,
            Route::Privacy,
            Route::Pair,
            Route::Notes,
            Route::Note(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001)),
            Route::Shifts,
            Route::Inbox,
            Route::Settings,
        ]
    }

    #[test]
    fn every_screen_is_found_again_at_its_path() {
        for route in every() {
            assert_eq!(Route::parse(&route.path(), ""), route, "{}", route.path());
        }
    }

    #[test]
    fn paths_differ_per_screen() {
        let mut paths: Vec<String> = every().iter().map(Route::path).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), every().len());
    }

    #[test]
    fn links_from_before_paths_open_the_same_screen() {
        assert_eq!(Route::parse("/", "screen=notes"), Route::Notes);
        assert_eq!(Route::parse("/", "screen=report"), Route::Report);
        assert_eq!(Route::parse("/", "screen=capture"), Route::Home);
        assert_eq!(Route::parse("/", "screen=meetings"), Route::Meetings);
        assert_eq!(Route::parse("/index.html", "screen=inbox"), Route::Inbox);
        assert_eq!(
            Route::parse("/", "screen=reports&code=k7qf2m3xda"),
            Route::ReportStatus("K7QF2-M3XDA".into())
        );
        assert_eq!(
            Route::parse("/", "code=nonsense&screen=reports"),
            Route::Reports
        );
        assert_eq!(Route::parse("/", ""), Route::Home);
        assert_eq!(Route::parse("/", "screen=unknown"), Route::Home);
    }

    #[test]
    fn a_trailing_slash_and_a_typed_code_are_forgiven() {
        assert_eq!(Route::parse("/notes/", ""), Route::Notes);
        assert_eq!(
            Route::parse("/reports/k7qf2m3xda", ""),
            Route::ReportStatus("K7QF2-M3XDA".into())
        );
    }

    #[test]
    fn unknown_paths_and_bad_ids_are_not_found() {
        assert_eq!(Route::parse("/nowhere", ""), Route::NotFound);
        assert_eq!(Route::parse("/notes/not-a-uuid", ""), Route::NotFound);
        assert_eq!(Route::parse("/reports/short", ""), Route::NotFound);
        assert_eq!(Route::parse("/notes/a/b", ""), Route::NotFound);
    }

    #[test]
    fn a_phone_without_the_notebook_is_never_shown_it() {
        for route in every() {
            let shown = route.clone().for_face(Face::Residents);
            assert!(!shown.needs_notebook(), "{route:?} showed {shown:?}");
        }
        assert_eq!(Route::Pair.for_face(Face::Notebook), Route::Settings);
        assert_eq!(Route::Report.for_face(Face::Notebook), Route::Report);
    }

    #[test]
    fn a_ward_panel_member_s_phone_opens_the_inbox_for_the_notebook_s_screens() {
        for route in every() {
            assert_eq!(route.clone().for_role(Role::Councillor), route);
            assert_eq!(route.clone().for_role(Role::Officer), route);
            let shown = route.clone().for_role(Role::Viewer);
            assert!(
                !matches!(
                    shown,
                    Route::Home | Route::Notes | Route::Note(_) | Route::Shifts
                ),
                "{route:?} showed {shown:?}"
            );
        }
        assert_eq!(Route::Home.for_role(Role::Viewer), Route::Inbox);
        assert_eq!(Route::Meetings.for_role(Role::Viewer), Route::Meetings);
    }

    #[test]
    fn a_phone_shows_the_notebook_when_paired_or_when_it_holds_one() {
        use chrono::TimeZone;
        let mut book = crate::Notebook::new();
        assert_eq!(Face::of(false, &book), Face::Residents);
        assert_eq!(Face::of(true, &book), Face::Notebook);
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 22, 0, 0)
            .unwrap();
        book.upsert_note(crate::test_support::note(1, at).build());
        assert_eq!(
            Face::of(false, &book),
            Face::Notebook,
            "notes from before stay in reach"
        );
    }

    #[test]
    fn every_screen_has_its_own_title() {
        let mut titles: Vec<String> = every()
            .iter()
            .filter(|r| **r != Route::Residents)
            .map(|r| r.title(Face::Notebook))
            .collect();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), every().len() - 1);
        assert!(Route::Home
            .title(Face::Residents)
            .contains("report a place"));
    }
}
