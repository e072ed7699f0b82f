package labelport

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the ErrorInfo domain of labelport-server's errors.
const ErrorDomain = "labelport.dev"

// statusOf finds a gRPC status in err's chain (errors made by this package wrap statuses with
// %w), or nil.
func statusOf(err error) *status.Status {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok {
		return s
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus()
	}
	return nil
}

// Code is the gRPC status code of err: codes.OK for nil, codes.Unknown for an error that is
// not a gRPC status.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if s := statusOf(err); s != nil {
		return s.Code()
	}
	return codes.Unknown
}

// ErrorInfo is the google.rpc.ErrorInfo detail of err, or nil.
func ErrorInfo(err error) *errdetails.ErrorInfo {
	s := statusOf(err)
	if s == nil {
		return nil
	}
	for _, d := range s.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// ErrorReason is the ErrorInfo reason of err (e.g. "RUN_NOT_FOUND"), or "".
func ErrorReason(err error) string {
	if info := ErrorInfo(err); info != nil {
		return info.GetReason()
	}
	return ""
}

// FieldViolations are the google.rpc.BadRequest field violations of err: which request field
// broke which rule. Nil when err carries none.
func FieldViolations(err error) []*errdetails.BadRequest_FieldViolation {
	s := statusOf(err)
	if s == nil {
		return nil
	}
	var out []*errdetails.BadRequest_FieldViolation
	for _, d := range s.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			out = append(out, br.GetFieldViolations()...)
		}
	}
	return out
}

// Describe renders err for people: "CODE: message", then a line with the ErrorInfo reason
// (and metadata) and one line per field violation. Errors that are not gRPC statuses are rendered by Error().
func Describe(err error) string {
	if err == nil {
		return ""
	}
	s := statusOf(err)
	if s == nil {
		return err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", CodeName(s.Code()), s.Message())
	if info := ErrorInfo(err); info != nil && info.GetReason() != "" {
		fmt.Fprintf(&b, "\n  reason: %s", info.GetReason())
		keys := make([]string, 0, len(info.GetMetadata()))
		for k := range info.GetMetadata() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			sep := ", "
			if i == 0 {
				sep = " ("
			}
			fmt.Fprintf(&b, "%s%s=%s", sep, k, info.GetMetadata()[k])
		}
		if len(keys) > 0 {
			b.WriteString(")")
		}
	}
	for _, v := range FieldViolations(err) {
		fmt.Fprintf(&b, "\n  field %s: %s", v.GetField(), v.GetDescription())
	}
	return b.String()
}

// CodeName is the canonical upper-case name of a code, e.g. "INVALID_ARGUMENT".
func CodeName(c codes.Code) string {
	switch c {
	case codes.OK:
		return "OK"
	case codes.Canceled:
		return "CANCELLED"
	}
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}
