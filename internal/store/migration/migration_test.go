package migration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// memExec is an Executor over an in-memory set of applied versions; it
// records what ran so the planner's order can be checked.
type memExec struct {
	applied map[int]bool
	ran     []string
	failAt  int
}

func (m *memExec) Applied(context.Context) (map[int]bool, error) {
	out := map[int]bool{}
	for v, ok := range m.applied {
		out[v] = ok
	}
	return out, nil
}

func (m *memExec) Apply(_ context.Context, mig Migration, up bool) error {
	if mig.Version == m.failAt {
		return errors.New("boom")
	}
	if up {
		m.applied[mig.Version] = true
		m.ran = append(m.ran, "up:"+mig.Up)
	} else {
		delete(m.applied, mig.Version)
		m.ran = append(m.ran, "down:"+mig.Down)
	}
	return nil
}

func files() fstest.MapFS {
	return fstest.MapFS{
		"0001_init.up.sql":     {Data: []byte("A1")},
		"0001_init.down.sql":   {Data: []byte("a1")},
		"0002_events.up.sql":   {Data: []byte("A2")},
		"0002_events.down.sql": {Data: []byte("a2")},
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	all, err := Load(files())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Version != 1 || all[0].Name != "init" || all[1].Up != "A2" || all[1].Down != "a2" {
		t.Fatalf("Load = %+v", all)
	}
	for name, fs := range map[string]fstest.MapFS{
		"missing down": {"0001_x.up.sql": {Data: []byte("x")}},
		"gap":          {"0002_x.up.sql": {Data: []byte("x")}, "0002_x.down.sql": {Data: []byte("x")}},
		"bad name":     {"init.up.sql": {Data: []byte("x")}, "init.down.sql": {Data: []byte("x")}},
		"bad suffix":   {"0001_x.sideways.sql": {Data: []byte("x")}},
	} {
		if _, err := Load(fs); err == nil {
			t.Errorf("%s: Load accepted it", name)
		}
	}
}

func TestUpDownStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	all, _ := Load(files())
	ex := &memExec{applied: map[int]bool{}}
	if ok, _ := Current(ctx, ex, all); ok {
		t.Fatal("empty database reported current")
	}
	done, err := Up(ctx, ex, all)
	if err != nil || len(done) != 2 || strings.Join(ex.ran, ",") != "up:A1,up:A2" {
		t.Fatalf("Up = %v, %v; ran %v", done, err, ex.ran)
	}
	if ok, _ := Current(ctx, ex, all); !ok {
		t.Fatal("not current after Up")
	}
	if done, _ := Up(ctx, ex, all); len(done) != 0 {
		t.Fatalf("second Up applied %v", done)
	}
	if v, err := Down(ctx, ex, all); err != nil || v != 2 {
		t.Fatalf("Down = %d, %v", v, err)
	}
	st, _ := Status(ctx, ex, all)
	if !st[0].Applied || st[1].Applied {
		t.Fatalf("Status = %+v", st)
	}
	Down(ctx, ex, all)
	if v, err := Down(ctx, ex, all); err != nil || v != 0 {
		t.Fatalf("Down on empty = %d, %v", v, err)
	}
	if ok, _ := Satisfied(ctx, ex, all); ok {
		t.Fatal("empty database reported satisfied")
	}
	Up(ctx, ex, all)
	ex.applied[7] = true // a newer binary migrated this database
	if ok, _ := Current(ctx, ex, all); ok {
		t.Fatal("unknown applied version reported current")
	}
	if ok, _ := Satisfied(ctx, ex, all); !ok {
		t.Fatal("a database migrated further than this binary is not satisfied: a rolling upgrade would take old nodes out")
	}
	delete(ex.applied, 1)
	if ok, _ := Satisfied(ctx, ex, all); ok {
		t.Fatal("a database lacking migration 1 reported satisfied")
	}
}

func TestUpStopsAtFailure(t *testing.T) {
	t.Parallel()
	all, _ := Load(files())
	ex := &memExec{applied: map[int]bool{}, failAt: 2}
	done, err := Up(context.Background(), ex, all)
	if err == nil || len(done) != 1 || !strings.Contains(err.Error(), "migration 2 (events)") {
		t.Fatalf("Up = %v, %v", done, err)
	}
}
