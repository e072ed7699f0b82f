package main

import "testing"

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:0": true, "127.1.2.3:1": true,
		"0.0.0.0:8080": false, "[::]:8080": false, ":8080": false, "10.0.0.1:8080": false,
		"example.com:80": false, "no-port": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestFlagsFallBackToTheEnvironment(t *testing.T) {
	t.Setenv("LABELPORT_GATEWAY_BACKEND", "127.0.0.1:6000")
	t.Setenv("LABELPORT_GATEWAY_MAX_BODY_MB", "7")
	c, err := parseConfig([]string{"--max_body_mb", "9"})
	if err != nil {
		t.Fatal(err)
	}
	if c.backend != "127.0.0.1:6000" || c.maxBodyMB != 9 || c.listen != "127.0.0.1:8080" {
		t.Errorf("config = %+v: the env sets backend, the command line wins for max_body_mb", c)
	}
}

func TestBadSettingsAreRefused(t *testing.T) {
	for _, args := range [][]string{
		{"--tls_cert", "c.pem"}, {"--max_message_mb", "0"}, {"extra"}, {"--no_such_flag"},
	} {
		if _, err := parseConfig(args); err == nil {
			t.Errorf("parseConfig(%v) accepted", args)
		}
	}
	t.Setenv("LABELPORT_GATEWAY_DRAIN_SECONDS", "soon")
	if _, err := parseConfig(nil); err == nil {
		t.Error("a malformed LABELPORT_GATEWAY_DRAIN_SECONDS was accepted")
	}
}

func TestBackendServerNameNeedsTLSAndReachesTheTLSConfig(t *testing.T) {
	if _, err := parseConfig([]string{"--backend_server_name", "labelport.ns.svc"}); err == nil {
		t.Error("--backend_server_name without TLS to the server was accepted")
	}
	c, err := parseConfig([]string{"--backend_tls", "--backend_server_name", "labelport.ns.svc"})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := backendCredentials(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := creds.Info().ServerName; got != "labelport.ns.svc" {
		t.Errorf("TLS server name = %q, want labelport.ns.svc", got)
	}
}
