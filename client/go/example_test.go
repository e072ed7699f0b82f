package labelport_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// Connecting to a development server on loopback, and to a production one with TLS and a
// token.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dev, err := labelport.Dial(ctx, "localhost:50051", labelport.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()

	prod, err := labelport.Dial(ctx, "labelport.example.com:443",
		labelport.WithBearerToken("my-token"),
		labelport.WithTimeout(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer prod.Close()
}

// Annotating local images: upload what the server lacks, create the run with existing
// labels, follow it until it is ready in V7.
func ExampleClient_CreateRun() {
	ctx := context.Background()
	client, err := labelport.Dial(ctx, "localhost:50051", labelport.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	files, err := client.UploadFiles(ctx, "images/a.png", "images/b.png")
	if err != nil {
		log.Fatal(err)
	}
	existing := &labelportv1.FieldValue{Value: &labelportv1.FieldValue_Detections{Detections: &labelportv1.Detections{
		Detections: []*labelportv1.Detection{{Id: "6581d3c2a1b2c3d4e5f60718", Label: "car", BoundingBox: []float64{0.1, 0.1, 0.3, 0.2}}},
	}}}
	samples := []*labelportv1.Sample{
		labelport.NewSample("sample-a", files[0].Media(), labelportv1.MediaType_MEDIA_TYPE_IMAGE,
			map[string]*labelportv1.FieldValue{"ground_truth": existing}),
		labelport.NewSample("sample-b", files[1].Media(), labelportv1.MediaType_MEDIA_TYPE_IMAGE, nil),
		labelport.NewSample("sample-c", labelport.URLMedia("https://example.com/c.jpg"), labelportv1.MediaType_MEDIA_TYPE_IMAGE, nil),
		labelport.NewSample("sample-d", labelport.StorageMedia("my-bucket", "images/d.jpg"), labelportv1.MediaType_MEDIA_TYPE_IMAGE, nil),
	}
	detections := "detections"
	header := &labelportv1.CreateRunHeader{
		Parent:  "quickstart",
		AnnoKey: "my_run",
		LabelSchema: &labelportv1.LabelSchema{Fields: []*labelportv1.FieldSchema{{
			Field: "ground_truth", Type: &detections,
			Classes: &labelportv1.ClassList{Entries: []*labelportv1.ClassEntry{
				{Kind: &labelportv1.ClassEntry_Name{Name: "car"}},
				{Kind: &labelportv1.ClassEntry_Name{Name: "person"}},
			}},
		}}},
		ExistingFields: labelport.ExistingFields(samples),
		Darwin:         &labelportv1.DarwinOptions{ExternalStorage: "my-bucket"},
	}
	resp, err := client.CreateRun(ctx, header, samples)
	if err != nil {
		log.Fatal(labelport.Describe(err))
	}
	run, err := client.WaitRun(ctx, resp.GetRun().GetName(), func(ev *labelportv1.WatchRunResponse) {
		fmt.Println(ev.GetRun().GetState(), ev.GetRun().GetProgress().GetSamplesCompleted())
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("annotate in V7:", run.GetEditorUrl())
}

// Following a run's events with range-over-func.
func ExampleClient_WatchRun() {
	ctx := context.Background()
	client, err := labelport.Dial(ctx, "localhost:50051", labelport.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for ev, err := range client.WatchRun(ctx, labelport.RunName("quickstart", "my_run"), 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("#%d %s\n", ev.GetSequence(), ev.GetRun().GetState())
	}
}

// Loading the annotations back: every (sample, field) with stable ids and what changed.
func ExampleClient_LoadAnnotations() {
	ctx := context.Background()
	client, err := labelport.Dial(ctx, "localhost:50051", labelport.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	req := &labelportv1.LoadAnnotationsRequest{Name: labelport.RunName("quickstart", "my_run")}
	for msg, err := range client.LoadAnnotations(ctx, req) {
		if err != nil {
			log.Fatal(err)
		}
		if ch := msg.GetChanges(); ch != nil {
			fmt.Println(ch.GetSampleId(), ch.GetField(), "added", ch.GetAddedIds(),
				"edited", ch.GetEditedIds(), "deleted", ch.GetDeletedIds())
		}
		if s := msg.GetSummary(); s != nil {
			fmt.Println("done:", len(s.GetFields()), "field(s)")
		}
	}
}

// Listing every run of a dataset, page by page.
func ExampleClient_AllRuns() {
	ctx := context.Background()
	client, err := labelport.Dial(ctx, "localhost:50051", labelport.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	req := &labelportv1.ListRunsRequest{Parent: "quickstart", State: labelportv1.RunState_RUN_STATE_ANNOTATING}
	for run, err := range client.AllRuns(ctx, req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(run.GetAnnoKey(), run.GetProgress().GetSamplesTotal())
	}
}

// Reading the details of an error as the server sends them.
func ExampleFieldViolations() {
	// What labelport-server answers to an invalid run key.
	msg := "Invalid annotation run key 'my run'. Keys must be valid variable names"
	st, _ := status.New(codes.InvalidArgument, msg).WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_RUN_KEY", Domain: labelport.ErrorDomain,
			Metadata: map[string]string{"field": "header.anno_key"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "header.anno_key", Description: msg},
		}})
	err := fmt.Errorf("creating run: %w", st.Err())

	fmt.Println(labelport.Code(err), labelport.ErrorReason(err))
	for _, v := range labelport.FieldViolations(err) {
		fmt.Printf("%s: %s\n", v.GetField(), v.GetDescription())
	}
	// Output:
	// InvalidArgument INVALID_RUN_KEY
	// header.anno_key: Invalid annotation run key 'my run'. Keys must be valid variable names
}

func ExampleDescribe() {
	st, _ := status.New(codes.InvalidArgument, "Invalid annotation run key 'my run'").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_RUN_KEY", Domain: labelport.ErrorDomain,
			Metadata: map[string]string{"field": "header.anno_key"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "header.anno_key", Description: "Keys must be valid variable names"},
		}})
	fmt.Println(labelport.Describe(st.Err()))
	fmt.Println(labelport.Describe(errors.New("open a.png: no such file or directory")))
	// Output:
	// INVALID_ARGUMENT: Invalid annotation run key 'my run'
	//   reason: INVALID_RUN_KEY (field=header.anno_key)
	//   field header.anno_key: Keys must be valid variable names
	// open a.png: no such file or directory
}

func ExampleParseRunName() {
	dataset, key, _ := labelport.ParseRunName("quickstart/my_run")
	fmt.Println(labelport.RunName(dataset, key))
	// Output: datasets/quickstart/runs/my_run
}
