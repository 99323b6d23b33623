package bench

import (
	"io"
	"log/slog"

	pactor "github.com/asynkron/protoactor-go/actor"
)

// quietLogger keeps proto.actor's info logs out of the benchmark output.
func quietLogger(*pactor.ActorSystem) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
