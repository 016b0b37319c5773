// Bake LibTorch's library folder into the binary's rpath so `slfsim` runs
// outside cargo/make without LD_LIBRARY_PATH. torch-sys exports the folder
// as DEP_TCH_LIBTORCH_LIB because it is a direct dependency.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath={dir}");
    }
}
