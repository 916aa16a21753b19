package main

import (
	"github.com/appidgate/appidgate/internal/testkit"

	"context"
	"net"
	"strings"
	"testing"
)

// TestAddressInUse: when another process holds the address, each command says which address and the setting
// that moves it, and exits 1.
func TestAddressInUse(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"demo on PORT", []string{"demo"}, map[string]string{"PORT": port},
			"appidgate demo: another process is listening on " + addr + "; stop it or set PORT (or APPIDGATE_LISTEN_ADDR)\n"},
		{"proxy on APPIDGATE_LISTEN_ADDR", []string{"proxy", "--upstream", "http://127.0.0.1:8000"},
			map[string]string{"APPIDGATE_LISTEN_ADDR": addr},
			"appidgate proxy: another process is listening on " + addr + "; stop it or set APPIDGATE_LISTEN_ADDR\n"},
		{"the demo's local provider", []string{"demo"}, map[string]string{"PORT": "0", "APPIDGATE_IDP_ADDR": addr},
			"appidgate demo: starting the local provider: another process is listening on " + addr +
				"; stop it or set APPIDGATE_IDP_ADDR\n"},
		{"idp", []string{"idp", "--addr", addr}, nil,
			"appidgate idp: another process is listening on " + addr + "; stop it or choose another --addr\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr testkit.Buffer
			code := run(context.Background(), tc.args, testEnv(tc.vars, &stdout, &stderr))
			if code != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant 1 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
