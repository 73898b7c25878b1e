//! Give this crate's binaries and tests an rpath to the libtorch that
//! torch-sys linked against, so they run without `LD_LIBRARY_PATH`.
//!
//! torch-sys declares `links = "tch"` and prints `cargo:libtorch_lib=DIR`;
//! cargo hands that to the build scripts of crates depending on it directly
//! as `DEP_TCH_LIBTORCH_LIB`. `rustc-link-arg` only reaches this crate's own
//! link targets, which is why each crate with binaries or tests repeats it.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
