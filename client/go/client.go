package labelport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	labelportv1 "github.com/labelport/labelport/client/go/gen/labelport/v1"
)

// DefaultTimeout is the deadline given to unary and client-streaming calls whose context has
// none. Server streams (WatchRun, LoadAnnotations) get no default deadline.
const DefaultTimeout = 60 * time.Second

// MaxMessageBytes is the largest message the client sends or accepts (the server's default
// --max_message_mb).
const MaxMessageBytes = 64 << 20

const serviceName = "labelport.v1.AnnotationService"

// retryServiceConfig retries the idempotent reads on UNAVAILABLE (a restarting or draining
// server). Writes are never retried by gRPC: CreateRun is made safe by its request_id instead.
const retryServiceConfig = `{
  "methodConfig": [{
    "name": [
      {"service": "` + serviceName + `", "method": "GetRun"},
      {"service": "` + serviceName + `", "method": "ListRuns"},
      {"service": "` + serviceName + `", "method": "ListRunSamples"},
      {"service": "` + serviceName + `", "method": "GetRunStatus"},
      {"service": "` + serviceName + `", "method": "FindMissingMedia"}
    ],
    "retryPolicy": {
      "maxAttempts": 5,
      "initialBackoff": "0.2s",
      "maxBackoff": "5s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// Client is a connection to labelport-server. It is safe for concurrent use.
//
// Every method returns errors as gRPC statuses (use status.FromError, or the helpers
// ErrorReason, FieldViolations and Describe of this package) except for local failures such
// as an unreadable file, which are plain errors.
type Client struct {
	conn    *grpc.ClientConn
	stub    labelportv1.AnnotationServiceClient
	timeout time.Duration
}

type options struct {
	insecure  bool
	tlsConfig *tls.Config
	caFile    string
	certFile  string
	keyFile   string
	token     string
	timeout   time.Duration
	noWait    bool
	dialOpts  []grpc.DialOption
	userAgent string
}

// Option configures Dial.
type Option func(*options)

// WithInsecure connects without TLS (a loopback dev server). A bearer token given with
// WithBearerToken is then sent in plain text; only do that on a trusted network.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithTLS connects with TLS using cfg (nil: the system roots). This is the default.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) { o.insecure = false; o.tlsConfig = cfg }
}

// WithCAFile connects with TLS, trusting the PEM certificates in path instead of the system
// roots (a private CA).
func WithCAFile(path string) Option {
	return func(o *options) { o.insecure = false; o.caFile = path }
}

// WithClientCertificate connects with TLS presenting the PEM certificate chain in certFile and
// its key in keyFile (servers running --auth=mtls map the certificate to a tenant).
func WithClientCertificate(certFile, keyFile string) Option {
	return func(o *options) { o.insecure = false; o.certFile = certFile; o.keyFile = keyFile }
}

// WithBearerToken sends "authorization: Bearer <token>" with every call.
func WithBearerToken(token string) Option { return func(o *options) { o.token = token } }

// WithTimeout sets the default deadline of unary and client-streaming calls whose context has
// none (DefaultTimeout unless set; 0 disables it).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithoutWaitForReady makes Dial return at once instead of waiting until the connection is
// ready; the first call then reports a server that cannot be reached.
func WithoutWaitForReady() Option { return func(o *options) { o.noWait = true } }

// WithDialOptions appends raw gRPC dial options (interceptors, keepalive, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithUserAgent sets the user agent prefix (e.g. "labelportctl/1").
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// Dial connects to the labelport-server at target ("HOST:PORT" or any gRPC target). Unless
// WithoutWaitForReady is given it waits, bounded by ctx, until the connection is ready, so an
// unreachable server is reported here as codes.Unavailable / codes.DeadlineExceeded.
func Dial(ctx context.Context, target string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	var clientCerts []tls.Certificate
	if o.certFile != "" || o.keyFile != "" {
		pair, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("labelport: loading the client certificate: %w", err)
		}
		clientCerts = []tls.Certificate{pair}
	}
	var transport credentials.TransportCredentials
	switch {
	case o.insecure:
		transport = insecure.NewCredentials()
	case o.caFile != "":
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("labelport: reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("labelport: no PEM certificate in CA file %s", o.caFile)
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
		if o.tlsConfig != nil {
			cfg = o.tlsConfig.Clone()
			cfg.RootCAs = pool
		}
		if clientCerts != nil {
			cfg.Certificates = clientCerts
		}
		transport = credentials.NewTLS(cfg)
	default:
		cfg := o.tlsConfig
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if clientCerts != nil {
			cfg = cfg.Clone()
			cfg.Certificates = clientCerts
		}
		transport = credentials.NewTLS(cfg)
	}
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithDefaultServiceConfig(retryServiceConfig),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes),
			grpc.MaxCallSendMsgSize(MaxMessageBytes),
		),
	}
	if o.token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearerToken{
			token: o.token, requireTLS: !o.insecure,
		}))
	}
	if o.timeout > 0 {
		dialOpts = append(dialOpts,
			grpc.WithChainUnaryInterceptor(unaryDeadline(o.timeout)),
			grpc.WithChainStreamInterceptor(clientStreamDeadline(o.timeout)))
	}
	if o.userAgent != "" {
		dialOpts = append(dialOpts, grpc.WithUserAgent(o.userAgent))
	}
	dialOpts = append(dialOpts, o.dialOpts...)
	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("labelport: %w", err)
	}
	c := &Client{conn: conn, stub: labelportv1.NewAnnotationServiceClient(conn), timeout: o.timeout}
	if !o.noWait {
		if err := waitReady(ctx, conn); err != nil {
			conn.Close()
			return nil, fmt.Errorf("labelport: cannot reach %s: %w", target, err)
		}
	}
	return c, nil
}

func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if s == connectivity.Shutdown {
			return errors.New("connection shut down")
		}
		if !conn.WaitForStateChange(ctx, s) {
			return ctx.Err()
		}
	}
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the underlying connection (for health checks or other services).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Stub is the generated stub, for calls and options this wrapper does not cover. Calls made
// through it still get the default deadline, token and retry policy.
func (c *Client) Stub() labelportv1.AnnotationServiceClient { return c.stub }

// bearerToken is per-RPC credentials sending a bearer token.
type bearerToken struct {
	token      string
	requireTLS bool
}

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearerToken) RequireTransportSecurity() bool { return b.requireTLS }

func unaryDeadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// clientStreamDeadline gives client-streaming calls (CreateRun, UploadMedia) the default
// deadline; server streams run as long as their context allows.
func clientStreamDeadline(d time.Duration) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if desc.ServerStreams {
			return streamer(ctx, desc, cc, method, opts...)
		}
		if _, ok := ctx.Deadline(); ok {
			return streamer(ctx, desc, cc, method, opts...)
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			cancel()
			return nil, err
		}
		return &cancelingStream{ClientStream: s, cancel: cancel}, nil
	}
}

// cancelingStream releases its deadline's timer once the response has been received.
type cancelingStream struct {
	grpc.ClientStream
	cancel context.CancelFunc
}

func (s *cancelingStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	s.cancel()
	return err
}
