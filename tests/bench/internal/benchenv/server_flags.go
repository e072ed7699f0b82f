package benchenv

import (
	"flag"
	"strings"
)

// ServerCommand is how a benchmark starts labelport-server, from its command line.
type ServerCommand struct {
	binary, args string
}

// ServerFlags registers -server (the labelport-server binary, DefaultServerBinary by default)
// and -server_args (extra server flags, space-separated) on the default flag set; they are
// read once flag.Parse has run.
func ServerFlags() *ServerCommand {
	c := &ServerCommand{}
	flag.StringVar(&c.binary, "server", DefaultServerBinary(), "labelport-server binary")
	flag.StringVar(&c.args, "server_args", "", "extra server flags, space-separated")
	return c
}

// Start starts the server (StartServer) with the benchmark's own flags `args` followed by
// -server_args, which can thereby override them.
func (c *ServerCommand) Start(args ...string) (*Server, error) {
	return StartServer(c.binary, append(args, strings.Fields(c.args)...)...)
}
