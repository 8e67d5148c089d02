// Package web holds the seller dashboard: its sources are in src/, and
// scripts/build-web.sh builds them, with Chart.js from npm, into dist/, which
// is committed and embedded here so the gateway binary carries every asset.
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Dist is the built dashboard, rooted at dist/ (index.html at its top).
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path name, and "dist" is valid.
		panic(err)
	}
	return sub
}
