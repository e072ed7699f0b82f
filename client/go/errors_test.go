package labelport

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func invalidSchemaError(t *testing.T) error {
	t.Helper()
	st, err := status.New(codes.InvalidArgument, "label_schema.fields[0].type: unsupported label type 'masks'").WithDetails(
		&errdetails.ErrorInfo{Reason: "UNSUPPORTED_LABEL_TYPE", Domain: ErrorDomain, Metadata: map[string]string{"field": "ground_truth", "type": "masks"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "label_schema.fields[0].type", Description: "unsupported label type 'masks'"},
			{Field: "anno_key", Description: "must be a valid identifier"},
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestErrorHelpersReadDetails(t *testing.T) {
	err := invalidSchemaError(t)
	if got := Code(err); got != codes.InvalidArgument {
		t.Errorf("Code = %v", got)
	}
	if got := ErrorReason(err); got != "UNSUPPORTED_LABEL_TYPE" {
		t.Errorf("ErrorReason = %q", got)
	}
	if info := ErrorInfo(err); info.GetDomain() != ErrorDomain || info.GetMetadata()["type"] != "masks" {
		t.Errorf("ErrorInfo = %v", info)
	}
	v := FieldViolations(err)
	if len(v) != 2 || v[0].GetField() != "label_schema.fields[0].type" || v[1].GetField() != "anno_key" {
		t.Fatalf("FieldViolations = %v", v)
	}
	want := "INVALID_ARGUMENT: label_schema.fields[0].type: unsupported label type 'masks'\n" +
		"  reason: UNSUPPORTED_LABEL_TYPE (field=ground_truth, type=masks)\n" +
		"  field label_schema.fields[0].type: unsupported label type 'masks'\n" +
		"  field anno_key: must be a valid identifier"
	if got := Describe(err); got != want {
		t.Errorf("Describe =\n%s\nwant\n%s", got, want)
	}
}

func TestErrorHelpersSeeThroughWrapping(t *testing.T) {
	err := fmt.Errorf("creating run: %w", invalidSchemaError(t))
	if Code(err) != codes.InvalidArgument || ErrorReason(err) != "UNSUPPORTED_LABEL_TYPE" || len(FieldViolations(err)) != 2 {
		t.Errorf("wrapped: code %v reason %q violations %d", Code(err), ErrorReason(err), len(FieldViolations(err)))
	}
}

func TestErrorHelpersWithoutDetails(t *testing.T) {
	err := status.Error(codes.NotFound, "run datasets/d/runs/k not found")
	if ErrorReason(err) != "" || FieldViolations(err) != nil || ErrorInfo(err) != nil {
		t.Errorf("details of a bare status: %q %v %v", ErrorReason(err), FieldViolations(err), ErrorInfo(err))
	}
	if got := Describe(err); got != "NOT_FOUND: run datasets/d/runs/k not found" {
		t.Errorf("Describe = %q", got)
	}
	plain := errors.New("open x.png: no such file")
	if Code(plain) != codes.Unknown || Describe(plain) != plain.Error() || ErrorReason(plain) != "" {
		t.Errorf("plain error: %v %q", Code(plain), Describe(plain))
	}
	if Code(nil) != codes.OK || Describe(nil) != "" || FieldViolations(nil) != nil {
		t.Error("nil error")
	}
}

func TestCodeName(t *testing.T) {
	for c, want := range map[codes.Code]string{
		codes.OK: "OK", codes.Canceled: "CANCELLED", codes.InvalidArgument: "INVALID_ARGUMENT",
		codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Unauthenticated: "UNAUTHENTICATED",
		codes.DataLoss: "DATA_LOSS",
	} {
		if got := CodeName(c); got != want {
			t.Errorf("CodeName(%v) = %q, want %q", c, got, want)
		}
	}
	if !strings.HasPrefix(Describe(status.Error(codes.Canceled, "x")), "CANCELLED: ") {
		t.Error("Describe uses CodeName")
	}
}
