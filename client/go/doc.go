// Package labelport is the Go client of the labelport annotation-run service.
// The generated API lives in gen/labelport/v1; the hand-written client follows.
package labelport
