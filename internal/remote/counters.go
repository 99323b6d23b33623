package remote

import "sync/atomic"

// Counter indexes a Counters block. Outbound counters share the first cache
// line and inbound ones the second, so that the reader of this process and
// its senders do not write to one line.
type Counter int

// The counters. Their order is part of the shared-memory layout of the
// transports that place Counters there: append, never reorder.
const (
	CSent           Counter = iota // envelopes written to peers
	CSentBatches                   // batches (link writes) that succeeded
	CSentBytes                     // bytes of those batches
	CSendErrors                    // envelopes whose send failed (each reported to its caller or as a dead letter)
	CDeadLettersOut                // outbound messages reported as dead letters
	CQueueFull                     // sends that found the peer's queue full and waited
	CEncodeErrors                  // messages without a wire form, or too large
	CUndelivered                   // envelopes accepted for a peer and then not delivered (write failed, peer down, link reported them: Core.Undelivered), each a dead letter

	CReceived        // envelopes delivered to local processes
	CReceivedBatches // batches received
	CDecodeErrors    // undecodable batches and envelopes
	CStale           // envelopes addressed to another process (an earlier one in the same slot)
	CDeadLettersIn   // inbound envelopes reported as dead letters (undecodable, stale)
	CPeersDown       // peers found dead or departed
	CWatchTerminated // Terminated sent to local watchers because the watched actor's process died
	// CUnconfirmed: link writes never confirmed as delivered before their
	// connection ended (Core.Unconfirmed). Outbound, but the last free word.
	CUnconfirmed

	// NumCounters is the number of words in a Counters block.
	NumCounters = 16
)

// Counters is the core's block of counters: 16 words updated atomically
// (Core.CopyCounters copies them, e.g. into shared memory).
type Counters [NumCounters]uint64

func (c *Counters) add(i Counter, n uint64) { atomic.AddUint64(&c[i], n) }

func (c *Counters) load(i Counter) uint64 { return atomic.LoadUint64(&c[i]) }

// Stats is a snapshot of a Counters block.
type Stats struct {
	Sent            uint64 `json:"sent"`             // envelopes written to peers
	SentBatches     uint64 `json:"sent_batches"`     // successful link writes (one Batch each)
	SentBytes       uint64 `json:"sent_bytes"`       // bytes of those batches
	SendErrors      uint64 `json:"send_errors"`      // envelopes whose send failed, each reported
	DeadLettersOut  uint64 `json:"dead_letters_out"` // failed proto.actor sends reported as dead letters
	QueueFull       uint64 `json:"queue_full"`       // sends that waited for room in a peer's queue
	EncodeErrors    uint64 `json:"encode_errors"`    // messages without a wire form, or too large
	Received        uint64 `json:"received"`         // envelopes delivered to local processes
	ReceivedBatches uint64 `json:"received_batches"` // batches received
	DecodeErrors    uint64 `json:"decode_errors"`    // undecodable batches and envelopes
	Stale           uint64 `json:"stale"`            // envelopes for another address (stale generation)
	DeadLettersIn   uint64 `json:"dead_letters_in"`  // inbound envelopes reported as dead letters
	PeersDown       uint64 `json:"peers_down"`       // peers found dead or departed
	WatchTerminated uint64 `json:"watch_terminated"` // Terminated sent because a watched actor's process died
	Undelivered     uint64 `json:"undelivered"`      // envelopes accepted by a link, then reported undelivered (dead letters)
	Unconfirmed     uint64 `json:"unconfirmed"`      // batches written whose delivery was never confirmed (maybe lost)
	// SenderFlushes: queues written by a sending goroutine while senders
	// streamed (see internal/remote's sender flushing); this process only,
	// not published in shared memory.
	SenderFlushes uint64 `json:"sender_flushes"`
}

// Stats reads every counter of the block.
func (c *Counters) Stats() Stats {
	return Stats{
		Sent:            c.load(CSent),
		SentBatches:     c.load(CSentBatches),
		SentBytes:       c.load(CSentBytes),
		SendErrors:      c.load(CSendErrors),
		DeadLettersOut:  c.load(CDeadLettersOut),
		QueueFull:       c.load(CQueueFull),
		EncodeErrors:    c.load(CEncodeErrors),
		Received:        c.load(CReceived),
		ReceivedBatches: c.load(CReceivedBatches),
		DecodeErrors:    c.load(CDecodeErrors),
		Stale:           c.load(CStale),
		DeadLettersIn:   c.load(CDeadLettersIn),
		PeersDown:       c.load(CPeersDown),
		WatchTerminated: c.load(CWatchTerminated),
		Undelivered:     c.load(CUndelivered),
		Unconfirmed:     c.load(CUnconfirmed),
	}
}
