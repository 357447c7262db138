//! Colours: the Okabe–Ito palette (distinguishable with the common colour-vision
//! deficiencies), plus greys for limits and backgrounds.

/// An sRGB colour.
pub type Rgb = (u8, u8, u8);

/// Input, running, backlog.
pub const BLUE: Rgb = (0, 114, 178);
/// Delivered, 2xx.
pub const GREEN: Rgb = (0, 158, 115);
/// Errors (5xx), lag, WAL-truncation loss, fault windows.
pub const VERMILLION: Rgb = (213, 94, 0);
/// 429, desired shards, too-old drops.
pub const ORANGE: Rgb = (230, 159, 0);
/// Queued samples, reshard-shutdown drops.
pub const SKY: Rgb = (86, 180, 233);
/// Other 4xx, failed samples, incident windows.
pub const PURPLE: Rgb = (204, 121, 167);
/// Timeouts.
pub const BROWN: Rgb = (140, 86, 40);
/// Connection refused, text.
pub const BLACK: Rgb = (0, 0, 0);
/// Limits (max_shards), retries.
pub const GREY: Rgb = (110, 110, 110);
/// Grid lines.
pub const GRID: Rgb = (225, 225, 225);
/// Axis lines and secondary text.
pub const AXIS: Rgb = (90, 90, 90);
/// Shade of [`super::run::WindowKind::Fault`] windows.
pub const FAULT_SHADE: Rgb = (213, 94, 0);
/// Shade of [`super::run::WindowKind::Incident`] windows.
pub const INCIDENT_SHADE: Rgb = (204, 121, 167);
/// Opacity of window shading.
pub const SHADE_ALPHA: f64 = 0.13;
/// Lost data: gap bands and the dashboard's headline (a dark red, apart from the
/// vermillion of faults and WAL-truncation loss).
pub const GAP: Rgb = (170, 20, 40);
/// Marker lines.
pub const MARKER: Rgb = (60, 60, 60);
