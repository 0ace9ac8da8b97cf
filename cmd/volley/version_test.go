package main

import (
	"runtime/debug"
	"testing"
)

func TestReadBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			"volley v1.4.0 go1.26.8"},
		{"go install of an untagged commit", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Version: "v0.0.0-20261203120000-abcdef123456"}},
			"volley v0.0.0-20261203120000-abcdef123456 (commit abcdef123456) go1.26.8"},
		{"pseudo-version after a tag", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Version: "v1.4.1-0.20261203120000-abcdef123456"}},
			"volley v1.4.1-0.20261203120000-abcdef123456 (commit abcdef123456) go1.26.8"},
		{"build in a checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "c93bee8aa"}, {Key: "vcs.time", Value: "2026-12-03T12:00:00Z"},
				{Key: "vcs.modified", Value: "true"}}},
			"volley (devel) (commit c93bee8aa, modified, 2026-12-03T12:00:00Z) go1.26.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readBuildInfo(tt.info, true).String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	if got := readBuildInfo(nil, false).String(); got != "volley (devel)" {
		t.Errorf("without build info: %q", got)
	}
}
