//go:build !unix

package xorc

func newShmTransport(Config) (Transport, error) {
	return nil, &TransportUnavailableError{Transport: SharedMemory, Reason: "unsupported on this platform"}
}
