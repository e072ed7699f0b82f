package benchenv

import "google.golang.org/protobuf/proto"

// Scanner is a response a benchmark reads without decoding it fully: Scan reads only the fields
// the benchmark needs from the encoded message (with ScanFields), so that the load generator,
// which shares the machine's cores with the server, spends little CPU per response.
type Scanner interface {
	Scan(data []byte) error
}

// ScanCodec is a gRPC codec (grpc.ForceCodec(ScanCodec{})) that sends requests as protobuf and
// hands a response to its Scan when the call's reply is a Scanner; other replies are decoded.
type ScanCodec struct{}

// Name is the content subtype of protobuf.
func (ScanCodec) Name() string { return "proto" }

// Marshal encodes a request as protobuf.
func (ScanCodec) Marshal(v any) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }

// Unmarshal scans data into a Scanner, or decodes it into a protobuf message.
func (ScanCodec) Unmarshal(data []byte, v any) error {
	if s, ok := v.(Scanner); ok {
		return s.Scan(data)
	}
	return proto.Unmarshal(data, v.(proto.Message))
}
