// Command ingest-svc owns H-log's MySQL: it runs collection, loads what the
// collectors stream, and serves the Account, Sync and Sales gRPC APIs.
package main

import (
	_ "time/tzdata" // sellers' time zones work without the OS zone database

	"hlog.dev/proto/kit"

	"hlog.dev/ingest-svc/internal/app"
)

func main() { kit.Main("ingest-svc", app.Run) }
