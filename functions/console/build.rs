//! Embeds the built pages into the binary: the console's (`web/dist`) and the partner portal's
//! (`web/dist-partner`), both written by `npm run build`, which `make` runs before cargo. Without a build
//! (a fresh clone before `make`, plain `cargo test`) it embeds a placeholder page that says how to build
//! them, so the workspace always compiles.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // A directory is scanned whole for changes; a missing one reruns this script until it exists.
    println!("cargo:rerun-if-changed=web/dist");
    println!("cargo:rerun-if-changed=web/dist-partner");
    println!("cargo:rerun-if-changed=build.rs");
    let mut out = String::new();
    for (dir, built, files) in [
        ("dist", "BUILT", "FILES"),
        ("dist-partner", "PARTNER_BUILT", "PARTNER_FILES"),
    ] {
        let dist = manifest.join("web").join(dir);
        let mut found = Vec::new();
        if dist.join("index.html").is_file() {
            collect(&dist, &dist, &mut found);
        }
        found.sort();
        let _ = writeln!(
            out,
            "/// Every built file of web/{dir}: its path under the app's prefix and its bytes."
        );
        let _ = writeln!(out, "pub static {built}: bool = {};", !found.is_empty());
        let _ = writeln!(out, "pub static {files}: &[(&str, &[u8])] = &[");
        for (name, path) in &found {
            let _ = writeln!(out, "    ({name:?}, include_bytes!({:?})),", path.display().to_string());
        }
        out.push_str("];\n");
    }
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((name, path));
        }
    }
}
