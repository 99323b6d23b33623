//go:build !unix

package bench

import (
	"errors"
	"time"
)

func cpuTime() (time.Duration, error) { return 0, errors.New("cpu time: unsupported platform") }
