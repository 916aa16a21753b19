package deploy

import (
	"slices"
	"strings"
	"testing"
)

// TestCodeEngineImageChecks: a command that deploys an image it did not build looks it up in the registry first, and a
// missing one stops it before anything is created; an image the same run built, or one outside IBM Cloud
// Container Registry (which cannot be asked), is not looked up, and the output says which.
func TestCodeEngineImageChecks(t *testing.T) {
	const appidgateImage = "us.icr.io/myns/appidgate-img:latest"
	tests := []struct {
		name        string
		args        []string
		env         func(t *testing.T) map[string]string
		wantCode    int
		wantInspect []string // images looked up, in order
		wantStderr  []string
		wantCreated bool
	}{
		{name: "app-create finds the image", args: []string{"app-create"}, env: func(*testing.T) map[string]string { return fullEnv() },
			wantInspect: []string{appidgateImage}, wantStderr: []string{"image (--image) " + appidgateImage + ": found in the registry"},
			wantCreated: true},
		{name: "app-create stops on a missing image", args: []string{"app-create"},
			env: func(*testing.T) map[string]string {
				return merge(fullEnv(), map[string]string{"FAKE_MISSING_IMAGE": appidgateImage})
			},
			wantCode: 1, wantInspect: []string{appidgateImage},
			wantStderr: []string{"image (--image) " + appidgateImage + " not found in IBM Cloud Container Registry",
				"'codeengine.sh build' then 'codeengine.sh buildrun'"}},
		{name: "all deploys what it built", args: []string{"all"}, env: func(*testing.T) map[string]string { return fullEnv() },
			wantStderr: []string{"image (--image) " + appidgateImage + ": built above"}, wantCreated: true},
		{name: "proxy-two stops on a missing upstream image", args: []string{"proxy-two"},
			env: func(t *testing.T) map[string]string {
				return merge(proxyEnv(t), map[string]string{"FAKE_MISSING_IMAGE": "us.icr.io/myns/myapp:v1"})
			},
			wantCode: 1, wantInspect: []string{"us.icr.io/myns/myapp:v1"},
			wantStderr: []string{"your app's image (--upstream-image) us.icr.io/myns/myapp:v1 not found", "docker push"}},
		{name: "proxy-two stops on a missing appidgate image", args: []string{"proxy-two"},
			env: func(t *testing.T) map[string]string {
				return merge(proxyEnv(t), map[string]string{"FAKE_MISSING_IMAGE": appidgateImage})
			},
			wantCode: 1, wantInspect: []string{"us.icr.io/myns/myapp:v1", appidgateImage},
			wantStderr: []string{"appidgate image (--image) " + appidgateImage + " not found", "'codeengine.sh buildrun'"}},
		{name: "proxy-two with a public upstream image", args: []string{"proxy-two"},
			env: func(t *testing.T) map[string]string {
				return merge(proxyEnv(t), map[string]string{"UPSTREAM_IMAGE": "docker.io/library/nginx:1.27"})
			},
			wantInspect: []string{appidgateImage},
			wantStderr:  []string{"docker.io/library/nginx:1.27: not in IBM Cloud Container Registry, so not checked"},
			wantCreated: true},
		{name: "proxy-one deploys what it built", args: []string{"proxy-one"},
			env:        func(t *testing.T) map[string]string { return proxyEnv(t) },
			wantStderr: []string{"image (--image) us.icr.io/myns/myapp-img:latest: built above"}, wantCreated: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runScript(t, tc.env(t), tc.args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.wantCode, r.stderr)
			}
			var inspected []string
			created := false
			for _, c := range r.calls {
				if len(c) == 3 && c[0] == "cr" && c[1] == "image-inspect" {
					inspected = append(inspected, c[2])
				}
				if len(c) > 2 && c[0] == "ce" && c[1] == "application" && c[2] == "create" {
					created = true
				}
			}
			if !slices.Equal(inspected, tc.wantInspect) {
				t.Errorf("looked up images %q, want %q", inspected, tc.wantInspect)
			}
			if created != tc.wantCreated {
				t.Errorf("created an application: %v, want %v", created, tc.wantCreated)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestDryRunSaysWhichImagesAreChecked: the dry run names each image a command deploys and whether it is built
// or looked up.
func TestDryRunSaysWhichImagesAreChecked(t *testing.T) {
	r := runScript(t, proxyEnv(t), "--dry-run", "proxy-two")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, w := range []string{
		"your app's image (--upstream-image) us.icr.io/myns/myapp:v1: not built by 'proxy-two'; the image-inspect printed next checks",
		"appidgate image (--image) us.icr.io/myns/appidgate-img:latest: not built by 'proxy-two'",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("dry run does not say %q:\n%s", w, r.stderr)
		}
	}
	assertDryRun(t, r)
}
