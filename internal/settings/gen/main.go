// Command gen writes the configuration reference, docs/configuration.md, from the settings table. It is run by
// "go generate ./internal/settings", with the page's path as its argument.
package main

import (
	"fmt"
	"os"

	"github.com/appidgate/appidgate/internal/settings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen PATH (the configuration reference to write)")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], settings.Markdown(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}
