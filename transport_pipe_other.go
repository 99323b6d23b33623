//go:build !(linux || darwin)

package xorc

import "github.com/xorc-dev/xorc/remote_pipe"

func newPipeTransport(Config) (Transport, error) {
	return nil, pipeUnavailable(remote_pipe.Supported())
}
