//! Vigie's wire contracts (package `vigie.v1`): the messages carried on Kafka topics and the gRPC
//! services. Generated from `proto/vigie/v1/*.proto`; see those files for field documentation.

/// Version 1 of the contracts.
pub mod v1 {
    #![allow(missing_docs)]
    tonic::include_proto!("vigie.v1");
}

pub use v1::*;

/// Encoded `FileDescriptorSet` of every Vigie proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("vigie_descriptor");
