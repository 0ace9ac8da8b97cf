package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storesqlite"
)

// Free space below which doctor fails, and the share below which it warns.
const (
	doctorMinFreeBytes = 512 << 20
	doctorWarnFreeFrac = 0.10
)

// doctor collects the findings of `volley doctor`.
type doctor struct {
	out   io.Writer
	fails int
	warns int
}

func (d *doctor) ok(format string, a ...any) { fmt.Fprintf(d.out, "ok    "+format+"\n", a...) }

func (d *doctor) warn(fix, format string, a ...any) {
	d.warns++
	fmt.Fprintf(d.out, "warn  "+format+"\n", a...)
	if fix != "" {
		fmt.Fprintf(d.out, "      fix: %s\n", fix)
	}
}

func (d *doctor) fail(fix, format string, a ...any) {
	d.fails++
	fmt.Fprintf(d.out, "FAIL  "+format+"\n", a...)
	if fix != "" {
		fmt.Fprintf(d.out, "      fix: %s\n", fix)
	}
}

// runDoctor checks a configuration without starting the server: it reads
// the same flags and environment as `volley serve` for what it checks, and
// changes nothing (it creates no database and no key).
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", "doctor [flags]", stderr)
	var sf storeFlags
	sf.register(fs)
	publicURL := fs.String("public-url", env("VOLLEY_PUBLIC_URL", ""), "the server's external base URL to reach (env VOLLEY_PUBLIC_URL)")
	egressEnv, egressSet := os.LookupEnv("VOLLEY_EGRESS_ALLOW")
	egressAllow := fs.String("egress-allow", egressEnv, "private networks destinations may reach (env VOLLEY_EGRESS_ALLOW)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long each network check may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("doctor: unexpected argument %q", fs.Arg(0))}
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "egress-allow" {
			egressSet = true
		}
	})
	d := &doctor{out: stdout}

	if !sf.postgres() {
		d.checkDataDir(sf.dataDir)
	}
	key := d.checkKey(&sf)
	d.checkStore(ctx, &sf, key, *timeout)
	d.checkEgress(*egressAllow, egressSet)
	d.checkPublicURL(ctx, *publicURL, *timeout)

	fmt.Fprintf(stdout, "\n%d failed, %d warnings.\n", d.fails, d.warns)
	if d.fails > 0 {
		return errors.New("doctor: the configuration has problems (above)")
	}
	return nil
}

// checkDataDir: the directory exists or can be made, takes writes, and has
// room.
func (d *doctor) checkDataDir(dir string) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// The server creates the missing directories: the nearest one
		// that exists must take them.
		parent := filepath.Dir(filepath.Clean(dir))
		for {
			if _, err := os.Stat(parent); err == nil || parent == filepath.Dir(parent) {
				break
			}
			parent = filepath.Dir(parent)
		}
		if werr := probeWritable(parent); werr != nil {
			d.fail(fmt.Sprintf("create %s yourself, owned by the user that runs volley", dir),
				"data directory %s does not exist and %s is not writable: %v", dir, parent, werr)
			return
		}
		d.ok("data directory %s does not exist yet; the server creates it", dir)
		dir = parent
	case err != nil:
		d.fail("", "data directory %s: %v", dir, err)
		return
	case !st.IsDir():
		d.fail("point --data-dir (VOLLEY_DATA_DIR) at a directory", "data directory %s is not a directory", dir)
		return
	default:
		if err := probeWritable(dir); err != nil {
			d.fail(fmt.Sprintf("make %s writable by the user that runs volley", dir), "data directory %s is not writable: %v", dir, err)
			return
		}
		d.ok("data directory %s is writable", dir)
	}
	free, total, err := diskSpace(dir)
	switch {
	case err != nil:
		d.warn("", "could not read the free space of %s: %v", dir, err)
	case free < doctorMinFreeBytes:
		d.fail("free some space or move the data directory: SQLite needs room for the WAL and for retention's work",
			"only %s free on the file system of %s", formatBytes(free), dir)
	case total > 0 && float64(free) < doctorWarnFreeFrac*float64(total):
		d.warn("watch the store's growth (docs/operating.md, \"Disk\")", "%s free on the file system of %s (%.0f%%)",
			formatBytes(free), dir, 100*float64(free)/float64(total))
	default:
		d.ok("%s free on the file system of %s", formatBytes(free), dir)
	}
}

// probeWritable creates and removes a file in dir.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".volley-doctor-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// checkKey finds the secret key the server would use, without creating one.
func (d *doctor) checkKey(sf *storeFlags) []byte {
	key, origin, err := existingKey(sf)
	switch {
	case err != nil:
		d.fail("set VOLLEY_SECRET_KEY to 64 hex characters (openssl rand -hex 32), or restore the key file", "secret key: %v", err)
		return nil
	case key == nil && sf.postgres():
		d.fail("set VOLLEY_SECRET_KEY, the same on every node (generate one with: openssl rand -hex 32)",
			"VOLLEY_SECRET_KEY is not set; it is required with PostgreSQL")
		return nil
	case key == nil:
		d.ok("no secret key yet: the server creates %s at its first start", filepath.Join(sf.dataDir, "secret.key"))
		return nil
	}
	if os.Getenv("VOLLEY_SECRET_KEY") == "" {
		path := filepath.Join(sf.dataDir, "secret.key")
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			d.warn(fmt.Sprintf("chmod 600 %s", path), "%s is readable by other users (mode %v)", path, st.Mode().Perm())
		}
	}
	d.ok("secret key: %s", origin)
	return key
}

// checkStore: the store answers, its schema is one this binary runs, and
// the key opens what it sealed.
func (d *doctor) checkStore(ctx context.Context, sf *storeFlags, key []byte, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var st store.Store
	var states []migration.State
	var err error
	if sf.postgres() {
		var pg *storepg.Store
		if pg, err = storepg.OpenNoMigrate(ctx, storepg.Config{URL: sf.database}); err == nil {
			st = pg
			states, err = pg.MigrateStatus(ctx)
		}
		if err != nil {
			d.fail("check the URL, that PostgreSQL runs and that the role may connect", "PostgreSQL at %s: %v", redactURL(sf.database), err)
			if pg != nil {
				pg.Close()
			}
			return
		}
	} else {
		path := sf.sqliteFile()
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			d.ok("no database at %s yet: the server creates it at its first start", path)
			return
		}
		// Shared: a running server holds the process lock, and doctor only reads.
		lite, err := storesqlite.OpenNoMigrate(storesqlite.Config{Path: path, Shared: true})
		if err == nil {
			st = lite
			states, err = lite.MigrateStatus(ctx)
		}
		if err != nil {
			d.fail("", "SQLite database %s: %v", path, err)
			if lite != nil {
				lite.Close()
			}
			return
		}
	}
	defer st.Close()
	d.ok("store reachable")
	d.checkSchema(states, sf.postgres())
	if key == nil {
		return
	}
	switch n, err := checkSealed(ctx, st, key); {
	case errors.Is(err, errWrongKey):
		d.fail("use the key the store was created with (VOLLEY_SECRET_KEY or the data directory's secret.key); a backup restored "+
			"elsewhere needs its server's key", "the secret key does not open the store's sealed secrets")
	case err != nil:
		d.warn("", "could not check the secret key against the store: %v", err)
	case n == 0:
		d.ok("no sealed secret in the store to check the key against")
	default:
		d.ok("the secret key opens the store's sealed secrets (%d checked)", n)
	}
}

func (d *doctor) checkSchema(states []migration.State, postgres bool) {
	applied, pending := 0, 0
	for _, s := range states {
		if s.Applied {
			applied = s.Version
		} else {
			pending++
		}
	}
	newest := 0
	if len(states) > 0 {
		newest = states[len(states)-1].Version
	}
	switch {
	case pending == 0:
		d.ok("schema is current (%04d)", newest)
	case postgres:
		d.warn("run `volley migrate up` once (or start one node), before nodes of this version serve traffic",
			"schema at %04d, this binary expects %04d: %d migrations pending", applied, newest, pending)
	default:
		d.ok("schema at %04d, this binary expects %04d: the %d pending migrations run at the next start", applied, newest, pending)
	}
}

// checkEgress: the allow-list parses and does not open every private
// network.
func (d *doctor) checkEgress(allow string, set bool) {
	prefixes, err := parseEgressAllow(allow, set)
	if err != nil {
		d.fail("list CIDRs separated by commas, e.g. 10.1.2.0/24,fd00::/64", "VOLLEY_EGRESS_ALLOW: %v", err)
		return
	}
	if !set {
		d.ok("egress: destinations may reach public addresses and loopback only (the default)")
		return
	}
	var broad []string
	for _, p := range prefixes {
		if p.Bits() <= 8 || (p.Addr().Is6() && !p.Addr().Is4In6() && p.Bits() <= 16) {
			broad = append(broad, p.String())
		}
	}
	if len(broad) > 0 {
		d.warn("allow only the networks your destinations live in, as narrow as you can",
			"egress allows wide private ranges (%s): a destination URL could reach services on them", strings.Join(broad, ", "))
		return
	}
	d.ok("egress: destinations may also reach %s", joinPrefixes(prefixes))
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// checkPublicURL: the URL parses and reaches a Volley server from here.
func (d *doctor) checkPublicURL(ctx context.Context, raw string, timeout time.Duration) {
	if raw == "" {
		d.ok("no public URL: ingestion URLs use the host each request came in on (set VOLLEY_PUBLIC_URL behind a proxy)")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.fail("give the base URL people and providers use, e.g. https://hooks.example.com", "VOLLEY_PUBLIC_URL %q is not an http(s) URL", raw)
		return
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		d.warn("serve it over HTTPS (--tls-cert or a proxy) and use an https public URL",
			"the public URL %s is plain HTTP: webhooks, tokens and session cookies would cross the network unencrypted", raw)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := strings.TrimRight(raw, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		d.fail("", "public URL: %v", err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.fail("start the server, and check that DNS, the firewall and any proxy route the public URL to it",
			"%s is not reachable from this machine: %v", target, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.fail("check that the public URL routes to Volley, not to another service", "%s answered %s", target, resp.Status)
		return
	}
	d.ok("%s answers", target)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
