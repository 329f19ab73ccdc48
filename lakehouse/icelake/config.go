package icelake

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"

	"go.yaml.in/yaml/v3"
)

// FileConfig is a --lake-config file: named catalogs, each an embedded SQLite catalog, a
// PostgreSQL one or an Iceberg REST catalog server, with its warehouse and file-system settings. ${VAR} is replaced by the
// environment variable VAR (an unset variable is an error), so secrets stay out of the file:
//
//	catalogs:
//	  local:
//	    type: sqlite
//	    dir: ./srctl-lake
//	  prod:
//	    type: postgres
//	    dsn: postgres://lake:${LAKE_DB_PASSWORD}@db:5432/lake
//	    warehouse: s3://company-lake/srctl
//	    io: {s3.region: eu-west-1}
//	  polaris:
//	    type: rest
//	    uri: https://polaris.internal/api/catalog
//	    token: ${POLARIS_TOKEN}
//	    warehouse: analytics
type FileConfig struct {
	Catalogs map[string]CatalogConfig `yaml:"catalogs"`
}

// CatalogConfig is one catalog of a FileConfig.
type CatalogConfig struct {
	Type      string            `yaml:"type"` // sqlite, postgres or rest
	Dir       string            `yaml:"dir"`
	DSN       string            `yaml:"dsn"`
	URI       string            `yaml:"uri"`
	Token     string            `yaml:"token"`
	Warehouse string            `yaml:"warehouse"`
	IO        map[string]string `yaml:"io"`
}

// yamlQuoted is a value quoted in a YAML decoder's error.
var yamlQuoted = regexp.MustCompile("`[^`]*`")

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// LoadFileConfig reads and checks a --lake-config file. Unknown keys are refused; errors never
// show the expanded secrets.
func LoadFileConfig(path string) (FileConfig, error) {
	var fc FileConfig
	raw, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("--lake-config: %w", err)
	}
	var missing []string
	expanded := envRef.ReplaceAllFunc(raw, func(m []byte) []byte {
		name := string(envRef.FindSubmatch(m)[1])
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return fc, fmt.Errorf("--lake-config %s: environment variables not set: %v", path, missing)
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil {
		// A type error quotes the value (cannot unmarshal !!str `s3cret` into ...), which may
		// be an expanded secret: keep the line and the types only.
		return fc, fmt.Errorf("--lake-config %s: %s", path, yamlQuoted.ReplaceAllString(err.Error(), "`***`"))
	}
	if len(fc.Catalogs) == 0 {
		return fc, fmt.Errorf("--lake-config %s: no catalogs (want a top-level 'catalogs:' mapping)", path)
	}
	for name, c := range fc.Catalogs {
		switch c.Type {
		case "sqlite":
			if c.Dir == "" {
				return fc, fmt.Errorf("--lake-config %s: catalog %s: type sqlite needs dir", path, name)
			}
		case "postgres":
			if c.DSN == "" || c.Warehouse == "" {
				return fc, fmt.Errorf("--lake-config %s: catalog %s: type postgres needs dsn and warehouse", path, name)
			}
		case "rest":
			if c.URI == "" {
				return fc, fmt.Errorf("--lake-config %s: catalog %s: type rest needs uri", path, name)
			}
		default:
			return fc, fmt.Errorf("--lake-config %s: catalog %s: type %q, want sqlite, postgres or rest", path, name, c.Type)
		}
	}
	return fc, nil
}

// Config is the Open configuration of the named catalog.
func (fc FileConfig) Config(name string) (Config, bool) {
	c, ok := fc.Catalogs[name]
	if !ok {
		return Config{}, false
	}
	cfg := Config{Name: name, Warehouse: c.Warehouse, IOProps: c.IO}
	switch c.Type {
	case "postgres":
		cfg.PostgresDSN = c.DSN
	case "rest":
		cfg.RESTURI, cfg.RESTToken = c.URI, c.Token
	default:
		cfg.Dir = c.Dir
	}
	return cfg, true
}
