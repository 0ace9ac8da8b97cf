package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// trafficWriter is the part of the store buildDataset writes through.
type trafficWriter interface {
	EventInsert(ctx context.Context, events []store.NewEvent) ([]store.InsertedEvent, error)
	DeliveryFinish(ctx context.Context, outcomes []store.Outcome) error
}

// datasetRoute is a source and the connection (and its destination) its
// events are routed to.
type datasetRoute struct {
	SourceID, ConnectionID, DestinationID uint64
}

// datasetConfig describes the events buildDataset stores. Zero values take
// the defaults in brackets.
type datasetConfig struct {
	ProjectID uint64
	// Routes carry the events: Routes[1], when given, four events in five
	// on Routes[0] and the fifth on Routes[1], so that a source filter
	// selects a fifth of the project.
	Routes   []datasetRoute
	Events   int           // how many events
	BodySize int           // bytes per body [512]
	End      time.Time     // creation time of the newest event
	Span     time.Duration // the events are spread evenly over (End-Span, End] [7 days]
	Batch    int           // events per EventInsert and outcomes per DeliveryFinish [2000]
	Seed     uint64        // seeds the random part of the event ids
	// Backlog is how many of the newest events are left undelivered: held
	// (as a paused connection holds what is ingested), due at their
	// creation, without an attempt. The others are settled as Kind says.
	Backlog int
	// Kind says what happened to event i outside the backlog: kindProcessed,
	// kindFailed or kindRetrying [datasetKind].
	Kind func(i int) int
	// Body is the body of event i [datasetBody padded to BodySize].
	Body func(i int) []byte
	// FinishBatch is how many outcomes each DeliveryFinish records [all of
	// a batch's]: smaller on PostgreSQL, where a finish costs the square of
	// its size (pgFinishBatch).
	FinishBatch int
	// Workers is how many batches are stored at once [1]. More than one
	// suits a store with concurrent writers (PostgreSQL); batches then
	// commit a little out of time order, as concurrent ingest commits do.
	Workers int
	// Train, when set, is called once the batches holding the first
	// TrainAfter events are stored (by the calling goroutine, before any
	// worker stores one), and before the rest are made: the payload
	// dictionary trainer, so that the store compresses the rest as a
	// server's store compresses a busy source's events. Never called when
	// the dataset has no more than TrainAfter events.
	Train      func(ctx context.Context) error
	TrainAfter int
}

// Kinds of event in the dataset, by what happened to its one delivery.
const (
	kindProcessed = iota // one successful attempt
	kindFailed           // one failed attempt, delivery failed
	kindRetrying         // one failed attempt, delivery pending until End + 24h
	kindBacklog          // no attempt, delivery held (datasetConfig.Backlog)
)

// datasetKind returns what happened to event i: by i/5, so that every
// route gets its share of each kind; one in twenty failed, one in twenty
// retrying, the rest processed.
func datasetKind(i int) int {
	switch (i / 5) % 20 {
	case 0:
		return kindFailed
	case 1:
		return kindRetrying
	}
	return kindProcessed
}

// datasetCustomers is how many distinct customers the bodies name, so that
// a body search for one matches one event in datasetCustomers.
const datasetCustomers = 1000

// datasetCustomer is the customer named in the body of event i.
func datasetCustomer(i int) string { return fmt.Sprintf("cus_%06d", i%datasetCustomers) }

// dataset is what buildDataset stored.
type dataset struct {
	Events, Processed, Failed, Retrying, Backlog int
	Oldest, Newest                               time.Time
	// MiddleUID is the public id of the event in the middle, for the id
	// searches.
	MiddleUID string
	// CreatedAt is the creation time of event i.
	CreatedAt func(i int) time.Time
	Took      time.Duration
}

// buildDataset stores cfg.Events events with one delivery and one attempt
// each, oldest first, in large batches straight through the store (no
// HTTP): one EventInsert, then one DeliveryFinish that records the
// attempts and settles the deliveries. Ids are real Volley ids of the
// events' creation times, so they sort by time as ingested ones do.
// Deliveries left pending are due a day after End: a server started on the
// store leaves them alone for that long. The newest cfg.Backlog events are
// held instead, a backlog that a node releases when their connection is
// enabled.
func buildDataset(ctx context.Context, st trafficWriter, cfg datasetConfig) (*dataset, error) {
	cfg.BodySize = orDefault(cfg.BodySize, 512)
	cfg.Span = orDefault(cfg.Span, 7*24*time.Hour)
	cfg.Batch = orDefault(cfg.Batch, 2000)
	if cfg.Kind == nil {
		cfg.Kind = datasetKind
	}
	if cfg.Body == nil {
		cfg.Body = func(i int) []byte { return datasetBody(i, cfg.BodySize) }
	}
	if cfg.Events <= 0 || len(cfg.Routes) == 0 || cfg.Backlog < 0 || cfg.Backlog > cfg.Events {
		return nil, fmt.Errorf("build dataset: need events (%d), a route (%d) and a backlog within the events (%d)",
			cfg.Events, len(cfg.Routes), cfg.Backlog)
	}
	cfg.Workers = orDefault(cfg.Workers, 1)
	firstBacklog := cfg.Events - cfg.Backlog
	start := time.Now()
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], cfg.Seed)
	rng := rand.NewChaCha8(seed)
	end := cfg.End.UTC().Truncate(time.Microsecond)
	step := cfg.Span / time.Duration(cfg.Events)
	retryAt := end.Add(24 * time.Hour)
	headers := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"volley-bench"}}
	createdAt := func(i int) time.Time { return end.Add(-cfg.Span + step*time.Duration(i+1)).Truncate(time.Microsecond) }
	ds := &dataset{Events: cfg.Events, CreatedAt: createdAt}

	// One goroutine makes the batches, in time order, while Workers store
	// them: making bodies and ids costs CPU that would otherwise wait for
	// the store.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan datasetBatch, cfg.Workers)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain what the maker sent
				}
				if err := storeDatasetBatch(ctx, st, cfg, b, firstBacklog, retryAt); err != nil {
					cancel(fmt.Errorf("build dataset: %w", err))
				}
			}
		})
	}
	err := func() error {
		defer close(batches)
		for first := 0; first < cfg.Events; first += cfg.Batch {
			n := min(cfg.Batch, cfg.Events-first)
			events := make([]store.NewEvent, 0, n)
			for i := first; i < first+n; i++ {
				created := createdAt(i)
				uid, err := volley.NewEventID(rng, created)
				if err != nil {
					return err
				}
				r := cfg.Routes[0]
				if len(cfg.Routes) > 1 && i%5 == 4 {
					r = cfg.Routes[1]
				}
				d := volley.Delivery{ConnectionID: r.ConnectionID, DestinationID: r.DestinationID,
					State: volley.DeliveryPending, NextAttemptAt: retryAt}
				switch {
				case i >= firstBacklog:
					d.State, d.NextAttemptAt = volley.DeliveryHeld, created
					ds.Backlog++
				case cfg.Kind(i) == kindProcessed:
					ds.Processed++
				case cfg.Kind(i) == kindFailed:
					ds.Failed++
				case cfg.Kind(i) == kindRetrying:
					ds.Retrying++
				}
				events = append(events, store.NewEvent{
					Event: volley.Event{UID: uid, ProjectID: cfg.ProjectID, SourceID: r.SourceID, Method: http.MethodPost,
						Headers: headers, Body: cfg.Body(i), CreatedAt: created},
					Deliveries: []volley.Delivery{d},
				})
				if i == cfg.Events/2 {
					ds.MiddleUID = uid
				}
				if i == 0 {
					ds.Oldest = created
				}
				ds.Newest = created
			}
			if cfg.Train != nil && first < cfg.TrainAfter {
				if err := storeDatasetBatch(ctx, st, cfg, datasetBatch{first: first, events: events}, firstBacklog, retryAt); err != nil {
					return fmt.Errorf("build dataset: %w", err)
				}
				if first+n >= cfg.TrainAfter && first+n < cfg.Events {
					if err := cfg.Train(ctx); err != nil {
						return fmt.Errorf("build dataset: train: %w", err)
					}
				}
				continue
			}
			select {
			case batches <- datasetBatch{first: first, events: events}:
			case <-ctx.Done():
				return nil // the cause says why
			}
		}
		return nil
	}()
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return nil, err
	}
	ds.Took = time.Since(start)
	return ds, nil
}

// datasetBatch is a batch of events to store, event first onwards.
type datasetBatch struct {
	first  int
	events []store.NewEvent
}

// storeDatasetBatch stores a batch of buildDataset: one EventInsert, then
// one DeliveryFinish recording the attempts of the events outside the
// backlog.
func storeDatasetBatch(ctx context.Context, st trafficWriter, cfg datasetConfig, b datasetBatch, firstBacklog int, retryAt time.Time) error {
	inserted, err := st.EventInsert(ctx, b.events)
	if err != nil {
		return err
	}
	respHeaders := http.Header{"Content-Type": {"text/plain"}}
	outcomes := make([]store.Outcome, 0, len(inserted))
	for j, res := range inserted {
		i, e := b.first+j, b.events[j].Event
		if i >= firstBacklog {
			continue
		}
		d := b.events[j].Deliveries[0]
		duration := int64(5 + (i*7919)%200) // spread, for the latency percentiles
		at := e.CreatedAt.Add(time.Duration(duration) * time.Millisecond)
		a := &volley.Attempt{DeliveryID: res.DeliveryIDs[0], EventID: res.ID, EventUID: res.UID, ProjectID: e.ProjectID,
			SourceID: e.SourceID, ConnectionID: d.ConnectionID, DestinationID: d.DestinationID, Number: 1,
			Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200, DurationMS: duration,
			ResponseHeaders: respHeaders, ResponseBody: []byte("ok"), CreatedAt: at}
		o := store.Outcome{DeliveryID: res.DeliveryIDs[0], EventID: res.ID, Attempt: a, State: volley.DeliverySuccess, Now: at,
			ConnectionID: d.ConnectionID}
		switch cfg.Kind(i) {
		case kindFailed:
			a.Status, a.StatusCode, a.ErrorReason, a.ResponseBody = volley.AttemptFailed, 500, "HTTP 500", []byte("boom")
			o.State = volley.DeliveryFailed
		case kindRetrying:
			a.Status, a.StatusCode, a.ErrorReason, a.ResponseBody = volley.AttemptFailed, 503, "HTTP 503", []byte("busy")
			o.State, o.NextAttemptAt = volley.DeliveryPending, retryAt
		}
		outcomes = append(outcomes, o)
	}
	for len(outcomes) > 0 {
		n := len(outcomes)
		if cfg.FinishBatch > 0 {
			n = min(n, cfg.FinishBatch)
		}
		if err := st.DeliveryFinish(ctx, outcomes[:n]); err != nil {
			return err
		}
		outcomes = outcomes[n:]
	}
	return nil
}

// datasetBody is the JSON body of event i, about size bytes: a Stripe-like
// invoice.paid event, with random ids and amounts where real webhooks have
// them and repeated keys where they repeat, so that it compresses like real
// JSON webhooks do (zstd: about half), not like padding or random bytes.
// It names one customer, datasetCustomer(i), and its top-level "id" is a
// provider id ("evt_" and 24 random characters), as Stripe's is.
func datasetBody(i, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	id := func(n int) string {
		const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		b := make([]byte, n)
		for j := range b {
			b[j] = alnum[r.IntN(len(alnum))]
		}
		return string(b)
	}
	products := []string{"Starter plan", "Pro plan", "Extra seats", "Storage add-on", "Support hours", "API calls"}
	amount := 500 + r.IntN(200_000)
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":"evt_%s","object":"event","api_version":"2024-06-20","created":%d,"type":"invoice.paid",`+
		`"livemode":false,"pending_webhooks":1,"request":{"id":"req_%s","idempotency_key":null},"data":{"object":{`+
		`"id":"in_%08d","object":"invoice","customer":"%s","customer_email":"user%d@example.com","currency":"usd",`+
		`"amount_due":%d,"amount_paid":%d,"amount_remaining":0,"status":"paid","billing_reason":"subscription_cycle",`+
		`"hosted_invoice_url":"https://invoice.example.com/i/acct_%s/%s","lines":{"object":"list","data":[`,
		id(24), 1_700_000_000+i, id(14), i, datasetCustomer(i), i%50_000, amount, amount, id(16), id(32))
	for n := 0; b.Len() < size-120 || n == 0; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"il_%s","object":"line_item","amount":%d,"currency":"usd","description":"%d × %s",`+
			`"quantity":%d,"price":{"id":"price_%s","unit_amount":%d}}`,
			id(24), r.IntN(50_000), 1+r.IntN(9), products[r.IntN(len(products))], 1+r.IntN(9), id(24), r.IntN(10_000))
	}
	fmt.Fprintf(&b, `],"has_more":false},"period_start":%d,"period_end":%d}}}`, 1_700_000_000+i-2_592_000, 1_700_000_000+i)
	return []byte(b.String())
}
