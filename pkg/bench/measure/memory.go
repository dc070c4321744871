package measure

import (
	"context"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memorySampler records the process's peak heap and resident set while a
// run goes on. It reads runtime/metrics, which does not stop the world as
// runtime.ReadMemStats does, and /proc/self/statm for the resident set.
type memorySampler struct {
	mu       sync.Mutex
	peakHeap uint64
	peakRSS  uint64
	stop     context.CancelFunc
	done     chan struct{}
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func startMemorySampler(ctx context.Context, every time.Duration) *memorySampler {
	ctx, cancel := context.WithCancel(ctx)
	m := &memorySampler{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		sample := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(sample)
			heap := sample[0].Value.Uint64()
			rss := residentBytes()
			m.mu.Lock()
			m.peakHeap, m.peakRSS = max(m.peakHeap, heap), max(m.peakRSS, rss)
			m.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// finish stops sampling and returns the peaks in bytes.
func (m *memorySampler) finish() (heap, rss uint64) {
	m.stop()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peakHeap, m.peakRSS
}

// residentBytes is the process's resident set now, 0 where /proc is missing.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
