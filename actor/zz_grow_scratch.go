package actor

import pactor "github.com/asynkron/protoactor-go/actor"

type growDispatcher struct{}

func (growDispatcher) Schedule(fn func()) {
	go func() {
		growStack()
		fn()
	}()
}
func (growDispatcher) Throughput() int { return 300 }

//go:noinline
func growStack() byte {
	var buf [6 << 10]byte
	buf[len(buf)-1] = 1
	return buf[0] + buf[len(buf)-1]
}

var GrowDispatcher pactor.Dispatcher = growDispatcher{}
