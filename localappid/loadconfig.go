package localappid

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxConfigBytes bounds a config file; a provider's users and clients fit in far less.
const maxConfigBytes = 1 << 20

// LoadConfig reads a provider configuration from a YAML or JSON file (JSON is read as YAML), with Config's yaml
// field names. testdata/example-config.yaml in this package is a commented example showing every field. Sections
// the file leaves out keep DefaultConfig's values; sections it has replace them. Users without an id get a stable
// one derived from their login name. Unknown fields are errors. The error names the file and every bad field.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("localappid: config %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("localappid: config %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return Config{}, fmt.Errorf("localappid: config %s: larger than %d bytes", path, maxConfigBytes)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("localappid: config %s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig decodes over DefaultConfig and validates, collecting every problem.
func parseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var problems []string
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var typeErr *yaml.TypeError
		if !errors.As(err, &typeErr) {
			return Config{}, err // syntax error: the rest cannot be trusted
		}
		paths := fieldPaths(data)
		for _, msg := range typeErr.Errors {
			problems = append(problems, nameField(msg, paths))
		}
	}
	cfg = cfg.withUserIDs()
	if err := cfg.validate(); err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("%d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return cfg, nil
}

// fieldPaths maps a line of the file to the field written there (e.g. "clients[0].redirect_uris"), so that the
// decoder's line-numbered type errors can name the field.
func fieldPaths(data []byte) map[int]string {
	var root yaml.Node
	paths := map[int]string{}
	if yaml.Unmarshal(data, &root) != nil {
		return paths
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if _, seen := paths[n.Line]; !seen && path != "" {
			paths[n.Line] = path
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if path != "" {
					key = path + "." + key
				}
				if _, seen := paths[n.Content[i].Line]; !seen {
					paths[n.Content[i].Line] = key
				}
				walk(n.Content[i+1], key)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(&root, "")
	return paths
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// nameField rewrites "line N: msg" as "field (line N): msg" when the line's field is known.
func nameField(msg string, paths map[int]string) string {
	if strings.HasSuffix(msg, "time.Duration") {
		msg += " (write a duration with a unit, e.g. 1h or 30s)"
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	line, _ := strconv.Atoi(m[1])
	if path, ok := paths[line]; ok {
		return path + " (line " + m[1] + "): " + msg[len(m[0]):]
	}
	return msg
}
