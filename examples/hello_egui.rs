//! egui's hello world, built the same way as the wizard (same eframe, same features, same
//! profile): the peer of the start-up figure under Wine in docs/performance.md (the Linux figure
//! uses `perf --hello`, the same program).

fn main() -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("hello-egui").with_inner_size([940.0, 620.0]),
        ..Default::default()
    };
    eframe::run_ui_native("hello-egui", options, |ui, _frame| {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Hello World");
            ui.label("egui's hello world, for scale.");
        });
    })
}
