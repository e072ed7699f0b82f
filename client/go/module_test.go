package labelport_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labelport/labelport/client/go/internal/testenv"
)

// consumerMain is a program of another module that uses the client and its generated types.
const consumerMain = `package main

import (
	"context"
	"fmt"
	"os"
	"time"

	labelport "github.com/labelport/labelport/client/go"
	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := labelport.Dial(ctx, os.Args[1], labelport.WithInsecure())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	resp, err := c.ListRuns(ctx, &labelportv1.ListRunsRequest{Parent: labelport.DatasetName("consumer")})
	if err != nil {
		fmt.Fprintln(os.Stderr, labelport.Describe(err))
		os.Exit(2)
	}
	fmt.Printf("runs: %d\n", len(resp.GetRuns()))
}
`

// TestUsableFromAnotherModule builds a program of a scratch module that requires this module
// through a replace directive (as client/go/README.md tells users to), runs it against a real
// labelport-server, and builds labelportctl from that module. Offline: GOPROXY=off, the
// dependencies come from the module cache (this test's own build put them there) and their
// checksums from this module's go.sum.
func TestUsableFromAnotherModule(t *testing.T) {
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(here, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	if goVersion == nil {
		t.Fatal("no go line in go.mod")
	}
	sum, err := os.ReadFile(filepath.Join(here, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/labelport-consumer\n\ngo " + string(goVersion[1]) + "\n\n" +
			"require github.com/labelport/labelport/client/go v0.0.0-00010101000000-000000000000\n\n" +
			"replace github.com/labelport/labelport/client/go => " + here + "\n",
		"go.sum":  string(sum),
		"main.go": consumerMain,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goTool := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off",
			"GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in the scratch module: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	goTool("build", "-o", filepath.Join(dir, "consumer"), ".")
	goTool("build", "-o", filepath.Join(dir, "labelportctl"), "github.com/labelport/labelport/client/go/cmd/labelportctl")

	server := testenv.StartServer(t, testenv.StartSim(t))
	out, err := exec.Command(filepath.Join(dir, "consumer"), server.Target).CombinedOutput()
	if err != nil || string(out) != "runs: 0\n" {
		t.Errorf("consumer: %v\n%s", err, out)
	}
	out, err = exec.Command(filepath.Join(dir, "labelportctl"), "--addr", server.Target, "-o", "json",
		"runs", "list", "consumer").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "[]" {
		t.Errorf("labelportctl built in the scratch module: %v\n%s", err, out)
	}
}
