//! Generates Rust types and gRPC stubs from `proto/vigie/v1/*.proto` with a vendored `protoc`,
//! so a fresh machine needs no system protobuf compiler.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let files = [
        "vigie/v1/mention.proto",
        "vigie/v1/watch.proto",
        "vigie/v1/alert.proto",
        "vigie/v1/deadletter.proto",
        "vigie/v1/ingest.proto",
        "vigie/v1/token.proto",
        "vigie/v1/api.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    // The descriptor set lets the API serve gRPC reflection (grpcurl, Postman, …).
    let descriptors = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("vigie_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptors)
        .compile_protos(&files, &["."])?;
    Ok(())
}
