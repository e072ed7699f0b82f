"""Generated protobuf and gRPC stubs of labelport.v1 (do not edit)."""
