package profile

// Get returns the first entry named key directly in n, or nil.
func (n *Node) Get(key string) *Entry {
	if n == nil {
		return nil
	}
	for _, e := range n.Entries {
		if e.Key == key {
			return e
		}
	}
	return nil
}

// Find returns the first entry named key in n's entries or any of their descendants
// (depth-first), or nil.
func (n *Node) Find(key string) *Entry {
	if n == nil {
		return nil
	}
	return findEntry(n.Entries, key)
}

func findEntry(es []*Entry, key string) *Entry {
	for _, e := range es {
		if e.Key == key {
			return e
		}
		if f := findEntry(e.Children, key); f != nil {
			return f
		}
	}
	return nil
}

// Metric returns the first entry named key in an operator's CommonMetrics or UniqueMetrics (or
// directly under the node), searching nested entries too.
func (n *Node) Metric(key string) *Entry {
	if e := n.Find(key); e != nil {
		return e
	}
	for _, c := range n.Children {
		if c.Kind == NodeMetrics {
			if e := c.Find(key); e != nil {
				return e
			}
		}
	}
	return nil
}

// Walk calls fn for n and every node below it, depth-first in text order.
func (n *Node) Walk(fn func(*Node)) {
	if n == nil {
		return
	}
	fn(n)
	for _, c := range n.Children {
		c.Walk(fn)
	}
}

// Operators returns every operator node in text order.
func (p *Profile) Operators() []*Node {
	var out []*Node
	p.Root.Walk(func(n *Node) {
		if n.Kind == NodeOperator {
			out = append(out, n)
		}
	})
	return out
}

// Info returns a Summary info string ("" when absent).
func (p *Profile) Info(key string) string {
	if e := p.Summary.Get(key); e != nil {
		return e.Value.Raw
	}
	return ""
}

// QueryID is the Summary's Query ID.
func (p *Profile) QueryID() string { return p.Info("Query ID") }

// State is the Summary's Query State: Finished, Error or Running ("" when absent).
func (p *Profile) State() string { return p.Info("Query State") }

// SQL is the Summary's Sql Statement, multi-line statements included.
func (p *Profile) SQL() string { return p.Info("Sql Statement") }
