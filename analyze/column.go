package analyze

// columnBlock is the length of a column's blocks once it has outgrown doubling.
const columnBlock = 1024

// column is an append-only array kept in blocks, for the latencies and sizes diff accumulates
// per endpoint while it reads. Growing it never copies what it holds: an append-grown slice is
// copied at every growth (about five times its final size in all, at Go's 1.25x steps), and on
// a virtual machine memory new to the process costs a page fault per 4 KiB. A column starts
// small and doubles up to columnBlock, so that the many rarely seen endpoints hold little.
type column[T any] struct {
	blocks [][]T // full blocks, in order
	cur    []T   // the block being filled
	n      int   // elements in blocks
}

func (c *column[T]) add(v T) { *c.push() = v }

// push appends a zero element and returns it. Callers with a value's parts store them one by
// one: a [2]float32 built whole and passed to add went through the stack as two 4-byte stores
// read back by one 8-byte load, which the CPU cannot forward from the stores (a stall of ~15
// cycles on every latency pair).
func (c *column[T]) push() *T {
	if len(c.cur) == cap(c.cur) {
		c.grow()
	}
	c.cur = c.cur[:len(c.cur)+1]
	return &c.cur[len(c.cur)-1]
}

func (c *column[T]) grow() {
	if k := cap(c.cur); k < columnBlock {
		// Exact capacities (slices.Grow rounds up to the allocator's size classes): doubling from
		// 16 reaches columnBlock, and every full block holds exactly columnBlock.
		next := make([]T, len(c.cur), max(16, 2*k))
		copy(next, c.cur)
		c.cur = next
		return
	}
	c.blocks = append(c.blocks, c.cur)
	c.n += len(c.cur)
	c.cur = make([]T, 0, columnBlock)
}

func (c *column[T]) len() int { return c.n + len(c.cur) }

// each calls f with the column's elements, block by block in order.
func (c *column[T]) each(f func([]T)) {
	for _, b := range c.blocks {
		f(b)
	}
	if len(c.cur) > 0 {
		f(c.cur)
	}
}
