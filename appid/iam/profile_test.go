package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeProfileIAM answers compute-resource token exchanges like IBM Cloud IAM: it accepts the CR tokens in
// valid for the profile id or name it holds, and records the CR tokens it was sent.
type fakeProfileIAM struct {
	profileID, profileName string

	mu    sync.Mutex
	valid map[string]bool
	seen  []string
}

func (f *fakeProfileIAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != GrantTypeCRToken {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errorCode":"BXNIM0103E","errorMessage":"Grant type is not supported"}`)
		return
	}
	f.mu.Lock()
	cr := r.PostForm.Get("cr_token")
	f.seen = append(f.seen, cr)
	ok := f.valid[cr]
	f.mu.Unlock()
	id, name := r.PostForm.Get("profile_id"), r.PostForm.Get("profile_name")
	if !ok || (id == "" && name == "") || (id != "" && id != f.profileID) || (name != "" && name != f.profileName) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errorCode":"BXNIM0538E","errorMessage":"The compute resource token could not be trusted"}`)
		return
	}
	fmt.Fprintf(w, `{"access_token":"for-%s","token_type":"Bearer","expires_in":3600}`, cr)
}

func TestProfileTokenSource(t *testing.T) {
	tests := []struct {
		name    string
		profile Profile
		file    string // the CR token file's content; "-" leaves the file out
		want    string // the token, or a part of the error
		refused bool   // the error is IAM's refusal
	}{
		{"profile id", Profile{ID: "Profile-1"}, "cr-a\n", "for-cr-a", false},
		{"profile name", Profile{Name: "appidgate"}, "cr-a", "for-cr-a", false},
		{"unknown profile", Profile{ID: "Profile-2"}, "cr-a", "BXNIM0538E", true},
		{"untrusted token", Profile{ID: "Profile-1"}, "cr-stolen", "BXNIM0538E", true},
		{"missing file", Profile{ID: "Profile-1"}, "-", "reading the compute-resource token file", false},
		{"empty file", Profile{ID: "Profile-1"}, " \n", "is empty", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProfileIAM{profileID: "Profile-1", profileName: "appidgate", valid: map[string]bool{"cr-a": true}}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			tc.profile.TokenFile = filepath.Join(t.TempDir(), "token")
			if tc.file != "-" {
				if err := os.WriteFile(tc.profile.TokenFile, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := NewProfileTokenSource(tc.profile, srv.URL, srv.Client()).Token(context.Background())
			if err != nil {
				var refused *Error
				if !strings.Contains(err.Error(), tc.want) || errors.As(err, &refused) != tc.refused ||
					!errors.Is(err, ErrNoToken) {
					t.Fatalf("Token error %q (refused %v), want one containing %q (refused %v) matching ErrNoToken",
						err, errors.As(err, &refused), tc.want, tc.refused)
				}
				if strings.Contains(err.Error(), "cr-stolen") {
					t.Fatalf("the error %q holds the CR token", err)
				}
				if tc.file == "-" && !strings.Contains(err.Error(), tc.profile.TokenFile) {
					t.Fatalf("the error %q does not name the file", err)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("Token = %q, want %q", got, tc.want)
			}
		})
	}
}

// The platform replaces the CR token before it expires: each renewal must send the file's current content.
func TestProfileTokenFileReadAtEachRenewal(t *testing.T) {
	f := &fakeProfileIAM{profileID: "Profile-1", valid: map[string]bool{"cr-1": true, "cr-2": true}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "token")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cr-1")
	ts := NewProfileTokenSource(Profile{ID: "Profile-1", TokenFile: file}, srv.URL, srv.Client())
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	ts.now = clk.Now
	ctx := context.Background()
	if got, err := ts.Token(ctx); err != nil || got != "for-cr-1" {
		t.Fatalf("first Token = %q, %v; want for-cr-1", got, err)
	}
	write("cr-2")
	if got, _ := ts.Token(ctx); got != "for-cr-1" {
		t.Fatalf("a fresh token was not served from the cache: got %q", got)
	}
	clk.Advance(50 * time.Minute)
	if got, err := ts.Token(ctx); err != nil || got != "for-cr-2" {
		t.Fatalf("renewed Token = %q, %v; want for-cr-2 from the replaced file", got, err)
	}
	// The file gone: the cached token serves until it expires, then the error names the file.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	clk.Advance(50 * time.Minute)
	if got, err := ts.Token(ctx); err != nil || got != "for-cr-2" {
		t.Fatalf("with the file gone before expiry Token = %q, %v; want the cached for-cr-2", got, err)
	}
	clk.Advance(time.Hour)
	if _, err := ts.Token(ctx); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("with the file gone after expiry Token error = %v, want one naming %s", err, file)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Join(f.seen, ",") != "cr-1,cr-2" {
		t.Fatalf("IAM was sent CR tokens %v, want [cr-1 cr-2]", f.seen)
	}
}
