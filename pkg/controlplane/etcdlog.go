package controlplane

import (
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

// etcdLogger sends etcd's errors to klog, where the API server's and
// scheduler's logs already go, instead of straight to stderr. Its warnings
// are left out: under load it warns about every request it thinks slow.
// Once the control plane is stopping, etcd's complaints about its listeners
// closing are expected and dropped.
func etcdLogger(stopping *atomic.Bool) *zap.Logger {
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	sink := zapcore.AddSync(klogWriter{stopping: stopping})
	return zap.New(zapcore.NewCore(enc, sink, zapcore.ErrorLevel)).Named("etcd")
}

type klogWriter struct{ stopping *atomic.Bool }

func (w klogWriter) Write(p []byte) (int, error) {
	if !w.stopping.Load() {
		klog.ErrorDepth(4, string(p))
	}
	return len(p), nil
}
