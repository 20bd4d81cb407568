//! Vigie's wire contracts (package `vigie.v1`): the messages carried on Kafka topics and the gRPC
//! services. Generated from `proto/vigie/v1/*.proto`; see those files for field documentation.

/// Version 1 of the contracts.
pub mod v1 {
    // Generated from the .proto files, whose comments are written for protobuf readers, not
    // rustdoc (`<tenant>/<id>` placeholders, bare URLs).
    #![allow(
        missing_docs,
        rustdoc::invalid_html_tags,
        rustdoc::bare_urls,
        rustdoc::broken_intra_doc_links
    )]
    tonic::include_proto!("vigie.v1");
}

pub use v1::*;

/// Encoded `FileDescriptorSet` of every Vigie proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("vigie_descriptor");
