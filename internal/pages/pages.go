// Package pages renders the HTML pages that appidgate and localappid show people: the sign-in form, the profile,
// the 403 page, failure pages, the logout confirmation and the signed-out page. They share one small stylesheet,
// written inline and allowed by its hash (style-src 'sha256-...'), so that pages need no script, no external
// asset and no looser content security policy. Operators replace any page, the layout or the stylesheet with files
// of their own in a folder (APPIDGATE_TEMPLATES_DIR); Load checks every one of them at start.
package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Name names a page; its template file is Name + ".html".
type Name string

// The pages, by template file name without ".html".
const (
	SignInPage    Name = "signin"
	ProfilePage   Name = "profile"
	ForbiddenPage Name = "forbidden"
	ErrorPage     Name = "error"
	LogoutPage    Name = "logout"
	SignedOutPage Name = "signedout"
	FormPage      Name = "form"
)

// The files besides the pages: the frame every built-in page uses, and the stylesheet.
const (
	layoutFile = "layout.html"
	styleFile  = "style.css"
)

// maxFileBytes bounds each template file read from an operator's folder.
const maxFileBytes = 256 << 10

//go:embed templates
var builtin embed.FS

// names lists every page.
func names() []Name {
	return []Name{SignInPage, ProfilePage, ForbiddenPage, ErrorPage, LogoutPage, SignedOutPage, FormPage}
}

// files lists every file name a templates folder may hold.
func files() []string {
	out := []string{layoutFile, styleFile}
	for _, n := range names() {
		out = append(out, string(n)+".html")
	}
	return out
}

// Set is the pages of one program: the built-in ones, with an operator's replacements. Build it with Load. It is
// safe for concurrent use.
type Set struct {
	pages    map[Name]*template.Template
	fallback map[Name]*template.Template // the built-in pages, when some are replaced; nil otherwise
	styleSrc string                      // the style-src directive that allows the inline stylesheet
}

// Load returns the built-in pages with the files of dir replacing them (dir "" means none). dir may hold
// layout.html, style.css and any page's template (signin.html, profile.html, forbidden.html, error.html,
// logout.html, signedout.html, form.html); a file of another name is an error, except hidden files. Each replaced page is
// parsed and rendered with sample data and with empty data at once, so that a template that does not parse,
// or fails on a field it names, stops the program at start. The error names every failing file.
func Load(dir string) (*Set, error) {
	text, err := readBuiltin()
	if err != nil {
		return nil, err
	}
	replaced := map[string]string{} // file name -> path
	var problems []error
	if dir != "" {
		// Files that cannot be used are named together with those that fail below.
		replaced, problems = readDir(dir, text)
		if replaced == nil {
			return nil, errors.Join(problems...)
		}
	}
	css := text[styleFile]
	sum := sha256.Sum256([]byte(css))
	s := &Set{
		pages:    map[Name]*template.Template{},
		styleSrc: "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
	}
	where := func(file string) string {
		if p, ok := replaced[file]; ok {
			return p
		}
		return file
	}
	// A layout that does not parse fails every page: say it once.
	if _, err := template.New(layoutFile).Funcs(funcs(css)).Parse(text[layoutFile]); err != nil {
		return nil, errors.Join(append(problems, fmt.Errorf("%s: %w", where(layoutFile), err))...)
	}
	all := samples()
	for _, n := range names() {
		file := string(n) + ".html"
		t, err := parse(n, css, text[layoutFile], text[file])
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", where(file), err))
			continue
		}
		if len(replaced) > 0 {
			for _, data := range all[n] {
				if err := t.Execute(io.Discard, data); err != nil {
					problems = append(problems, fmt.Errorf("%s: %w", where(file), err))
					break
				}
			}
		}
		s.pages[n] = t
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if len(replaced) > 0 {
		// If a replaced page fails on a request all the same, the built-in page answers it, with the same
		// stylesheet, so that the hash still allows it.
		defaults, err := readBuiltin()
		if err != nil {
			return nil, err
		}
		s.fallback = map[Name]*template.Template{}
		for _, n := range names() {
			if s.fallback[n], err = parse(n, css, defaults[layoutFile], defaults[string(n)+".html"]); err != nil {
				return nil, fmt.Errorf("pages: built-in %s.html: %w", n, err)
			}
		}
	}
	return s, nil
}

// readBuiltin returns the embedded files by name.
func readBuiltin() (map[string]string, error) {
	text := map[string]string{}
	for _, f := range files() {
		b, err := builtin.ReadFile("templates/" + f)
		if err != nil {
			return nil, fmt.Errorf("pages: built-in %s: %w", f, err)
		}
		text[f] = string(b)
	}
	return text, nil
}

// readDir puts the files of dir into text, replacing the built-in ones, and returns their paths by name.
func readDir(dir string, text map[string]string) (map[string]string, []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("templates folder: %w", err)}
	}
	known := files()
	replaced := map[string]string{}
	var problems []error
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasPrefix(name, "."):
			continue
		case !slices.Contains(known, name):
			problems = append(problems, fmt.Errorf("%s: not a page appidgate shows (expected one of %s)", path,
				strings.Join(known, ", ")))
			continue
		}
		b, err := readFile(path)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		text[name] = string(b)
		replaced[name] = path
	}
	return replaced, problems
}

// readFile reads a regular file of at most maxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileBytes)
	}
	return b, nil
}

// parse builds page n: the layout, then the page's own file, whose definitions replace the layout's blocks.
func parse(n Name, css, layout, page string) (*template.Template, error) {
	t := template.New(string(n) + ".html").Funcs(funcs(css))
	if _, err := t.New(layoutFile).Parse(layout); err != nil {
		return nil, err
	}
	if _, err := t.Parse(page); err != nil {
		return nil, err
	}
	return t, nil
}

// funcs are the functions templates may call: css writes the stylesheet (inside <style>, where the hash allows
// exactly it), join joins a list.
func funcs(css string) template.FuncMap {
	return template.FuncMap{
		"css":  func() template.CSS { return template.CSS(css) },
		"join": strings.Join,
	}
}

// StyleSrc is the content security policy directive that allows the pages' inline stylesheet, such as
// style-src 'sha256-...'. Write adds it; programs that write a page's headers themselves add it to their policy.
func (s *Set) StyleSrc() string { return s.styleSrc }

// Render writes the page data names to w. It renders into a buffer first, so that a failing template writes
// nothing: then a replaced page falls back to the built-in one, which is written, and the error is returned
// all the same so that the caller can log it.
func (s *Set) Render(w io.Writer, data Data) error {
	var buf bytes.Buffer
	err := s.render(&buf, data)
	if buf.Len() > 0 {
		if _, werr := w.Write(buf.Bytes()); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// render renders data's page into buf, falling back to the built-in page when a replaced one fails.
func (s *Set) render(buf *bytes.Buffer, data Data) error {
	n := data.page()
	t, ok := s.pages[n]
	if !ok {
		return fmt.Errorf("pages: no page %q", n)
	}
	err := t.Execute(buf, data)
	if err == nil {
		return nil
	}
	buf.Reset()
	err = fmt.Errorf("pages: rendering %s.html: %w", n, err)
	if fb := s.fallback[n]; fb != nil {
		if ferr := fb.Execute(buf, data); ferr != nil {
			buf.Reset()
			return errors.Join(err, ferr)
		}
	}
	return err
}

// Write answers with the page data names: status, an HTML content type, no caching, no sniffing, and the
// content security policy csp (such as "default-src 'none'") with StyleSrc added. When the page cannot be
// rendered at all it answers 500 with a line of text. The error is Render's, for the caller to log.
func (s *Set) Write(w http.ResponseWriter, status int, csp string, data Data) error {
	var buf bytes.Buffer
	err := s.render(&buf, data)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if buf.Len() == 0 {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "The page could not be shown.\n")
		return err
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	if csp != "" {
		csp += "; "
	}
	h.Set("Content-Security-Policy", csp+s.styleSrc)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return err
}
