package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strings"
)

// version overrides the module version when set at build time with
// -ldflags "-X main.version=v1.2.3" (release builds and the Dockerfile).
var version = ""

// buildInfo is what `volley version` prints.
type buildInfo struct {
	Version  string // module version: v1.2.3, a pseudo-version, or (devel)
	Commit   string // VCS revision, "" when unknown
	Modified bool   // built from a work tree with uncommitted changes
	Time     string // commit time, "" when unknown
	Go       string // toolchain
}

// pseudoCommit finds the commit of a pseudo-version such as
// v0.0.0-20261203120000-abcdef123456, which is all `go install …@latest`
// records when the latest is not a tagged release.
var pseudoCommit = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-(?:[0-9a-z.]+\.)?[0-9]{14}-([0-9a-f]{12})$`)

// readBuildInfo collects the version from what the Go toolchain embedded in
// the binary: `go install module@version` records the module version, a
// build in a git checkout records the commit.
func readBuildInfo(info *debug.BuildInfo, ok bool) buildInfo {
	b := buildInfo{Version: "(devel)"}
	if ok {
		b.Go = info.GoVersion
		if v := info.Main.Version; v != "" {
			b.Version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		b.Version = version
	}
	if b.Commit == "" {
		if m := pseudoCommit.FindStringSubmatch(strings.TrimSuffix(b.Version, "+incompatible")); m != nil {
			b.Commit = m[1]
		}
	}
	return b
}

func (b buildInfo) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "volley %s", b.Version)
	if b.Commit != "" {
		fmt.Fprintf(&s, " (commit %s", b.Commit)
		if b.Modified {
			s.WriteString(", modified")
		}
		if b.Time != "" {
			fmt.Fprintf(&s, ", %s", b.Time)
		}
		s.WriteString(")")
	}
	if b.Go != "" {
		fmt.Fprintf(&s, " %s", b.Go)
	}
	return s.String()
}

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("version: unexpected argument %q", args[0])}
	}
	fmt.Fprintln(stdout, readBuildInfo(debug.ReadBuildInfo()))
	return nil
}
