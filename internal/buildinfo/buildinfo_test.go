package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "82f0579a1b2c3d4e5f60718293a4b5c6d7e8f901"},
		{Key: "vcs.time", Value: "2026-12-06T22:00:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}
	dirty := append(append([]debug.BuildSetting(nil), vcs[:3]...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	platform := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name     string
		injected string
		revision string
		bi       *debug.BuildInfo
		want     string
	}{
		{name: "injected version and a clean checkout", injected: "v0.14.0",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath, Version: "(devel)"}, Settings: vcs},
			want: "appidgate v0.14.0 (commit 82f0579, go1.26.8, " + platform + ")"},
		{name: "modified checkout is dirty", injected: "v0.14.0",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath, Version: "(devel)"}, Settings: dirty},
			want: "appidgate v0.14.0 (commit 82f0579-dirty, go1.26.8, " + platform + ")"},
		{name: "no version injected in a checkout", injected: "",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath, Version: "(devel)"}, Settings: vcs},
			want: "appidgate devel (commit 82f0579, go1.26.8, " + platform + ")"},
		{name: "go install of a tagged module", injected: "",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath, Version: "v0.13.0"}},
			want: "appidgate v0.13.0 (commit unknown, go1.26.8, " + platform + ")"},
		{name: "library of another program", injected: "",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/app", Version: "(devel)"},
				Deps: []*debug.Module{{Path: ModulePath, Version: "v0.12.1"}}, Settings: vcs},
			want: "appidgate v0.12.1 (commit unknown, go1.26.8, " + platform + ")"},
		{name: "no build information", injected: "", bi: nil,
			want: "appidgate devel (commit unknown, " + runtime.Version() + ", " + platform + ")"},
		{name: "image build: version and revision injected, no checkout", injected: "v0.14.0",
			revision: "abcdef0123456789abcdef0123456789abcdef01",
			bi:       &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath, Version: "(devel)"}},
			want:     "appidgate v0.14.0 (commit abcdef0, go1.26.8, " + platform + ")"},
		{name: "the checkout's record wins over an injected revision", injected: "v0.14.0", revision: "ffffffffffff",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath, Version: "(devel)"}, Settings: vcs},
			want: "appidgate v0.14.0 (commit 82f0579, go1.26.8, " + platform + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fromBuild(tc.injected, tc.revision, tc.bi).String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
