//! Residents' reports, one file per screen: "Report a place" ([`form`]),
//! "My reports" ([`mine`]), looking a code up ([`look_up`]), and a report's
//! status page ([`status`]). No account is needed; a report waits on the
//! phone like a note until the server can be reached, and its status page is
//! kept for reading offline.

mod form;
mod look_up;
mod mine;
mod status;

pub use form::ReportScreen;
pub use mine::MyReportsScreen;
pub use status::StatusScreen;
