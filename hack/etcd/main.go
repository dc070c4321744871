// Command etcd is the etcd server of the version go.mod pins
// (go.etcd.io/etcd/server/v3), built from the module cache so that
// scheduler_perf's integration framework, which looks for an `etcd` binary
// on PATH, needs nothing downloaded. make perf-upstream builds it into bin/.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
