//! Dead letters: input a stage refuses is kept on `vigie.deadletter` with the stage, the field at
//! fault, the reason and the original bytes — never silently dropped.

use crate::bus::OutRecord;
use crate::model::FieldError;
use crate::proto::DeadLetter;
use prost::Message;

/// Protobuf type name carried in the schema header of dead letters.
pub const SCHEMA: &str = "vigie.v1.DeadLetter";

/// Builds the dead-letter record for refused input. The key is the tenant (when known) so one
/// tenant's rejects stay together.
pub fn record(stage: &str, origin: &str, tenant: &str, error: &FieldError, original: &[u8]) -> OutRecord {
    let letter = DeadLetter {
        stage: stage.to_string(),
        field: error.field.clone(),
        reason: error.reason.clone(),
        original: original.to_vec(),
        origin: origin.to_string(),
        tenant: tenant.to_string(),
        rejected_at_ms: crate::now_ms(),
    };
    OutRecord::message(tenant.to_string(), SCHEMA, letter.encode_to_vec())
}
