// Command etcd is the etcd server, built from the published etcd modules.
// The etcd root module carries replace directives, so `go install` cannot build it;
// this wrapper calls the same entry point upstream's main.go does.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
