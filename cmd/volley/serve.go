package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/httpapi"
	"github.com/volleyhq/volley/internal/ingest"
	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/mail"
	"github.com/volleyhq/volley/internal/metrics"
	"github.com/volleyhq/volley/internal/retention"
	"github.com/volleyhq/volley/internal/server"
	"github.com/volleyhq/volley/internal/yield"
)

const serveEnvHelp = `
Environment only:
  VOLLEY_SECRET_KEY      key sealing tokens and secrets at rest (64 hex chars or base64 of 32 bytes);
                         default: <data-dir>/secret.key, created on first start; required with
                         PostgreSQL, the same on every node
  VOLLEY_SECRET_KEY_PREVIOUS  comma-separated older keys, still read while a rotation is under way
                         (volley secrets rotate-key); with the key file, its later lines
  VOLLEY_ADMIN_EMAIL     email of the admin account created on first start (default admin@localhost)
  VOLLEY_ADMIN_TOKEN     its API token (vk_ and letters and digits, at least 32 characters); default: generated
  VOLLEY_ADMIN_PASSWORD  its password; default: generated
  VOLLEY_METRICS_TOKEN   bearer token required to read /metrics; default: none (anyone who reaches it)
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
                         turn OpenTelemetry tracing on (OTLP over HTTP); the other standard OTEL_*
                         variables apply; OTEL_SDK_DISABLED=true turns it off
On first start the admin token is printed once and written to <data-dir>/admin-token (mode 0600).
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", stderr)
	var ev envReader
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("addr", env("VOLLEY_ADDR", "127.0.0.1:8080"), "listen address (env VOLLEY_ADDR)")
	publicURL := fs.String("public-url", env("VOLLEY_PUBLIC_URL", ""),
		"external base URL shown in ingestion URLs; default http://<addr> (env VOLLEY_PUBLIC_URL)")
	egressEnv, egressSet := os.LookupEnv("VOLLEY_EGRESS_ALLOW")
	egressAllow := fs.String("egress-allow", egressEnv,
		"comma-separated CIDRs of private networks destinations may reach; default loopback only (env VOLLEY_EGRESS_ALLOW)")
	retrySchedule := fs.String("retry-schedule", env("VOLLEY_RETRY_SCHEDULE", "5s,30s,2m,10m,30m,1h,2h,4h,8h,12h"),
		"waits before each retry, the last one repeating (env VOLLEY_RETRY_SCHEDULE)")
	retryJitter := fs.Float64("retry-jitter", ev.float("VOLLEY_RETRY_JITTER", delivery.DefaultJitter),
		"random spread of each retry wait, as a fraction: 0.2 = ±20% (env VOLLEY_RETRY_JITTER)")
	timeout := fs.Duration("delivery-timeout", ev.duration("VOLLEY_DELIVERY_TIMEOUT", 15*time.Second),
		"attempt timeout of destinations without their own, at most 60s (env VOLLEY_DELIVERY_TIMEOUT)")
	concurrency := fs.Int("destination-concurrency", ev.int("VOLLEY_DESTINATION_CONCURRENCY", 32),
		"requests in flight per destination (env VOLLEY_DESTINATION_CONCURRENCY)")
	retentionPeriod := fs.Duration("retention", ev.duration("VOLLEY_RETENTION", retention.DefaultPeriod),
		"how long events and their attempts are kept (env VOLLEY_RETENTION)")
	commitTarget := fs.Duration("ingest-commit-target", ev.duration("VOLLEY_INGEST_COMMIT_TARGET", yield.DefaultTarget),
		"ingest commit time above which backlog drains, retention and bulk replays slow down; 0 never slows them (env VOLLEY_INGEST_COMMIT_TARGET)")
	auditRetention := fs.Duration("audit-retention", ev.duration("VOLLEY_AUDIT_RETENTION", retention.DefaultAuditPeriod),
		"how long audit log records are kept (env VOLLEY_AUDIT_RETENTION)")
	maxBody := fs.Int64("max-body-bytes", ev.int64("VOLLEY_MAX_BODY_BYTES", ingest.DefaultMaxBodyBytes),
		"largest webhook body accepted, in bytes (env VOLLEY_MAX_BODY_BYTES)")
	pprofAddr := fs.String("pprof-addr", env("VOLLEY_PPROF_ADDR", ""),
		"serve Go profiling (net/http/pprof) on this address, e.g. 127.0.0.1:6060; empty disables it (env VOLLEY_PPROF_ADDR)")
	logLevel := fs.String("log-level", env("VOLLEY_LOG_LEVEL", "info"), "debug, info, warn or error (env VOLLEY_LOG_LEVEL)")
	signup := fs.String("signup", env("VOLLEY_SIGNUP", "closed"),
		"who may create an account at /signup: closed (invitations and `volley users create` only) or open (env VOLLEY_SIGNUP)")
	smtpURL := fs.String("smtp-url", env("VOLLEY_SMTP_URL", ""),
		"SMTP server that mails invitations, smtp[s]://user:password@host:port?from=address; empty shows the links only to the inviter (env VOLLEY_SMTP_URL)")
	apiRate := fs.Float64("api-rate", ev.float("VOLLEY_API_RATE", server.DefaultAPIRate),
		"API requests per second per token, with bursts of twice that, shared by every node on PostgreSQL; 0 turns the limit off (env VOLLEY_API_RATE)")
	trustedProxies := fs.String("trusted-proxies", env("VOLLEY_TRUSTED_PROXIES", ""),
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For hops are believed for the client address; empty: the TCP peer (env VOLLEY_TRUSTED_PROXIES)")
	tlsCert := fs.String("tls-cert", env("VOLLEY_TLS_CERT", ""),
		"PEM certificate (chain) to serve HTTPS and HTTP/2 with; reloaded when the file changes or on SIGHUP (env VOLLEY_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("VOLLEY_TLS_KEY", ""), "PEM private key of --tls-cert (env VOLLEY_TLS_KEY)")
	destCAFile := fs.String("destination-ca-file", env("VOLLEY_DESTINATION_CA_FILE", ""),
		"PEM file of extra certificate authorities HTTPS destinations are verified against, beside the system's (env VOLLEY_DESTINATION_CA_FILE)")
	logFormat := fs.String("log-format", env("VOLLEY_LOG_FORMAT", "text"), "text or json (env VOLLEY_LOG_FORMAT)")
	metricsAddr := fs.String("metrics-addr", env("VOLLEY_METRICS_ADDR", ""),
		"serve /metrics on this private address instead of --addr, e.g. 127.0.0.1:9090 (env VOLLEY_METRICS_ADDR)")
	metricsDests := fs.Int("metrics-destination-labels", ev.int("VOLLEY_METRICS_DESTINATION_LABELS", metrics.DefaultDestinationLabels),
		"destinations whose attempt latency gets a series of its own; the others are counted as \"other\" (env VOLLEY_METRICS_DESTINATION_LABELS)")
	usage := fs.Usage
	fs.Usage = func() { usage(); fmt.Fprint(stderr, serveEnvHelp) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	if err := ev.err(); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "egress-allow" {
			egressSet = true
		}
	})
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	allow, err := parseEgressAllow(*egressAllow, egressSet)
	if err != nil {
		return usageError{err.Error()}
	}
	schedule, err := delivery.ParseSchedule(*retrySchedule)
	if err != nil {
		return usageError{"--retry-schedule: " + err.Error()}
	}
	if *maxBody <= 0 {
		return usageError{"--max-body-bytes must be positive"}
	}
	if *retentionPeriod <= 0 {
		return usageError{"--retention must be positive, e.g. 720h"}
	}
	if *metricsDests <= 0 {
		return usageError{"--metrics-destination-labels must be positive"}
	}
	if *auditRetention <= 0 {
		return usageError{"--audit-retention must be positive, e.g. 8760h"}
	}
	if *signup != "open" && *signup != "closed" {
		return usageError{fmt.Sprintf("--signup: %q: choose open or closed", *signup)}
	}
	if *apiRate < 0 || math.IsNaN(*apiRate) || math.IsInf(*apiRate, 0) {
		return usageError{"--api-rate must be 0 (off) or positive, e.g. 50"}
	}
	if *apiRate == 0 {
		*apiRate = -1 // server.Config: negative is off, 0 the default
	}
	if *commitTarget < 0 {
		return usageError{"--ingest-commit-target must be 0 (off) or positive, e.g. 25ms"}
	}
	if *commitTarget == 0 {
		*commitTarget = -1 // server.Config: negative is off, 0 the default
	}
	proxies, err := limit.ParseProxies(*trustedProxies)
	if err != nil {
		return usageError{"--trusted-proxies: " + err.Error()}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{"--tls-cert and --tls-key go together: give both to serve HTTPS, or neither"}
	}
	rootCAs, err := destinationCAs(*destCAFile)
	if err != nil {
		return usageError{"--destination-ca-file: " + err.Error()}
	}
	var mailer httpapi.Mailer
	if *smtpURL != "" {
		m, err := mail.Parse(*smtpURL)
		if err != nil {
			return usageError{"--smtp-url: " + err.Error()}
		}
		mailer = m
	}
	key, previousKeys, err := sf.secretKeys()
	if err != nil {
		return err
	}
	tp, err := newTracerProvider(ctx, os.Getenv, log)
	if err != nil {
		return err
	}
	var tracer trace.TracerProvider // nil: tracing off
	if tp != nil {
		tracer = tp
		log.Info("tracing on: exporting spans over OTLP")
		defer func() {
			// Flush the last spans; bounded, the collector may be gone.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(sctx); err != nil {
				log.Warn("tracing: flush spans at exit", "err", err)
			}
		}()
	}
	sf.log = log
	st, err := sf.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()

	srv, err := server.New(server.Config{
		Addr: *addr, PublicURL: *publicURL, Store: st, SecretKey: key, PreviousSecretKeys: previousKeys, EgressAllow: allow, Logger: log,
		ExclusiveStore: sf.exclusive(),
		Delivery: delivery.Config{
			Retry:       delivery.RetryPolicy{Schedule: schedule, Jitter: *retryJitter},
			Timeout:     *timeout,
			Concurrency: *concurrency,
			RootCAs:     rootCAs,
		},
		MaxBodyBytes:       *maxBody,
		Retention:          *retentionPeriod,
		AuditRetention:     *auditRetention,
		Committers:         committers(&sf),
		IngestCommitTarget: *commitTarget,
		Signup:             *signup == "open",
		Mailer:             mailer,
		APIRate:            *apiRate,
		Proxies:            proxies,
		TLSCertFile:        *tlsCert,
		TLSKeyFile:         *tlsKey,

		MetricsAddr:              *metricsAddr,
		MetricsToken:             os.Getenv("VOLLEY_METRICS_TOKEN"),
		MetricsDestinationLabels: *metricsDests,
		TracerProvider:           tracer,
	})
	if err != nil {
		return err
	}
	admin, err := srv.Bootstrap(ctx, server.AdminConfig{
		Email:     os.Getenv("VOLLEY_ADMIN_EMAIL"),
		Token:     os.Getenv("VOLLEY_ADMIN_TOKEN"),
		Password:  os.Getenv("VOLLEY_ADMIN_PASSWORD"),
		TokenFile: filepath.Join(sf.dataDir, "admin-token"),
	})
	if err != nil {
		return err
	}
	if admin != nil {
		fmt.Fprintf(stdout, "Created the admin account %s (organization %q, default project %d).\n",
			admin.Account.Email, admin.Org.Name, admin.Project.ID)
		fmt.Fprintf(stdout, "API token: %s\n  (also written to %s; it is not shown again)\n",
			admin.Token, filepath.Join(sf.dataDir, "admin-token"))
		if admin.Password != "" {
			fmt.Fprintf(stdout, "Password:  %s\n  (not shown again)\n", admin.Password)
		}
	}
	// SIGHUP reloads the TLS certificate at once (after a renewal), rather
	// than at the next periodic check. Caught from before the first request,
	// so that it never takes the default action (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := srv.Start(ctx); err != nil {
		return err
	}
	// The bound address, also when --addr asked for any free port (":0"):
	// what scripts and tests read to reach this node.
	fmt.Fprintf(stdout, "Volley is listening on %s\n", srv.URL())
	if *pprofAddr != "" {
		stopProfiling, err := serveProfiling(*pprofAddr, log)
		if err != nil {
			srv.Stop(context.WithoutCancel(ctx))
			return err
		}
		defer stopProfiling()
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-hup:
			if err := srv.ReloadTLS(); err != nil {
				log.Warn("SIGHUP: TLS certificate not reloaded; serving the previous one", "err", err)
			}
		}
	}
	log.Info("shutting down")
	return srv.Stop(context.WithoutCancel(ctx))
}

// committers is how many ingest group commits may overlap: one for SQLite's
// single writer; a few for PostgreSQL, whose commits travel the network.
func committers(sf *storeFlags) int {
	if sf.postgres() {
		return 4
	}
	return 1
}

// destinationCAs returns the system's certificate authorities plus those of
// the PEM file at path; nil (the system's) when path is "".
func destinationCAs(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system store (a scratch image): the file's alone
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
