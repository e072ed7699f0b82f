// labelport-gateway serves labelport's API as HTTP/JSON (see package gateway) in front of a
// labelport-server, typically as a sidecar in the server's pod.
//
// Every flag has an environment fallback LABELPORT_GATEWAY_<FLAG> (upper case); a flag given on
// the command line wins. The first line on stdout is "listening on HOST:PORT" once the gateway
// accepts connections (with --listen on port 0, the port chosen). SIGTERM / SIGINT: new
// connections are refused and open calls get --drain_seconds to finish, then the process exits 0.
//
// Authentication stays with the server: the gateway forwards the Authorization header of each
// request (Bearer tokens; with --auth=mtls on the server every caller would act as the
// gateway's own certificate, so use --auth=token behind a gateway). On an address that is not
// loopback the gateway refuses API calls without an Authorization header, so that a server
// running without authentication is not exposed through it (--allow_anonymous lifts that).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/labelport/labelport/gateway"
)

type config struct {
	listen         string
	backend        string
	backendTLS     bool
	backendCAFile  string
	backendName    string
	tlsCert        string
	tlsKey         string
	maxMessageMB   int
	maxBodyMB      int
	drainSeconds   int
	allowAnonymous bool
}

// envName is the environment fallback of a flag.
func envName(flagName string) string {
	return "LABELPORT_GATEWAY_" + strings.ToUpper(flagName)
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("labelport-gateway", flag.ContinueOnError)
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName(name)))
	}
	num := func(p *int, name string, def int, usage string) {
		fs.IntVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName(name)))
	}
	boolean := func(p *bool, name string, usage string) {
		fs.BoolVar(p, name, false, fmt.Sprintf("%s (env %s)", usage, envName(name)))
	}
	str(&c.listen, "listen", "127.0.0.1:8080", "HTTP address to serve on, host:port")
	str(&c.backend, "backend", "127.0.0.1:50051", "gRPC address of the labelport-server")
	boolean(&c.backendTLS, "backend_tls", "connect to the server with TLS (system roots)")
	str(&c.backendCAFile, "backend_ca_file", "",
		"connect to the server with TLS, verified with this CA bundle (PEM)")
	str(&c.backendName, "backend_server_name", "",
		"with TLS to the server: the name its certificate must carry, when --backend's host is "+
			"not one of them (e.g. 127.0.0.1 in a sidecar, with a certificate for the Service's "+
			"DNS name)")
	str(&c.tlsCert, "tls_cert", "", "serve HTTPS with this certificate chain (PEM; with --tls_key)")
	str(&c.tlsKey, "tls_key", "", "private key of --tls_cert (PEM)")
	num(&c.maxMessageMB, "max_message_mb", 64,
		"largest gRPC message to or from the server, in MiB (as the server's --max_message_mb)")
	num(&c.maxBodyMB, "max_body_mb", 1024, "largest HTTP request body, in MiB")
	num(&c.drainSeconds, "drain_seconds", 20, "on SIGTERM, seconds open calls get to finish")
	boolean(&c.allowAnonymous, "allow_anonymous",
		"on a non-loopback --listen, forward calls without an Authorization header too")
	// Environment fallbacks first; the command line overrides them.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("--tls_cert and --tls_key go together")
	}
	if c.backendName != "" && !c.backendTLS && c.backendCAFile == "" {
		return c, errors.New("--backend_server_name needs TLS to the server " +
			"(--backend_tls or --backend_ca_file)")
	}
	if c.maxMessageMB < 1 || c.maxBodyMB < 1 || c.drainSeconds < 0 {
		return c, errors.New("--max_message_mb and --max_body_mb must be at least 1, " +
			"--drain_seconds at least 0")
	}
	return c, nil
}

// isLoopback reports whether host:port names a loopback address ("localhost" included).
func isLoopback(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func backendCredentials(c config) (credentials.TransportCredentials, error) {
	if c.backendCAFile == "" && !c.backendTLS {
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.backendName}
	if c.backendCAFile != "" {
		pem, err := os.ReadFile(c.backendCAFile)
		if err != nil {
			return nil, fmt.Errorf("--backend_ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--backend_ca_file %s: no PEM certificate in it", c.backendCAFile)
		}
		cfg.RootCAs = pool
	}
	return credentials.NewTLS(cfg), nil
}

func run(args []string) int {
	c, err := parseConfig(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "labelport-gateway: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	creds, err := backendCredentials(c)
	if err != nil {
		logger.Error(err.Error())
		return 1
	}
	maxMessage := c.maxMessageMB << 20
	conn, err := grpc.NewClient(c.backend, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage),
			grpc.MaxCallSendMsgSize(maxMessage)))
	if err != nil {
		logger.Error("--backend", "error", err)
		return 1
	}
	defer conn.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	requireAuth := !isLoopback(c.listen) && !c.allowAnonymous
	handler, err := gateway.NewHandler(ctx, conn, gateway.Options{
		MaxBodyBytes:         int64(c.maxBodyMB) << 20,
		RequireAuthorization: requireAuth,
	})
	if err != nil {
		logger.Error(err.Error())
		return 1
	}
	listener, err := net.Listen("tcp", c.listen)
	if err != nil {
		logger.Error("--listen", "error", err)
		return 1
	}
	server := &http.Server{
		Handler: handler,
		// Bodies and streams may last long (uploads, WatchRun); headers may not.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	host, _, _ := net.SplitHostPort(c.listen)
	port := listener.Addr().(*net.TCPAddr).Port
	fmt.Printf("listening on %s\n", net.JoinHostPort(host, strconv.Itoa(port)))
	os.Stdout.Sync()
	logger.Info("labelport-gateway serving HTTP/JSON", "listen", listener.Addr().String(),
		"backend", c.backend, "tls", c.tlsCert != "", "require_authorization", requireAuth)

	served := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			served <- server.ServeTLS(listener, c.tlsCert, c.tlsKey)
		} else {
			served <- server.Serve(listener)
		}
	}()
	select {
	case err := <-served:
		logger.Error("serving stopped", "error", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("draining", "seconds", c.drainSeconds)
	drain, cancel := context.WithTimeout(context.Background(),
		time.Duration(c.drainSeconds)*time.Second)
	defer cancel()
	if err := server.Shutdown(drain); err != nil {
		logger.Warn("open calls cut at the end of the drain", "error", err)
	}
	logger.Info("labelport-gateway stopped")
	return 0
}

func main() { os.Exit(run(os.Args[1:])) }
