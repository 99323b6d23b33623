package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Row is one line of a report: one way of running machines (or plain actors).
type Row struct {
	Name         string  `json:"name"`
	OnewayPerSec float64 `json:"oneway_per_sec"`
	RTTP50us     float64 `json:"rtt_p50_us"`
	RTTP99us     float64 `json:"rtt_p99_us"`
	RTTP999us    float64 `json:"rtt_p999_us"`
	// OnewayVsBaseline is OnewayPerSec / the baseline row's (higher is better).
	OnewayVsBaseline float64 `json:"oneway_vs_baseline,omitempty"`
	// RTTP50VsBaseline is RTTP50us / the baseline row's (lower is better).
	RTTP50VsBaseline float64 `json:"rtt_p50_vs_baseline,omitempty"`
}

// Report is what one `xorc bench` run prints (as a table, or as this JSON).
type Report struct {
	Transport string `json:"transport"`
	// Baseline names the row the ratio fields of the other rows compare to.
	Baseline string `json:"baseline,omitempty"`
	Rows     []Row  `json:"rows"`
}

// Options sizes a run. Zero fields take the defaults.
type Options struct {
	Events   int // one-way events (default DefaultEvents)
	Requests int // measured request round trips (default DefaultRequests)
	Warmup   int // unmeasured events and requests before each measurement (default a tenth of Requests)
}

// Defaults of Options.
const (
	DefaultEvents   = 1_000_000
	DefaultRequests = 100_000
)

func (o Options) withDefaults() Options {
	if o.Events <= 0 {
		o.Events = DefaultEvents
	}
	if o.Requests <= 0 {
		o.Requests = DefaultRequests
	}
	if o.Warmup <= 0 {
		o.Warmup = o.Requests / 10
	}
	return o
}

// Runner measures one row.
type Runner struct {
	Name string
	Run  func(ctx context.Context, o Options) (Row, error)
}

// Suite is what `xorc bench --transport NAME` runs: its rows, in order, and
// the row the others are compared to.
type Suite struct {
	Transport string
	Baseline  string
	Runners   []Runner
}

var (
	suitesMu sync.Mutex
	suites   = map[string]Suite{}
)

// Register adds (or replaces) the suite of a transport. Transports register
// theirs from an init function or from the command that links them in.
func Register(s Suite) {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	suites[s.Transport] = s
}

// Transports lists the transports that have a suite, sorted.
func Transports() []string {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	out := make([]string, 0, len(suites))
	for k := range suites {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrUnknownTransport: no suite is registered for the transport.
var ErrUnknownTransport = errors.New("bench: no benchmark for transport")

// Run runs the suite of transport and returns its report, ratios filled in.
func Run(ctx context.Context, transport string, o Options) (*Report, error) {
	suitesMu.Lock()
	s, ok := suites[transport]
	suitesMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (have: %s)", ErrUnknownTransport, transport, strings.Join(Transports(), ", "))
	}
	o = o.withDefaults()
	rep := &Report{Transport: transport, Baseline: s.Baseline, Rows: []Row{}}
	for _, r := range s.Runners {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row, err := r.Run(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("bench %s: %w", r.Name, err)
		}
		row.Name = r.Name
		rep.Rows = append(rep.Rows, row)
	}
	rep.fillRatios()
	return rep, nil
}

func (r *Report) fillRatios() {
	i := slices.IndexFunc(r.Rows, func(row Row) bool { return row.Name == r.Baseline })
	if i < 0 {
		return
	}
	base := r.Rows[i]
	for j := range r.Rows {
		if j == i {
			continue
		}
		if base.OnewayPerSec > 0 {
			r.Rows[j].OnewayVsBaseline = round(r.Rows[j].OnewayPerSec/base.OnewayPerSec, 3)
		}
		if base.RTTP50us > 0 {
			r.Rows[j].RTTP50VsBaseline = round(r.Rows[j].RTTP50us/base.RTTP50us, 3)
		}
	}
}

// WriteJSON writes the report as one JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	return enc.Encode(r)
}

// WriteTable writes the report as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "transport %s, baseline %s\n", r.Transport, r.Baseline); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "row\tone-way/s\tRTT p50 µs\tp99 µs\tp999 µs\tone-way vs base\tp50 vs base\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t%s\t\n", row.Name, row.OnewayPerSec,
			row.RTTP50us, row.RTTP99us, row.RTTP999us, ratio(row.OnewayVsBaseline), ratio(row.RTTP50VsBaseline))
	}
	return tw.Flush()
}

func ratio(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x)
}

func round(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

// Latencies turns round-trip samples into p50/p99/p999 in microseconds.
// It sorts samples.
func Latencies(samples []time.Duration) (p50, p99, p999 float64) {
	if len(samples) == 0 {
		return 0, 0, 0
	}
	slices.Sort(samples)
	at := func(q float64) float64 {
		i := int(q * float64(len(samples)))
		if i >= len(samples) {
			i = len(samples) - 1
		}
		return round(float64(samples[i])/float64(time.Microsecond), 2)
	}
	return at(0.50), at(0.99), at(0.999)
}

// PerSec is n events over d, rounded.
func PerSec(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n)/d.Seconds(), 0)
}
