package localappid

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxConfigBytes bounds a config file; a provider's users and clients fit in far less.
const maxConfigBytes = 1 << 20

// LoadConfig reads a provider configuration from a YAML or JSON file (JSON is read as YAML). Sections the file
// leaves out keep DefaultConfig's values; sections it has replace them. Unknown fields are errors. The error names
// the file and every bad field.
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
		problems = append(problems, typeErr.Errors...)
	}
	if err := cfg.validate(); err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("%d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return cfg, nil
}
