//go:build !unix

package main

import (
	"errors"
	"io"
)

func cmdInspect([]string, io.Writer, io.Writer) error {
	return errors.New("inspect: shared-memory segments are not supported on this platform")
}
