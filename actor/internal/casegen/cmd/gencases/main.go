// Command gencases prints random statechart test cases for the XState oracle.
//
//	go run ./actor/internal/casegen/cmd/gencases -seed 1 -n 3000 > cases.jsonl
//
// By default it prints one case per line (the oracle's --jsonl input); -array
// prints one JSON array (the oracle's batch input). -stats prints how many
// cases use each generator feature to stderr.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"

	"github.com/xorc-dev/xorc/actor/internal/casegen"
)

func main() {
	seed := flag.Uint64("seed", 1, "generator seed")
	n := flag.Int("n", 100, "number of cases")
	first := flag.Int("first", 0, "index of the first case (cases first..first+n-1)")
	array := flag.Bool("array", false, "print one JSON array instead of one case per line")
	stats := flag.Bool("stats", false, "print feature counts to stderr")
	flag.Parse()
	if *n < 0 || *first < 0 {
		fmt.Fprintln(os.Stderr, "gencases: -n and -first must not be negative")
		os.Exit(2)
	}

	w := bufio.NewWriter(os.Stdout)
	count := map[string]int{}
	if *array {
		w.WriteByte('[')
	}
	for i := 0; i < *n; i++ {
		c := casegen.One(*seed, *first+i)
		for _, f := range c.Features {
			count[f]++
		}
		b, _ := c.MarshalJSON()
		if *array && i > 0 {
			w.WriteByte(',')
		}
		w.Write(b)
		if !*array {
			w.WriteByte('\n')
		}
	}
	if *array {
		w.WriteString("]\n")
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gencases:", err)
		os.Exit(1)
	}
	if *stats {
		keys := make([]string, 0, len(count))
		for k := range count {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(os.Stderr, "%-32s %6d\n", k, count[k])
		}
	}
}
