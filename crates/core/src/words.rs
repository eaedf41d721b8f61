//! The residents' pages in words: what the app's screens and the server's
//! plain pages (which work with no script at all) both say, kept once here so
//! the two never drift. Each page's words are a module; a sentence with a
//! link in it is split where the link goes.

/// The line on every residents' page for someone in danger: before the
/// 999 link, between it and the 101 link, and after.
pub const EMERGENCY: [&str; 3] = [
    "In danger now? Call ",
    ". To report a crime that is not an emergency, call ",
    ".",
];

/// The residents' home (`/`).
pub mod home {
    pub const TITLE: &str = "Feel unsafe somewhere?";
    pub const LEAD: &str = "Tell your councillor about a place that feels unsafe: a dark path, an empty underpass, a broken light. It takes a minute and needs no account.";
    pub const REPORT: &str = "Report a place";
    pub const CHECK: &str = "Check a report by its code";
    pub const CHECK_MORE: &str = "See what has happened to a report";
    pub const MEETINGS: &str = "Meetings";
    pub const MEETINGS_MORE: &str = "What was promised, and what was done";
    pub const PRIVACY: &str = "Your privacy";
    pub const PRIVACY_MORE: &str = "What is kept, who sees it, and how to have it erased";
    pub const PAIR: &str = "Councillor? Pair this phone";
}

/// "Report a place" (`/report`).
pub mod report {
    pub const TITLE: &str = "Report a place";
    pub const INTRO: &str =
        "Tell your councillor where you feel unsafe. No account is needed, and you can stay anonymous.";
    pub const KIND: &str = "What kind of problem?";
    pub const WHERE: &str = "Where?";
    pub const PLACE: &str = "Describe the place";
    pub const PLACE_EXAMPLE: &str = "e.g. the underpass by the station";
    /// No place given, where the page cannot ask for the phone's location.
    pub const NO_PLACE: &str = "Say where: describe the place.";
    /// Where the page cannot ask for the phone's location (no script).
    pub const PLACE_WITHOUT_LOCATION: &str = "Name the street and something near it that others would know: a shop, a bus stop, a bridge.";
    /// Asked when the server holds several wards and there is no location.
    pub const WARD_QUESTION: &str = "Which ward is it in? Only needed without your location.";
    pub const WARD_UNKNOWN: &str = "I don't know";
    pub const WHEN: &str = "When does it feel unsafe?";
    pub const WHEN_DETAIL: &str = "Which time?";
    pub const WHEN_DETAIL_EXAMPLE: &str = "e.g. Friday nights around midnight";
    pub const DESCRIPTION: &str = "What happens there?";
    pub const PHOTO: &str = "Add a photo (optional)";
    /// The app shrinks a photo before it leaves the phone.
    pub const PHOTO_PRIVACY: &str = "Photos are made smaller on this phone before they are sent, which also removes the hidden details a camera adds: the phone's location and the time. Only your councillor sees them, unless they choose to show one on the report's public page.";
    /// The plain form sends the photo as it is; the server cleans it.
    pub const PHOTO_PRIVACY_SENT_WHOLE: &str = "The hidden details a camera adds to a photo (the phone's location and the time) are removed when it arrives, before it is kept. Only your councillor sees it, unless they choose to show it on the report's public page.";
    pub const CONTACT: &str = "Contact details (optional)";
    pub const CONTACT_WHY: &str = "Only if you want a reply. Your councillor alone sees them, to answer you about this report. They never appear on the status page and are not shared with anyone else.";
    pub const CONTACT_PRIVACY: &str = "How long they are kept, and how to have them erased";
    pub const NAME: &str = "Name";
    pub const REACH: &str = "Email or phone";
    pub const SEND: &str = "Send report";

    /// Above the Send button when there is more than one problem.
    pub fn problem_count(n: usize) -> String {
        format!("{n} things to fix before sending.")
    }
}

/// Looking a report up by its code (on `/reports`).
pub mod look_up {
    pub const TITLE: &str = "Your reports";
    pub const LABEL: &str = "Check a report by its code";
    pub const EXAMPLE: &str = "K7QF2-M3XDA";
    pub const BUTTON: &str = "Check";
    pub const NOT_A_CODE: &str = "That is not a reference code. Codes look like K7QF2-M3XDA.";
    pub const NOT_FOUND: &str = "No report has this code. Check it against the one you were given.";
    /// In Safari on an iPhone or iPad, not from the home screen.
    pub const ADD_TO_HOME_SCREEN: &str = "Safari deletes what a website keeps when it has not been used for seven days, and these reports would go with it: write their codes down. To keep the reports you make from now on, add Beatbook to your home screen (Share, then \"Add to Home Screen\") and report from there.";
}

/// One report's public page (`/reports/<code>`).
pub mod status {
    pub const STATUS: &str = "Status: ";
    /// Before the name of the ward the report went to.
    pub const WARD: &str = "Ward: ";
    pub const SENT: &str = "Report sent. Your reference code is below.";
    pub const KEEP_CODE: &str = "Keep this code: it is the only way to follow the report, and no one else can give it to you again. Write it down, or keep this page's address.";
    pub const ASK_ERASURE: &str = "Ask for my details to be erased";
    pub const ERASURE_QUESTION: &str = "Your contact details, your description and your exact location will be erased by the councillor. The code and the status history stay, so you can still follow the report.";
    pub const ERASURE_REQUESTED: &str = "Your request has reached the councillor, who will erase your contact details, description and exact location. This page will say when it is done; the code and the status history stay.";
    pub const OTHER_REPORTS: &str = "Your reports, and checking another code";
    /// Push notifications for one report (`src/push.rs`).
    pub const TELL_ME: &str = "Tell me when this changes";
    pub const TELL_ME_SAID: &str = "Your phone will show a notification when the councillor changes this report's status or answers it. The server keeps only the delivery address your browser gives, against this report's code alone, and deletes it when the report is closed or erased. You can stop at any time on this page.";
    pub const TOLD: &str = "You will get a notification when this report changes.";
    pub const STOP: &str = "Stop notifications";
    pub const STOPPED: &str = "Notifications for this report are stopped.";
    pub const STOPPING: &str =
        "Notifications for this report are stopped. The server is told as soon as there is signal.";
    pub const HOME_SCREEN_FIRST: &str = "To get a notification when this report changes, add Beatbook to your Home Screen first: tap the Share button, then \"Add to Home Screen\", then open this report from the Beatbook icon.";
    /// The plain form's report was stored, its photo was not.
    pub const PHOTO_NOT_KEPT: &str = "The report was sent without its photo: the server could not keep the photo just now. The councillor has your words.";
}

/// Public meetings (`/meetings`).
pub mod meetings {
    pub const TITLE: &str = "Public meetings: concerns and progress";
    pub const INTRO: &str =
        "What residents raised at public meetings, and what has been done since.";
    pub const NONE: &str = "No concerns recorded yet.";
}

/// "Your report and your privacy" (`/privacy`): headings, each with its
/// paragraphs; the one about how long contact details are kept is
/// [`privacy::contact_kept`], as the server is set.
pub mod privacy {
    pub const TITLE: &str = "Your report and your privacy";
    pub const WHAT: &str = "What is kept";
    pub const WHAT_SAID: [&str; 3] = [
        "What you write in the report: the kind of problem, where (the place you describe, and your location if you tap \"Use my location\": only the area around it, about 100 metres, unless you tick \"Share the exact spot\"), when it feels unsafe and what happens there.",
        "Your name and how to reach you, only if you give them. A report needs neither.",
        "Nothing else: no account, and your phone's address is not stored.",
    ];
    pub const WHO: &str = "Who sees it";
    pub const WHO_SAID: [&str; 2] = [
        "Only your councillor sees your contact details and your exact words. Anyone with your reference code sees the report's kind, place, status and the councillor's public response, never your contact details or your exact location.",
        "Files your councillor exports, for example for the police, leave out your contact details and say whether the location is exact or rounded.",
    ];
    pub const HOW_LONG: &str = "For how long";
    pub const HOW_LONG_SAID: &str =
        "The report itself is kept so that what was promised and done can be followed.";
    pub const NOTIFIED: &str = "Hearing back";
    pub const NOTIFIED_SAID: [&str; 2] = [
        "If you tap \"Tell me when this changes\" on a report's page, your browser gives the server an address for delivering notifications to this phone. The server keeps it against that report's code alone, apart from the report, uses it only to say that the report changed, and deletes it when the report is closed or erased, or when you tap \"Stop notifications\". If you ask about several reports from one phone, the address is the same for each.",
        "The notification passes through your browser's push service (Google's, Apple's or Mozilla's), encrypted so that only your phone can read it.",
    ];
    pub const ERASED: &str = "Having it erased";
    pub const ERASED_SAID: &str = "You can ask for your contact details, your description and your exact location to be erased at any time: on the phone you made the report on, open the report's page and choose \"Ask for my details to be erased\". The councillor erases them, and the report's page then says when. The report's code and its status history are kept.";

    /// How long contact details are kept, as the server is set (`None`
    /// while the phone has not heard).
    pub fn contact_kept(days: Option<u32>) -> String {
        match days {
            Some(days) => format!(
                "Your contact details are erased automatically {days} days after your report is closed."
            ),
            None => "Your contact details are erased automatically a set number of days after your report is closed (90 unless the council has chosen otherwise).".to_owned(),
        }
    }
}
