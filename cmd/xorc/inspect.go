//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_shm"
)

// inspection is what `xorc inspect --json` prints: the registry's dump and
// every process's inbox counters.
type inspection struct {
	*registry.Dump
	Inboxes []inboxInfo `json:"Inboxes"`
}

type inboxInfo struct {
	Slot  int               `json:"slot"`
	PID   int               `json:"pid"`
	Stats *remote_shm.Stats `json:"stats,omitempty"`
	Error string            `json:"error,omitempty"`
}

// cmdInspect shows a shared-memory segment like ipcs would, read-only: it
// maps the segment copy-on-write and joins nothing.
func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of tables")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: inspect takes one NAME (the system's name, or a segment file path)", errUsage)
	}
	name := fs.Arg(0)
	var view *registry.View
	var err error
	if strings.ContainsRune(name, '/') {
		view, err = registry.OpenViewFile(name)
	} else {
		view, err = registry.OpenView(name)
	}
	if err != nil {
		return err
	}
	defer view.Close()
	dump, err := view.Dump()
	if err != nil {
		return err
	}
	in := inspection{Dump: dump}
	for _, p := range dump.Processes {
		info := inboxInfo{Slot: p.Slot, PID: p.PID}
		st, err := readInbox(view, p.Slot)
		if err != nil {
			info.Error = err.Error()
		} else {
			info.Stats = &st
		}
		in.Inboxes = append(in.Inboxes, info)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	return in.writeTables(stdout)
}

// readInbox reads a slot's inbox counters; a fault (the file shrank under the
// mapping) becomes an error.
func readInbox(v *registry.View, slot int) (st remote_shm.Stats, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			err = fmt.Errorf("memory fault reading the inbox of slot %d (segment truncated?)", slot)
		}
	}()
	region, err := v.InboxRegion(slot)
	if err != nil {
		return st, err
	}
	return remote_shm.ReadInbox(region)
}

func (in inspection) writeTables(w io.Writer) error {
	d := in.Dump
	l := d.Layout
	mutating := "no"
	if d.MutatingPID != 0 {
		mutating = fmt.Sprintf("pid %d (repaired by the next process to take the lock)", d.MutatingPID)
	}
	fmt.Fprintf(w, "segment %s (layout version %d, created %s)\n", d.Path, l.Version, l.CreatedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "  processes %d of %d, machines %d of %d, inbox %s per process, %s in all\n",
		d.ProcessCount, l.MaxProcesses, d.MachineCount, l.MaxMachines, size(int64(l.InboxBytes)), size(l.TotalBytes))
	fmt.Fprintf(w, "  generation %d, joins %d, reclaims %d, takeovers %d, repairs %d, evictions %d, mutating: %s\n\n",
		d.Generation, d.Joins, d.Reclaims, d.Takeovers, d.Repairs, d.Evictions, mutating)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tGEN\tPID\tNAME\tSTATUS\tHEARTBEAT\tMACHINES\tADDRESS")
	for _, p := range d.Processes {
		status := p.Status.String()
		if p.DownReason != registry.DownNone {
			status += " (" + p.DownReason.String() + ")"
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%d\t%s\n", p.Slot, p.Generation, p.PID, p.Name, status,
			age(p.HeartbeatAge), p.Machines, p.Address)
	}
	if len(d.Processes) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "MACHINE\tOWNER\tSTATUS\tLAST ACTIVITY\tREGISTERED")
	for _, m := range d.Machines {
		owner := fmt.Sprintf("slot %d pid %d", m.OwnerSlot, m.OwnerPID)
		if m.OwnerName != "" {
			owner += " " + m.OwnerName
		}
		status := m.Status.String()
		if m.OwnerStatus != registry.ProcessActive {
			status += ", owner " + m.OwnerStatus.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, owner, status, ago(m.LastActivity), m.RegisteredAt.Format(time.RFC3339))
	}
	if len(d.Machines) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "INBOX\tCAPACITY\tUSED\tMESSAGES\tFULL WAITS\tLOSSES\tCORRUPT\tSENT\tRECEIVED\tBATCHES IN\tDECODE ERR\tSTALE\tDEAD LETTERS")
	for _, ib := range in.Inboxes {
		if ib.Stats == nil {
			fmt.Fprintf(tw, "%d\t%s\n", ib.Slot, ib.Error)
			continue
		}
		s := ib.Stats
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", ib.Slot,
			size(int64(s.Inbox.Capacity)), size(int64(s.Inbox.Used)), s.Inbox.Read, s.Inbox.FullWaits, s.Inbox.Lost,
			s.Inbox.Corrupt+s.BadRecords, s.Sent, s.Received, s.ReceivedBatches, s.DecodeErrors, s.Stale,
			s.DeadLettersIn+s.DeadLettersOut)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Problems) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, p := range d.Problems {
			fmt.Fprintln(w, "  "+p)
		}
	}
	return nil
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func age(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String() + " ago"
}

func ago(t time.Time) string {
	if t.IsZero() || t.UnixNano() == 0 {
		return "-"
	}
	return time.Since(t).Round(time.Millisecond).String() + " ago"
}
