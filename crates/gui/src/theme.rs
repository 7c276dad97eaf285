//! The wizard's look in one place, in the manner of rerun's `re_ui`: design tokens (colours,
//! spacing, text sizes) for a light and a dark theme, the verdict icons, and `install`, which
//! gives egui both themes and follows the choice (`--theme light|dark|system`, setting `theme`).
//! The light theme follows Microsoft's own wizard (white page, a light rail, a blue accent);
//! every colour a page draws comes from here.

use egui::{Color32, CornerRadius, FontFamily, FontId, Stroke, TextStyle};
use egui_material_icons::MaterialIcon;
use egui_material_icons::icons::{ICON_CANCEL, ICON_CHECK_CIRCLE, ICON_INFO, ICON_WARNING};

use writeback_core::config::Theme;

/// One theme's colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tokens {
    /// The page behind everything.
    pub page: Color32,
    /// The left rail and the bottom bar.
    pub rail: Color32,
    /// The title band over each page.
    pub band: Color32,
    /// Body text.
    pub text: Color32,
    /// Secondary text (codes, paths, pages not reached yet).
    pub weak: Color32,
    /// Links, the current page, the default button.
    pub accent: Color32,
    /// Text on the accent colour.
    pub on_accent: Color32,
    /// A verdict that passed.
    pub ok: Color32,
    /// A warning.
    pub warn: Color32,
    /// A failure.
    pub bad: Color32,
    /// Lines between areas.
    pub line: Color32,
    /// A button's face.
    pub button: Color32,
    /// A field's face.
    pub field: Color32,
    /// The LAB badge, so nobody mistakes the lab for production, and its text.
    pub badge: Color32,
    pub on_badge: Color32,
}

/// The light theme (the default where the system is light, as the Connect wizard is).
pub const LIGHT: Tokens = Tokens {
    page: Color32::from_rgb(0xff, 0xff, 0xff),
    rail: Color32::from_rgb(0xf3, 0xf5, 0xf8),
    band: Color32::from_rgb(0xeb, 0xf3, 0xfb),
    text: Color32::from_rgb(0x1b, 0x1b, 0x1b),
    weak: Color32::from_rgb(0x5f, 0x63, 0x68),
    accent: Color32::from_rgb(0x00, 0x5f, 0xb8),
    on_accent: Color32::WHITE,
    ok: Color32::from_rgb(0x10, 0x7c, 0x10),
    warn: Color32::from_rgb(0x9d, 0x5d, 0x00),
    bad: Color32::from_rgb(0xc4, 0x2b, 0x1c),
    line: Color32::from_rgb(0xd6, 0xda, 0xe0),
    button: Color32::from_rgb(0xf0, 0xf2, 0xf5),
    field: Color32::from_rgb(0xff, 0xff, 0xff),
    badge: Color32::from_rgb(0xfa, 0xc8, 0x3c),
    on_badge: Color32::BLACK,
};

/// The dark theme (when the system asks for it, or `--theme dark`).
pub const DARK: Tokens = Tokens {
    page: Color32::from_rgb(0x20, 0x20, 0x22),
    rail: Color32::from_rgb(0x2b, 0x2b, 0x2e),
    band: Color32::from_rgb(0x1b, 0x2a, 0x3a),
    text: Color32::from_rgb(0xe6, 0xe6, 0xe6),
    weak: Color32::from_rgb(0xa0, 0xa4, 0xaa),
    accent: Color32::from_rgb(0x60, 0xcd, 0xff),
    on_accent: Color32::from_rgb(0x10, 0x10, 0x10),
    ok: Color32::from_rgb(0x6c, 0xcb, 0x5f),
    warn: Color32::from_rgb(0xfc, 0xe1, 0x00),
    bad: Color32::from_rgb(0xff, 0x99, 0xa4),
    line: Color32::from_rgb(0x45, 0x47, 0x4c),
    button: Color32::from_rgb(0x3a, 0x3b, 0x3f),
    field: Color32::from_rgb(0x18, 0x18, 0x1a),
    badge: Color32::from_rgb(0xfa, 0xc8, 0x3c),
    on_badge: Color32::BLACK,
};

/// Spacing and sizes, in points.
pub mod space {
    /// Inside the page, around the title band and the rail.
    pub const MARGIN: i8 = 16;
    /// Above and below the bottom bar's buttons.
    pub const BAR: i8 = 8;
    /// Between the items of a list, and between a page's blocks.
    pub const ITEM: f32 = 6.0;
    /// Between the paragraphs of a page of text.
    pub const PARAGRAPH: f32 = 8.0;
    /// Before a page's closing block (settings, the next step).
    pub const GROUP: f32 = 12.0;
    /// Between a page's sections.
    pub const SECTION: f32 = 14.0;
    /// The rail's width.
    pub const RAIL: f32 = 250.0;
    /// A field's label, left of the field.
    pub const LABEL: [f32; 2] = [150.0, 20.0];
    /// A single-line field's width.
    pub const FIELD: f32 = 360.0;
    /// Inside an error's frame.
    pub const BOX: i8 = 10;
    /// Corners of frames.
    pub const CORNER: u8 = 4;
    /// The window's size at start (and the snapshots').
    pub const WINDOW: [f32; 2] = [940.0, 620.0];
}

/// Text sizes, in points.
pub mod text {
    pub const BODY: f32 = 14.0;
    pub const SMALL: f32 = 12.0;
    pub const TITLE: f32 = 22.0;
    pub const SECTION: f32 = 16.0;
    pub const ICON: f32 = 18.0;
    /// A device code to type.
    pub const CODE: f32 = 28.0;
}

/// The tokens of the theme in use.
pub fn tokens(ctx: &egui::Context) -> &'static Tokens {
    if ctx.global_style().visuals.dark_mode { &DARK } else { &LIGHT }
}

/// What a line says of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Warning,
    Failed,
    Info,
}

impl Verdict {
    /// Its icon and colour.
    pub fn icon(self, t: &Tokens) -> (MaterialIcon, Color32) {
        match self {
            Verdict::Ok => (ICON_CHECK_CIRCLE, t.ok),
            Verdict::Warning => (ICON_WARNING, t.warn),
            Verdict::Failed => (ICON_CANCEL, t.bad),
            Verdict::Info => (ICON_INFO, t.accent),
        }
    }

    /// Its name for screen readers (the icon's accessible label).
    pub fn spoken(self) -> &'static str {
        match self {
            Verdict::Ok => "Passed",
            Verdict::Warning => "Warning",
            Verdict::Failed => "Failed",
            Verdict::Info => "Note",
        }
    }
}

fn visuals(t: &Tokens, dark: bool) -> egui::Visuals {
    let mut v = if dark { egui::Visuals::dark() } else { egui::Visuals::light() };
    v.panel_fill = t.page;
    v.window_fill = t.page;
    v.extreme_bg_color = t.field;
    v.faint_bg_color = t.rail;
    v.override_text_color = Some(t.text);
    v.hyperlink_color = t.accent;
    v.error_fg_color = t.bad;
    v.warn_fg_color = t.warn;
    v.selection.bg_fill = t.accent;
    v.selection.stroke = Stroke::new(1.0, t.on_accent);
    v.window_stroke = Stroke::new(1.0, t.line);
    let round = CornerRadius::same(space::CORNER);
    for w in [&mut v.widgets.inactive, &mut v.widgets.hovered, &mut v.widgets.active, &mut v.widgets.open] {
        w.corner_radius = round;
    }
    v.widgets.noninteractive.bg_stroke = Stroke::new(1.0, t.line);
    v.widgets.inactive.weak_bg_fill = t.button;
    v.widgets.inactive.bg_fill = t.button;
    v.widgets.inactive.bg_stroke = Stroke::new(1.0, t.line);
    v.widgets.hovered.bg_stroke = Stroke::new(1.0, t.accent);
    v
}

/// Gives egui both themes, the text sizes, the icon font, and the choice.
pub fn install(ctx: &egui::Context, theme: Theme) {
    egui_material_icons::initialize(ctx);
    ctx.set_visuals_of(egui::Theme::Light, visuals(&LIGHT, false));
    ctx.set_visuals_of(egui::Theme::Dark, visuals(&DARK, true));
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (TextStyle::Heading, FontId::new(text::TITLE, FontFamily::Proportional)),
            (TextStyle::Body, FontId::new(text::BODY, FontFamily::Proportional)),
            (TextStyle::Button, FontId::new(text::BODY, FontFamily::Proportional)),
            (TextStyle::Small, FontId::new(text::SMALL, FontFamily::Proportional)),
            (TextStyle::Monospace, FontId::new(text::SMALL + 1.0, FontFamily::Monospace)),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(8.0, space::ITEM);
        style.spacing.button_padding = egui::vec2(12.0, 4.0);
    });
    ctx.set_theme(match theme {
        Theme::Light => egui::ThemePreference::Light,
        Theme::Dark => egui::ThemePreference::Dark,
        Theme::System => egui::ThemePreference::System,
    });
}

/// A verdict line: its icon (named for screen readers), then the words.
pub fn verdict_line(ui: &mut egui::Ui, verdict: Verdict, words: &str) -> egui::Response {
    let t = tokens(ui.ctx());
    ui.horizontal(|ui| {
        let (icon, colour) = verdict.icon(t);
        let r = ui.add(egui::Label::new(icon.rich_text().size(text::ICON).color(colour)).selectable(false));
        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, verdict.spoken()));
        ui.add(egui::Label::new(words).wrap())
    })
    .inner
}
