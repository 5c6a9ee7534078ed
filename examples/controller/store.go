package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/arunner/arunner/factcache"
	"github.com/arunner/arunner/inventory"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", pure Go
)

// Store is the storage seam: everything the controller keeps. sqlStore
// implements it on SQLite (the embedded default) and on PostgreSQL.
type Store interface {
	// Objects: credentials, inventories, projects and job templates, each
	// kept as its JSON document. kind is one of objectKinds.
	CreateObject(ctx context.Context, kind string, doc any) (int64, error)
	GetObject(ctx context.Context, kind string, id int64, doc any) error
	UpdateObject(ctx context.Context, kind string, id int64, doc any) error
	ListObjects(ctx context.Context, kind string) (map[int64]json.RawMessage, error)

	// ReplaceInventory stores what an inventory update found.
	ReplaceInventory(ctx context.Context, inv int64, model *inventory.Inventory) error
	LoadInventory(ctx context.Context, inv int64) (*inventory.Inventory, error)

	CreateJob(ctx context.Context, j *Job) error
	UpdateJob(ctx context.Context, j *Job) error
	GetJob(ctx context.Context, id int64) (*Job, error)
	// ListJobs returns the newest jobs first; with status set, the oldest
	// jobs of that status first (the dispatcher's queue).
	ListJobs(ctx context.Context, status string, limit int) ([]*Job, error)
	// ClaimJob moves a pending job to running; false when it is no longer
	// pending (canceled meanwhile).
	ClaimJob(ctx context.Context, j *Job) (bool, error)
	// RequestCancel sets the job's cancel flag, and cancels it at once if
	// it is still pending; it reports the job's status.
	RequestCancel(ctx context.Context, id int64) (string, error)
	// ReapRunning fails every job left running, with explanation.
	ReapRunning(ctx context.Context, explanation string) (int64, error)

	// InsertEvents stores events, skipping any (job, counter) already there.
	InsertEvents(ctx context.Context, evs []StoredEvent) error
	// Events returns a job's events with counter > after, in counter order.
	Events(ctx context.Context, job int64, after, limit int) ([]StoredEvent, error)
	// SetEventsDone records that the job's EOF arrived: all its events are in.
	SetEventsDone(ctx context.Context, job int64, finalCounter int) error

	// Facts returns the fact cache store of one inventory.
	Facts(inv int64) factcache.Store
	Close() error
}

// objectKinds are the tables CreateObject and friends accept.
var objectKinds = map[string]bool{"credentials": true, "inventories": true, "projects": true, "job_templates": true}

// Job is one run of a template, a project update or an inventory update.
type Job struct {
	ID          int64             `json:"id"`
	Kind        string            `json:"kind"`      // "job", "project_update", "inventory_update"
	ObjectID    int64             `json:"object_id"` // the template, project or inventory it runs
	Status      string            `json:"status"`    // pending, running, then runner's final status
	RC          int               `json:"rc"`
	Impact      int               `json:"impact"` // weight against the dispatcher's capacity
	Created     time.Time         `json:"created"`
	Started     *time.Time        `json:"started,omitempty"`
	Finished    *time.Time        `json:"finished,omitempty"`
	Elapsed     float64           `json:"elapsed"`
	JobArgs     []string          `json:"job_args"`
	JobCwd      string            `json:"job_cwd"`
	JobEnv      map[string]string `json:"job_env"`
	Explanation string            `json:"job_explanation"`
	Cancel      bool              `json:"cancel_flag"`
	// HostSummary is the recap per host: ok, changed, failures, ...
	HostSummary  map[string]map[string]int `json:"host_summary,omitempty"`
	EventsDone   bool                      `json:"events_done"`
	FinalCounter int                       `json:"final_counter"`
}

// StoredEvent is one job event as the database keeps it.
type StoredEvent struct {
	Job     int64           `json:"job"`
	Counter int             `json:"counter"`
	Event   string          `json:"event"`
	Host    string          `json:"host,omitempty"`
	Data    json.RawMessage `json:"data"` // the whole event, as ansible-runner writes it
}

type sqlStore struct {
	db *sql.DB
	pg bool
}

// OpenStore opens PostgreSQL when url is set (postgres://...), else SQLite
// in dataDir/controller.db, and creates the tables.
func OpenStore(ctx context.Context, url, dataDir string) (Store, error) {
	s := &sqlStore{pg: url != ""}
	var err error
	if s.pg {
		s.db, err = sql.Open("pgx", url)
	} else {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, err
		}
		// One writer at a time; WAL lets readers go on beside it.
		s.db, err = sql.Open("sqlite", "file:"+filepath.Join(dataDir, "controller.db")+
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
		s.db.SetMaxOpenConns(1)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("create tables: %w", err)
	}
	return s, nil
}

func (s *sqlStore) migrate(ctx context.Context) error {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if s.pg {
		id = "BIGSERIAL PRIMARY KEY"
	}
	var stmts []string
	for kind := range objectKinds {
		stmts = append(stmts, `CREATE TABLE IF NOT EXISTS `+kind+` (id `+id+`, doc TEXT NOT NULL)`)
	}
	stmts = append(stmts,
		`CREATE TABLE IF NOT EXISTS hosts (inventory_id BIGINT NOT NULL, name TEXT NOT NULL, vars TEXT NOT NULL,
			PRIMARY KEY (inventory_id, name))`,
		`CREATE TABLE IF NOT EXISTS inventory_groups (inventory_id BIGINT NOT NULL, name TEXT NOT NULL,
			vars TEXT NOT NULL, hosts TEXT NOT NULL, children TEXT NOT NULL, PRIMARY KEY (inventory_id, name))`,
		// Each writer has its own columns, so that none overwrites
		// another's: the dispatcher the status and the document, the API
		// the cancel flag, the receiver the EOF.
		`CREATE TABLE IF NOT EXISTS jobs (id `+id+`, kind TEXT NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL,
			cancel INTEGER NOT NULL DEFAULT 0, events_done INTEGER NOT NULL DEFAULT 0, final_counter INTEGER NOT NULL DEFAULT 0)`,
		`CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, id)`,
		`CREATE TABLE IF NOT EXISTS job_events (job_id BIGINT NOT NULL, counter INTEGER NOT NULL,
			event TEXT NOT NULL, host TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (job_id, counter))`,
		`CREATE TABLE IF NOT EXISTS host_facts (inventory_id BIGINT NOT NULL, host TEXT NOT NULL,
			facts TEXT NOT NULL, modified TEXT NOT NULL, PRIMARY KEY (inventory_id, host))`,
	)
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// q turns SQLite's ? placeholders into PostgreSQL's $n.
func (s *sqlStore) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *sqlStore) Close() error { return s.db.Close() }

// ErrNotFound is returned for an object or job that does not exist.
var ErrNotFound = errors.New("not found")

func checkKind(kind string) error {
	if !objectKinds[kind] {
		return fmt.Errorf("unknown object kind %q", kind)
	}
	return nil
}

func (s *sqlStore) CreateObject(ctx context.Context, kind string, doc any) (int64, error) {
	if err := checkKind(kind); err != nil {
		return 0, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO `+kind+` (doc) VALUES (?) RETURNING id`), string(b)).Scan(&id)
	return id, err
}

func (s *sqlStore) GetObject(ctx context.Context, kind string, id int64, doc any) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	var b string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT doc FROM `+kind+` WHERE id = ?`), id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %d: %w", kind, id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(b), doc)
}

func (s *sqlStore) UpdateObject(ctx context.Context, kind string, id int64, doc any) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`UPDATE `+kind+` SET doc = ? WHERE id = ?`), string(b), id)
	return err
}

func (s *sqlStore) ListObjects(ctx context.Context, kind string) (map[int64]json.RawMessage, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, doc FROM `+kind+` ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]json.RawMessage{}
	for rows.Next() {
		var id int64
		var b string
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		out[id] = json.RawMessage(b)
	}
	return out, rows.Err()
}

func (s *sqlStore) ReplaceInventory(ctx context.Context, inv int64, m *inventory.Inventory) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM hosts WHERE inventory_id = ?`, `DELETE FROM inventory_groups WHERE inventory_id = ?`} {
		if _, err := tx.ExecContext(ctx, s.q(q), inv); err != nil {
			return err
		}
	}
	for _, h := range m.Hosts {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO hosts (inventory_id, name, vars) VALUES (?, ?, ?)`),
			inv, h.Name, asJSON{h.Vars}); err != nil {
			return err
		}
	}
	groups := map[string]*inventory.Group{"all": {Name: "all", Vars: m.Vars}}
	for name, g := range m.Groups {
		groups[name] = g
	}
	for _, g := range groups {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO inventory_groups (inventory_id, name, vars, hosts, children)
			VALUES (?, ?, ?, ?, ?)`), inv, g.Name, asJSON{g.Vars}, asJSON{g.Hosts}, asJSON{g.Children}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqlStore) LoadInventory(ctx context.Context, inv int64) (*inventory.Inventory, error) {
	m := inventory.New()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT name, vars, hosts, children FROM inventory_groups WHERE inventory_id = ? ORDER BY name`), inv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, vars, hosts, children string
		if err := rows.Scan(&name, &vars, &hosts, &children); err != nil {
			return nil, err
		}
		g := &inventory.Group{Name: name}
		if err := unmarshalAll([]string{vars, hosts, children}, &g.Vars, &g.Hosts, &g.Children); err != nil {
			return nil, fmt.Errorf("inventory %d group %s: %w", inv, name, err)
		}
		if name == "all" {
			m.Vars = g.Vars
			continue
		}
		m.Groups[name] = g
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT name, vars FROM hosts WHERE inventory_id = ? ORDER BY name`), inv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, vars string
		if err := rows.Scan(&name, &vars); err != nil {
			return nil, err
		}
		h := &inventory.Host{Name: name}
		if err := json.Unmarshal([]byte(vars), &h.Vars); err != nil {
			return nil, fmt.Errorf("inventory %d host %s: %w", inv, name, err)
		}
		m.Hosts[name] = h
	}
	for _, g := range m.Groups {
		for _, h := range g.Hosts {
			if host := m.Hosts[h]; host != nil {
				host.Groups = append(host.Groups, g.Name)
			}
		}
	}
	return m, rows.Err()
}

func (s *sqlStore) CreateJob(ctx context.Context, j *Job) error {
	return s.db.QueryRowContext(ctx, s.q(`INSERT INTO jobs (kind, status, doc) VALUES (?, ?, ?) RETURNING id`),
		j.Kind, j.Status, asJSON{j}).Scan(&j.ID)
}

func (s *sqlStore) UpdateJob(ctx context.Context, j *Job) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET status = ?, doc = ? WHERE id = ?`), j.Status, asJSON{j}, j.ID)
	return err
}

func (s *sqlStore) ClaimJob(ctx context.Context, j *Job) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET status = ?, doc = ? WHERE id = ? AND status = 'pending'`),
		j.Status, asJSON{j}, j.ID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// jobColumns are read by GetJob and ListJobs: the columns win over the
// document's copies of them.
const jobColumns = `id, status, doc, cancel, events_done, final_counter`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var id int64
	var status, doc string
	var cancel, done bool
	var final int
	if err := row.Scan(&id, &status, &doc, &cancel, &done, &final); err != nil {
		return nil, err
	}
	j := &Job{}
	if err := json.Unmarshal([]byte(doc), j); err != nil {
		return nil, fmt.Errorf("job %d: %w", id, err)
	}
	j.ID, j.Status, j.Cancel, j.EventsDone, j.FinalCounter = id, status, cancel, done, final
	return j, nil
}

func (s *sqlStore) GetJob(ctx context.Context, id int64) (*Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, s.q(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	return j, err
}

func (s *sqlStore) ListJobs(ctx context.Context, status string, limit int) ([]*Job, error) {
	query, args := `SELECT `+jobColumns+` FROM jobs ORDER BY id DESC LIMIT ?`, []any{limit}
	if status != "" {
		query, args = `SELECT `+jobColumns+` FROM jobs WHERE status = ? ORDER BY id LIMIT ?`, []any{status, limit}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

func (s *sqlStore) RequestCancel(ctx context.Context, id int64) (string, error) {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET cancel = 1 WHERE id = ?`), id); err != nil {
		return "", err
	}
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET status = 'canceled' WHERE id = ? AND status = 'pending'`), id); err != nil {
		return "", err
	}
	j, err := s.GetJob(ctx, id)
	if err != nil {
		return "", err
	}
	return j.Status, nil
}

func (s *sqlStore) ReapRunning(ctx context.Context, explanation string) (int64, error) {
	jobs, err := s.ListJobs(ctx, "running", 1<<30)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		j.Status, j.Explanation = "failed", explanation
		if err := s.UpdateJob(ctx, j); err != nil {
			return 0, err
		}
	}
	return int64(len(jobs)), nil
}

// insertBatch bounds the rows of one INSERT.
const insertBatch = 200

func (s *sqlStore) InsertEvents(ctx context.Context, evs []StoredEvent) error {
	for len(evs) > 0 {
		n := min(len(evs), insertBatch)
		var b strings.Builder
		b.WriteString(`INSERT INTO job_events (job_id, counter, event, host, data) VALUES `)
		args := make([]any, 0, 5*n)
		for i, e := range evs[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, e.Job, e.Counter, e.Event, e.Host, string(e.Data))
		}
		b.WriteString(` ON CONFLICT (job_id, counter) DO NOTHING`)
		if _, err := s.db.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

func (s *sqlStore) Events(ctx context.Context, job int64, after, limit int) ([]StoredEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT counter, event, host, data FROM job_events
		WHERE job_id = ? AND counter > ? ORDER BY counter LIMIT ?`), job, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		e := StoredEvent{Job: job}
		var data string
		if err := rows.Scan(&e.Counter, &e.Event, &e.Host, &data); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *sqlStore) SetEventsDone(ctx context.Context, job int64, finalCounter int) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET events_done = 1, final_counter = ? WHERE id = ?`), finalCounter, job)
	return err
}

func (s *sqlStore) Facts(inv int64) factcache.Store { return &factStore{s: s, inv: inv} }

// factStore is factcache's Store on the host_facts table of one inventory.
type factStore struct {
	s   *sqlStore
	inv int64
}

func (f *factStore) Load(ctx context.Context, hosts []string) (map[string]factcache.Record, error) {
	rows, err := f.s.db.QueryContext(ctx, f.s.q(`SELECT host, facts, modified FROM host_facts WHERE inventory_id = ?`), f.inv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, h := range hosts {
		want[h] = true
	}
	out := map[string]factcache.Record{}
	for rows.Next() {
		var host, facts, modified string
		if err := rows.Scan(&host, &facts, &modified); err != nil {
			return nil, err
		}
		if hosts != nil && !want[host] {
			continue
		}
		var r factcache.Record
		if err := json.Unmarshal([]byte(facts), &r.Facts); err != nil {
			return nil, fmt.Errorf("facts of host %s: %w", host, err)
		}
		r.Modified, _ = time.Parse(time.RFC3339Nano, modified)
		out[host] = r
	}
	return out, rows.Err()
}

func (f *factStore) Save(ctx context.Context, facts map[string]factcache.Facts) error {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for host, fs := range facts {
		if _, err := f.s.db.ExecContext(ctx, f.s.q(`INSERT INTO host_facts (inventory_id, host, facts, modified)
			VALUES (?, ?, ?, ?) ON CONFLICT (inventory_id, host) DO UPDATE SET facts = excluded.facts, modified = excluded.modified`),
			f.inv, host, asJSON{fs}, now); err != nil {
			return err
		}
	}
	return nil
}

func (f *factStore) Clear(ctx context.Context, hosts []string) error {
	for _, h := range hosts {
		if _, err := f.s.db.ExecContext(ctx, f.s.q(`DELETE FROM host_facts WHERE inventory_id = ? AND host = ?`), f.inv, h); err != nil {
			return err
		}
	}
	return nil
}

// asJSON is a value stored as its JSON text; an error marshaling it is the
// statement's error.
type asJSON struct{ v any }

func (j asJSON) Value() (driver.Value, error) {
	b, err := json.Marshal(j.v)
	return string(b), err
}

func unmarshalAll(docs []string, vs ...any) error {
	for i, d := range docs {
		if err := json.Unmarshal([]byte(d), vs[i]); err != nil {
			return err
		}
	}
	return nil
}
