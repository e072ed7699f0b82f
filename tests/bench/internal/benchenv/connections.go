package benchenv

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Connections opens n plaintext client connections to address (a benchmark spreads its callers
// over them as over HTTP/2 connections); closeAll closes them. On an error none stays open.
func Connections(address string, n int) (conns []*grpc.ClientConn, closeAll func(), err error) {
	closeAll = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for range n {
		c, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		conns = append(conns, c)
	}
	return conns, closeAll, nil
}
