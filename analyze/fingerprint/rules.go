package fingerprint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// ID is a short, stable name for a fingerprint class: the first 16 hex digits (64 bits) of
// Hash(fp), enough to keep millions of classes apart. It changes only if Fingerprint's output
// for the SQL changes.
func ID(fp string) string {
	h := Hash(fp)
	if len(h) < 16 {
		return h
	}
	return h[:16]
}

// Rule names an endpoint for SQL that carries no tags: the first rule whose regular expression
// (Go RE2 syntax, over the SQL text as sent) matches gives the endpoint. Several rules may share
// a name: one endpoint, several patterns.
type Rule struct {
	Name  string `yaml:"name"`
	Match string `yaml:"match"`
	re    *regexp.Regexp
}

// Rules is an ordered list of endpoint rules. The zero value and nil match nothing.
type Rules struct {
	list []Rule
}

// rulesFile is the YAML layout:
//
//	endpoints:
//	  - name: checkout
//	    match: '(?i)\bfrom\s+cart_items\b'
type rulesFile struct {
	Endpoints []Rule `yaml:"endpoints"`
}

// ParseRules reads endpoint rules from YAML; source names the input in errors. Unknown keys,
// empty names and invalid expressions are errors that name the rule.
func ParseRules(data []byte, source string) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f rulesFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("endpoint rules %s: %w", source, err)
	}
	for i := range f.Endpoints {
		r := &f.Endpoints[i]
		where := fmt.Sprintf("endpoint rules %s: rule %d", source, i+1)
		if r.Name == "" {
			return nil, fmt.Errorf("%s: name is empty", where)
		}
		if r.Match == "" {
			return nil, fmt.Errorf("%s (%s): match is empty", where, r.Name)
		}
		re, err := regexp.Compile(r.Match)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): match %q: %w", where, r.Name, r.Match, err)
		}
		r.re = re
	}
	return &Rules{list: f.Endpoints}, nil
}

// Len is the number of rules.
func (rs *Rules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.list)
}

// Match returns the name of the first rule matching sql, or "".
func (rs *Rules) Match(sql string) string {
	if rs == nil {
		return ""
	}
	for _, r := range rs.list {
		if r.re.MatchString(sql) {
			return r.Name
		}
	}
	return ""
}

// Endpoint sources beyond the tag formats.
const (
	SourceRule        = "rule"        // a user rule matched
	SourceFingerprint = "fingerprint" // nothing else did: the fingerprint class stands in
)

// Class is how srctl groups a statement: the endpoint it belongs to and why.
type Class struct {
	Endpoint      string            `json:"endpoint"`
	Source        string            `json:"source"` // sqlcommenter, marginalia, rule or fingerprint
	Tags          map[string]string `json:"tags,omitempty"`
	Fingerprint   string            `json:"fingerprint"`
	FingerprintID string            `json:"fingerprint_id"`
}

// Classify names sql's endpoint (../shared/FORMATS.md section 3): its sqlcommenter or
// Marginalia tags, else the first matching rule, else "fp:" and its fingerprint ID, so that
// untagged statements still group by class.
func (rs *Rules) Classify(sql string) Class {
	c := Class{Fingerprint: Fingerprint(sql)}
	c.FingerprintID = ID(c.Fingerprint)
	if tags, src := Tags(sql); len(tags) > 0 {
		c.Tags = tags
		if ep := Endpoint(tags); ep != "" {
			c.Endpoint, c.Source = ep, src
			return c
		}
	}
	if name := rs.Match(sql); name != "" {
		c.Endpoint, c.Source = name, SourceRule
		return c
	}
	c.Endpoint, c.Source = "fp:"+c.FingerprintID, SourceFingerprint
	return c
}
