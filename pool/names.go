package pool

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of what the pool keeps on the server. Jobs and results are
// streams, job records a key-value bucket, large payloads an object store.
const (
	JobsStream    = "ARUNNER_JOBS"
	ResultsStream = "ARUNNER_RESULTS"
	RecordsBucket = "arunner_jobs"
	PayloadBucket = "arunner_payloads"

	jobsPrefix    = "arunner.jobs."
	resultsPrefix = "arunner.results."
)

// Headers of the results stream's control messages; a message without
// them is a piece of the worker's stream.
const (
	hdrEnd         = "Arunner-End"    // eof, lost, requeued or canceled: the attempt's stream ends here
	hdrPayloadObj  = "Arunner-Object" // the job's payload is in the object store
	endEOF         = "eof"
	endLost        = "lost"
	endCanceled    = "canceled"
	endRequeued    = "requeued" // lost before ansible started: the next attempt is the run
	endUnqueued    = "unqueued" // the job's message never reached its queue
	queueCheck     = 10 * time.Minute
	resultsMaxAge  = 7 * 24 * time.Hour
	inlinePayload  = 256 << 10
	minServerMajor = 2
	minServerMinor = 9
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// checkQueue says whether name can be a queue: it is a subject token.
func checkQueue(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("pool: queue name %q: want 1-64 letters, digits, '_' or '-'", name)
	}
	return nil
}

func jobSubject(queue, id string) string { return jobsPrefix + queue + "." + id }

func resultsSubject(id string, attempt int) string {
	return resultsPrefix + id + "." + strconv.Itoa(attempt)
}

func consumerName(queue string) string { return "queue-" + queue }

// checkServer refuses a server without JetStream or older than 2.9 (the
// oldest the pool was tested with: Debian 12's nats-server 2.9.10). The
// pool uses nothing newer: work-queue streams, durable pull consumers with
// one filter subject, key-value compare-and-set, object store, ordered
// consumers and Nats-Msg-Id dedupe.
func checkServer(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) error {
	v := nc.ConnectedServerVersion()
	var major, minor int
	if _, err := fmt.Sscanf(strings.TrimPrefix(v, "v"), "%d.%d", &major, &minor); err != nil {
		return fmt.Errorf("pool: cannot read the NATS server's version %q", v)
	}
	if major < minServerMajor || major == minServerMajor && minor < minServerMinor {
		return fmt.Errorf("pool: NATS server %s is too old: the pool needs 2.9 or later with JetStream", v)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return fmt.Errorf("pool: JetStream is not enabled on NATS server %s (start it with -js, or jetstream {} in its config)", v)
		}
		return fmt.Errorf("pool: JetStream account info: %w", err)
	}
	return nil
}

// store is what both sides use on the server.
type store struct {
	// streams are handles of the pool's four streams, for purges.
	streams map[string]jetstream.Stream
	nc      *nats.Conn
	js      jetstream.JetStream
	records jetstream.KeyValue
	objects jetstream.ObjectStore
}

// open checks the server and creates what is missing, with replicas
// copies of each (what exists is used as it is).
func open(ctx context.Context, nc *nats.Conn, replicas int) (*store, error) {
	if nc == nil {
		return nil, errors.New("pool: a NATS connection is required")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("pool: %w", err)
	}
	if err := checkServer(ctx, nc, js); err != nil {
		return nil, err
	}
	if replicas <= 0 {
		replicas = 1
	}
	s := &store{nc: nc, js: js, streams: map[string]jetstream.Stream{}}
	for _, cfg := range []jetstream.StreamConfig{{
		Name: JobsStream, Subjects: []string{jobsPrefix + ">"}, Retention: jetstream.WorkQueuePolicy,
		// A full queue refuses a submit rather than dropping a queued job.
		Discard: jetstream.DiscardNew, MaxBytes: 1 << 30, Duplicates: 10 * time.Minute,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}, {
		Name: ResultsStream, Subjects: []string{resultsPrefix + ">"}, Retention: jetstream.LimitsPolicy,
		Discard: jetstream.DiscardNew, MaxAge: resultsMaxAge, Duplicates: 10 * time.Minute,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}} {
		if err := retry(ctx, func(ctx context.Context) error {
			if _, err := js.Stream(ctx, cfg.Name); err == nil || !errors.Is(err, jetstream.ErrStreamNotFound) {
				return err
			}
			_, err := js.CreateStream(ctx, cfg)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				return nil
			}
			return err
		}); err != nil {
			return nil, fmt.Errorf("pool: stream %s: %w", cfg.Name, err)
		}
	}
	if err := retry(ctx, func(ctx context.Context) error {
		kv, err := js.KeyValue(ctx, RecordsBucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: RecordsBucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas})
			if alreadyMade(err) {
				// Another client made it first (and may have changed
				// its config since, below).
				kv, err = js.KeyValue(ctx, RecordsBucket)
			}
		}
		s.records = kv
		return err
	}); err != nil {
		return nil, fmt.Errorf("pool: bucket %s: %w", RecordsBucket, err)
	}
	// Records are read from the stream's leader, not from any replica
	// (direct get): a replica that lags behind would show a job just
	// submitted as unknown, or a claimed one as queued.
	if err := retry(ctx, func(ctx context.Context) error {
		st, err := js.Stream(ctx, "KV_"+RecordsBucket)
		if err != nil {
			return err
		}
		if cfg := st.CachedInfo().Config; cfg.AllowDirect {
			cfg.AllowDirect = false
			if _, err := js.UpdateStream(ctx, cfg); err != nil {
				return err
			}
		}
		s.records, err = js.KeyValue(ctx, RecordsBucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("pool: bucket %s: %w", RecordsBucket, err)
	}
	if err := retry(ctx, func(ctx context.Context) error {
		obs, err := js.ObjectStore(ctx, PayloadBucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: PayloadBucket, Storage: jetstream.FileStorage, Replicas: replicas})
			if alreadyMade(err) {
				obs, err = js.ObjectStore(ctx, PayloadBucket)
			}
		}
		s.objects = obs
		return err
	}); err != nil {
		return nil, fmt.Errorf("pool: object store %s: %w", PayloadBucket, err)
	}
	for _, name := range []string{JobsStream, ResultsStream, "KV_" + RecordsBucket, "OBJ_" + PayloadBucket} {
		if err := retry(ctx, func(ctx context.Context) (err error) {
			s.streams[name], err = js.Stream(ctx, name)
			return err
		}); err != nil {
			return nil, fmt.Errorf("pool: stream %s: %w", name, err)
		}
	}
	return s, nil
}

// alreadyMade reports whether a bucket's creation failed because another
// client (a worker or controller starting at the same time on a new server)
// made it first.
func alreadyMade(err error) bool {
	return errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse)
}

// retry calls f with a short deadline (2 s) until it succeeds, ctx ends or it
// fails with an error that a leader election does not explain: during one
// a JetStream API call times out or finds no responders for a few seconds.
func retry(ctx context.Context, f func(context.Context) error) error {
	return retryEach(ctx, 2*time.Second, f)
}

// retryEach is retry with each call's deadline: a call to a server that
// just lost its leader waits the whole of it.
func retryEach(ctx context.Context, each time.Duration, f func(context.Context) error) error {
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		cctx, cancel := context.WithTimeout(ctx, each)
		err := f(cctx)
		cancel()
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func transient(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		// 10008: JetStream temporarily unavailable; 503s: no leader yet.
		return api.ErrorCode == 10008 || api.Code == 503
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected)
}

// deletePayload removes a job's payload object, its chunks and its
// metadata: no delete marker stays behind.
func (s *store) deletePayload(ctx context.Context, id string) error {
	err := s.objects.Delete(ctx, id)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return err
	}
	return s.purge(ctx, "OBJ_"+PayloadBucket, "$O."+PayloadBucket+".M."+base64.URLEncoding.EncodeToString([]byte(id)))
}

// purge removes every message of subject from stream.
func (s *store) purge(ctx context.Context, stream, subject string) error {
	return retry(ctx, func(ctx context.Context) error {
		return s.streams[stream].Purge(ctx, jetstream.WithPurgeSubject(subject))
	})
}
