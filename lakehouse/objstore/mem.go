package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

var (
	memMu      sync.Mutex
	memBuckets = map[string]*Mem{}
)

// Mem is an in-process Bucket for tests. Buckets opened with the same mem:// URI in one process
// share their contents, so a command under test and the test itself see the same objects.
type Mem struct {
	name string
	mu   sync.RWMutex
	objs map[string][]byte
	// FailPut, when set, is called before every Put; a non-nil result fails the Put. Tests use it
	// to make storage go down and come back.
	FailPut func(key string) error
}

// NewMem returns the shared in-memory bucket called name.
func NewMem(name string) *Mem {
	memMu.Lock()
	defer memMu.Unlock()
	if b, ok := memBuckets[name]; ok {
		return b
	}
	b := &Mem{name: name, objs: map[string][]byte{}}
	memBuckets[name] = b
	return b
}

var errMemNotExist = errors.New("object does not exist")

func (m *Mem) Put(ctx context.Context, key string, data []byte) error {
	if err := validateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	m.mu.RLock()
	fail := m.FailPut
	m.mu.RUnlock()
	if fail != nil {
		if err := fail(key); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		// A hook may take time, like an upload: a cancellation meanwhile aborts the Put, as it
		// does for the cloud stores.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
	}
	cp := bytes.Clone(data)
	if cp == nil {
		cp = []byte{}
	}
	m.mu.Lock()
	m.objs[key] = cp
	m.mu.Unlock()
	return nil
}

// SetFailPut installs (or with nil removes) a Put failure hook.
func (m *Mem) SetFailPut(f func(key string) error) {
	m.mu.Lock()
	m.FailPut = f
	m.mu.Unlock()
}

func (m *Mem) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	b, ok := m.objs[key]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, errMemNotExist)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *Mem) List(ctx context.Context, prefix string, fn func(string) error) error {
	m.mu.RLock()
	var keys []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	m.mu.RUnlock()
	sort.Strings(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

func (m *Mem) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	delete(m.objs, key)
	m.mu.Unlock()
	return nil
}

func (m *Mem) IsNotExist(err error) bool { return errors.Is(err, errMemNotExist) }
func (m *Mem) String() string            { return "mem://" + m.name }
func (m *Mem) Close() error              { return nil }
