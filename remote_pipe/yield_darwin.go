package remote_pipe

// osYield would give the CPU to another thread; macOS has no raw
// sched_yield system call, so a polling reader there only lets this
// process's goroutines run (runtime.Gosched) and stops polling when its
// window (at most ReplySpin) ends.
func osYield() {}
