//! In the Windows build: the icon, the manifest (requireAdministrator) and the version
//! information, compiled into the .exe.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        windows_resources();
    }
}
/// Compiles the icon, the manifest and the version information into the .exe. The version is
/// written into a copy of the .rc (windres runs its preprocessor through a shell, which strips the
/// quotes a `-D` string would need).
fn windows_resources() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let mut parts: Vec<String> = version.split(['.', '-']).take(3).map(String::from).collect();
    parts.resize(3, "0".into());
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("assets/windows");
    for f in ["writeback-wizard.rc", "writeback-wizard.ico", "writeback-wizard.exe.manifest"] {
        println!("cargo:rerun-if-changed=assets/windows/{f}");
    }
    let Ok(template) = std::fs::read_to_string(dir.join("writeback-wizard.rc")) else {
        println!("cargo:warning=assets/windows/writeback-wizard.rc cannot be read");
        std::process::exit(1);
    };
    let path = |f: &str| dir.join(f).display().to_string().replace('\\', "/");
    let rc = template
        .replace("VERSION_COMMA", &format!("{},0", parts.join(",")))
        .replace("VERSION_TEXT", &format!("\"{version}\""))
        .replace("\"writeback-wizard.ico\"", &format!("\"{}\"", path("writeback-wizard.ico")))
        .replace("\"writeback-wizard.exe.manifest\"", &format!("\"{}\"", path("writeback-wizard.exe.manifest")));
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("writeback-wizard.rc");
    if let Err(e) = std::fs::write(&out, rc) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
    if let Err(e) = embed_resource::compile_for(&out, ["writeback-wizard"], embed_resource::NONE).manifest_required() {
        println!("cargo:warning=the Windows resources could not be compiled: {e}");
        std::process::exit(1);
    }
}
