package appid

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRedisClientLinked: importing appid or appid/session does not link a Redis client (or any of the command's
// heavy dependencies); only programs that import appid/session/redisstore do.
func TestNoRedisClientLinked(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".", "./session").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !containsString(deps, "github.com/appidgate/appidgate/appid/session") {
		t.Fatalf("go list -deps lists no appid/session, so it listed something else:\n%s", out)
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/redis/", "github.com/alicebob/miniredis", "/appid/session/redisstore",
			"github.com/appidgate/appidgate/internal/appidenv"} {
			if strings.Contains(dep, banned) {
				t.Errorf("appid links %s", dep)
			}
		}
	}
}
