//go:build !unix

package bench

import "time"

// testProcessCPU is not measured on this platform.
func testProcessCPU() time.Duration { return 0 }
