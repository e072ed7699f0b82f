package benchenv

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

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

// ScanFields calls visit with each top-level field of the protobuf message `data` in order (its
// number, wire type and encoded value, without decoding it) until visit returns true or an
// error, which ScanFields returns; a malformed message is an error. The benchmarks' codecs read
// the one field they need this way, so that the load generator spends little CPU per response.
func ScanFields(data []byte, visit func(number protowire.Number, kind protowire.Type, value []byte) (bool, error)) error {
	for len(data) > 0 {
		number, kind, n := protowire.ConsumeTag(data)
		if n < 0 {
			return protowire.ParseError(n)
		}
		data = data[n:]
		m := protowire.ConsumeFieldValue(number, kind, data)
		if m < 0 {
			return protowire.ParseError(m)
		}
		if done, err := visit(number, kind, data[:m]); done || err != nil {
			return err
		}
		data = data[m:]
	}
	return nil
}
