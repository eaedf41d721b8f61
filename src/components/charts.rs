//! The inbox's summary charts, drawn as SVG from the data on the phone:
//! reports and notes by week, by hour of the day, and reports by kind.

use beatbook_core::protocol::InboxReport;
use beatbook_core::{summary, ReportKind};
use chrono::{Duration, FixedOffset};
use leptos::prelude::*;

use crate::state::AppState;
use crate::time;

/// Weeks the weekly chart covers.
const WEEKS: usize = 8;

/// The phone's offset from UTC now, for "hour of the day".
pub(super) fn local_offset() -> FixedOffset {
    let minutes = -(js_sys::Date::new_0().get_timezone_offset() as i32);
    FixedOffset::east_opt(minutes * 60).unwrap_or(FixedOffset::east_opt(0).expect("zero offset"))
}

/// Reports and notes by week and by hour of the day, drawn from the data on
/// this phone.
#[component]
pub(super) fn Charts(reports: Signal<Vec<InboxReport>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let note_times = Memo::new(move |_| {
        state
            .book
            .with(|b| b.notes().map(|n| n.created_at).collect::<Vec<_>>())
    });
    let report_times = Memo::new(move |_| {
        reports.with(|r| r.iter().map(|r| r.report.created_at).collect::<Vec<_>>())
    });
    let weekly = move || {
        let now = time::now();
        (
            summary::weekly(report_times.get(), now, WEEKS),
            summary::weekly(note_times.get(), now, WEEKS),
        )
    };
    let hourly = move || {
        let offset = local_offset();
        (
            summary::hourly(report_times.get(), offset).to_vec(),
            summary::hourly(note_times.get(), offset).to_vec(),
        )
    };
    let kinds = move || {
        let since = time::now() - Duration::weeks(WEEKS as i64);
        reports.with(|r| {
            let recent = r.iter().filter(|r| r.report.created_at >= since);
            summary::by(recent.map(|r| r.report.kind), &ReportKind::ALL)
        })
    };
    let week_labels: Vec<String> = (0..WEEKS)
        .map(|i| match WEEKS - 1 - i {
            0 => "this".to_owned(),
            n => format!("-{n}"),
        })
        .collect();
    let hour_labels: Vec<String> = (0..24)
        .map(|h| {
            if h % 6 == 0 {
                format!("{h:02}")
            } else {
                String::new()
            }
        })
        .collect();
    view! {
        <details class="charts" open data-testid="charts">
            <summary>"Summary"</summary>
            <p class="legend"><span class="key reports"></span>" reports  "<span class="key notes"></span>" your notes"</p>
            <h3>"By week (last 8)"</h3>
            {move || { let (r, n) = weekly(); view! { <Bars title="Reports and notes per week" labels=week_labels.clone() first=r second=n/> } }}
            <h3>"By hour of the day: when do people feel unsafe?"</h3>
            {move || { let (r, n) = hourly(); view! { <Bars title="Reports and notes by hour of the day" labels=hour_labels.clone() first=r second=n/> } }}
            <h3>"Reports by kind (last 8 weeks)"</h3>
            {move || view! { <KindBars counts=kinds()/> }}
        </details>
    }
}

/// Paired vertical bars as SVG: `first` (reports) and, if given, `second`
/// (notes) for each label. Scaled to the tallest bar; counts in the tooltip.
#[component]
fn Bars(
    title: &'static str,
    labels: Vec<String>,
    first: Vec<u32>,
    second: Vec<u32>,
) -> impl IntoView {
    const HEIGHT: u32 = 100;
    // Narrower steps when there are many, so every chart keeps a useful height.
    let step: u32 = if labels.len() > 12 { 12 } else { 24 };
    let bar_width = step * 3 / 8;
    let most = first
        .iter()
        .chain(&second)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let width = step * labels.len() as u32;
    let bar = |value: u32, x: u32, class: &'static str, label: &str| {
        let h = value * HEIGHT / most;
        view! {
            <rect class=class x=x.to_string() y=(HEIGHT - h).to_string() width=bar_width.to_string() height=h.to_string()>
                <title>{format!("{label}: {value}")}</title>
            </rect>
        }
    };
    let total: u32 = first.iter().chain(&second).sum();
    view! {
        <svg class="chart" role="img" aria-label=format!("{title}: {total} in all") viewBox=format!("0 0 {width} {}", HEIGHT + 16)
            data-testid="chart">
            {labels.iter().enumerate().map(|(i, label)| {
                let x = i as u32 * step;
                view! {
                    <g>
                        {bar(first.get(i).copied().unwrap_or(0), x + step / 12, "reports", label)}
                        {(!second.is_empty()).then(|| bar(second.get(i).copied().unwrap_or(0), x + step / 2, "notes", label))}
                        <text x=(x + step / 2).to_string() y=(HEIGHT + 13).to_string() text-anchor="middle">{label.clone()}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}

/// One horizontal bar per kind of report, labelled, longest first in scale.
#[component]
fn KindBars(counts: Vec<u32>) -> impl IntoView {
    const ROW: u32 = 20;
    const LABEL: u32 = 170;
    const BAR: u32 = 150;
    let most = counts.iter().copied().max().unwrap_or(0).max(1);
    let total: u32 = counts.iter().sum();
    let height = ROW * ReportKind::ALL.len() as u32;
    view! {
        <svg class="chart kinds" role="img" aria-label=format!("Reports by kind: {total} in all") data-testid="chart"
            viewBox=format!("0 0 {} {height}", LABEL + BAR + 30)>
            {ReportKind::ALL.iter().zip(&counts).enumerate().map(|(i, (kind, n))| {
                let y = i as u32 * ROW;
                let w = n * BAR / most;
                view! {
                    <g>
                        <text x="0" y=(y + 14).to_string()>{kind.label()}</text>
                        <rect class="reports" x=LABEL.to_string() y=(y + 4).to_string() width=w.to_string() height="12"></rect>
                        <text x=(LABEL + w + 4).to_string() y=(y + 14).to_string()>{n.to_string()}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}
