// Package migration plans and applies numbered SQL migrations. Each storage
// driver embeds its own dialect's files (0001_init.up.sql,
// 0001_init.down.sql, …) and supplies an Executor; this package only decides
// what to run and in which order.
package migration

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	Up      string
	Down    string
}

// Executor applies migrations to one database. Apply runs the SQL and records
// (or, going down, forgets) the version in one transaction.
type Executor interface {
	Applied(ctx context.Context) (map[int]bool, error)
	Apply(ctx context.Context, m Migration, up bool) error
}

// Load reads NNNN_name.up.sql and NNNN_name.down.sql files from the root of
// fsys. Every version needs both files, and versions must be 1, 2, 3, … with
// no gaps.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	byVersion := map[int]*Migration{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".sql")
		stem, dir, ok := cutLast(base, ".")
		if !ok || (dir != "up" && dir != "down") {
			return nil, fmt.Errorf("migration %s: name must end in .up.sql or .down.sql", name)
		}
		num, label, _ := strings.Cut(stem, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		m := byVersion[v]
		if m == nil {
			m = &Migration{Version: v, Name: label}
			byVersion[v] = m
		}
		if dir == "up" {
			m.Up = string(body)
		} else {
			m.Down = string(body)
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.Up == "" || m.Down == "" {
			return nil, fmt.Errorf("migration %d: needs both an up and a down file", m.Version)
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %d is missing", i+1)
		}
	}
	return out, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// Up applies every migration not yet applied, in order, and returns the
// versions it applied.
func Up(ctx context.Context, ex Executor, all []Migration) ([]int, error) {
	applied, err := ex.Applied(ctx)
	if err != nil {
		return nil, err
	}
	var done []int
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		if err := ex.Apply(ctx, m, true); err != nil {
			return done, fmt.Errorf("apply migration %d (%s): %w", m.Version, m.Name, err)
		}
		done = append(done, m.Version)
	}
	return done, nil
}

// Down reverts the newest applied migration and returns its version, or 0
// when none is applied.
func Down(ctx context.Context, ex Executor, all []Migration) (int, error) {
	applied, err := ex.Applied(ctx)
	if err != nil {
		return 0, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		m := all[i]
		if !applied[m.Version] {
			continue
		}
		if err := ex.Apply(ctx, m, false); err != nil {
			return 0, fmt.Errorf("revert migration %d (%s): %w", m.Version, m.Name, err)
		}
		return m.Version, nil
	}
	return 0, nil
}

// State is one migration and whether it is applied.
type State struct {
	Migration
	Applied bool
}

// Status lists every known migration with its state.
func Status(ctx context.Context, ex Executor, all []Migration) ([]State, error) {
	applied, err := ex.Applied(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]State, len(all))
	for i, m := range all {
		out[i] = State{Migration: m, Applied: applied[m.Version]}
	}
	return out, nil
}

// Current reports whether every known migration is applied and no unknown
// (newer) one is: the schema is exactly what this binary expects.
func Current(ctx context.Context, ex Executor, all []Migration) (bool, error) {
	applied, err := ex.Applied(ctx)
	if err != nil {
		return false, err
	}
	if len(applied) != len(all) {
		return false, nil
	}
	for _, m := range all {
		if !applied[m.Version] {
			return false, nil
		}
	}
	return true, nil
}

// Satisfied reports whether every migration in all is applied. Unlike
// Current it accepts migrations applied beyond all: during a rolling
// upgrade the new version migrates first, and the nodes of the previous
// version, whose migrations are all there, keep serving.
func Satisfied(ctx context.Context, ex Executor, all []Migration) (bool, error) {
	applied, err := ex.Applied(ctx)
	if err != nil {
		return false, err
	}
	for _, m := range all {
		if !applied[m.Version] {
			return false, nil
		}
	}
	return true, nil
}
