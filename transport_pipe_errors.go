package xorc

// pipeUnavailable is New's error for the named-pipe transport on a platform
// it does not run on (err: remote_pipe.ErrUnsupportedPlatform).
func pipeUnavailable(err error) error {
	return &TransportUnavailableError{Transport: NamedPipe, Reason: "unsupported on this platform (Linux and macOS only)", Err: err}
}
