// Package buildinfo says which build of appidgate is running: its version, the commit it was built from and
// the Go toolchain that built it.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// ModulePath is appidgate's module path.
const ModulePath = "github.com/appidgate/appidgate"

// version is the release version, set when building:
//
//	go build -ldflags "-X github.com/appidgate/appidgate/internal/buildinfo.version=v0.14.0" ./cmd/appidgate
//
// revision is the commit, set the same way (…buildinfo.revision=<sha>) where Go cannot read it from the
// checkout: the container build, whose context leaves .git out. Go's own record wins when it has one.
//
// These are the only package-level variables, written by the linker and by nothing else.
var version, revision string

// Info describes a build.
type Info struct {
	Version   string // the -X version, else the module version Go recorded, else "devel"
	Revision  string // the VCS commit, "" when unknown (built outside a git checkout, or as a dependency)
	Time      string // the commit's time (RFC 3339), "" when unknown
	Modified  bool   // the checkout had uncommitted changes
	GoVersion string // e.g. go1.26.8
	Platform  string // GOOS/GOARCH, e.g. linux/amd64
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return fromBuild(version, revision, bi)
}

// fromBuild assembles Info from the -X version and revision (either may be empty) and what Go recorded in the
// binary (may be nil).
func fromBuild(injected, injectedRevision string, bi *debug.BuildInfo) Info {
	i := Info{Version: injected, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		if bi.Main.Path == ModulePath {
			// Built from appidgate's own source: the vcs.* settings are appidgate's.
			if i.Version == "" {
				i.Version = moduleVersion(bi.Main.Version)
			}
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					i.Revision = s.Value
				case "vcs.time":
					i.Time = s.Value
				case "vcs.modified":
					i.Modified = s.Value == "true"
				}
			}
		} else if i.Version == "" {
			// appidgate is a library of another program: its version is the dependency's; the vcs.* settings
			// are the program's, not appidgate's.
			for _, d := range bi.Deps {
				if d.Path == ModulePath {
					i.Version = moduleVersion(d.Version)
				}
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	if i.Revision == "" {
		i.Revision = injectedRevision
	}
	return i
}

// moduleVersion is v unless it is the placeholder Go records for a build of a local checkout.
func moduleVersion(v string) string {
	if v == "(devel)" {
		return ""
	}
	return v
}

// Commit is the short commit (7 hex digits, as git log --oneline shows it) with "-dirty" when the checkout
// was modified, or "unknown".
func (i Info) Commit() string {
	if i.Revision == "" {
		return "unknown"
	}
	c := i.Revision
	if len(c) > 7 {
		c = c[:7]
	}
	if i.Modified {
		c += "-dirty"
	}
	return c
}

// String is the line `appidgate version` prints, e.g.
// "appidgate v0.14.0 (commit 82f0579, go1.26.8, linux/amd64)".
func (i Info) String() string {
	return fmt.Sprintf("appidgate %s (commit %s, %s, %s)", i.Version, i.Commit(), i.GoVersion, i.Platform)
}
