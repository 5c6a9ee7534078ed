package runner

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/arunner/arunner/factcache"
)

// FactCache persists facts across runs the way AWX's fact caching does:
// before the run each host's facts from Store are written into
// artifacts/<ident>/fact_cache for ansible's jsonfile cache plugin; after
// it, what changed (by content, never by file time) is saved back and hosts
// cleared with meta: clear_facts are cleared in Store.
type FactCache struct {
	Store   factcache.Store
	Options factcache.Options
}

// restoreFacts fills the fact cache dir from the Store and adds the cache
// settings to env.
func (r *run) restoreFacts(env map[string]string) error {
	fc := r.cfg.FactCache
	if fc == nil || fc.Store == nil {
		return nil
	}
	dir := r.art.FactCacheDir()
	snap, err := factcache.Restore(r.ctx, fc.Store, dir, fc.Options)
	if err != nil {
		return &ConfigError{Field: "FactCache", Err: err}
	}
	r.facts = snap
	ansibleDir, err := r.factCachePath()
	if err != nil {
		return &ConfigError{Field: "FactCache", Err: err}
	}
	for k, v := range factcache.Env(ansibleDir, fc.Options) {
		// The caller's own cache settings would defeat the Store.
		if _, ok := r.cfg.EnvVars[k]; ok {
			return &ManagedEnvError{Name: k, Source: "Config.EnvVars"}
		}
		if _, ok := r.dir.EnvVars[k]; ok {
			return &ManagedEnvError{Name: k, Source: filepath.Join(r.pdd, "env", "envvars")}
		}
		env[k] = v
	}
	return nil
}

// factCachePath is the fact cache dir as ansible is told it: the artifacts'
// fact cache dir, or a link to it in the scratch dir when ansible would
// expand something in its path. The link needs the dir to exist.
func (r *run) factCachePath() (string, error) {
	dir := r.art.FactCacheDir()
	if ansibleSafe(dir) {
		return dir, nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	link := filepath.Join(r.scratch, "fact_cache")
	if _, err := os.Lstat(link); err == nil {
		return link, nil
	}
	return r.ansiblePath(dir, "fact_cache")
}

// collectFacts saves what the run changed. It runs after ansible exited and
// before the final status, whatever the run's outcome: facts gathered before
// a failure are still facts.
func (r *run) collectFacts(res *Result) {
	if r.facts == nil {
		return
	}
	// The run's context may be canceled already; saving must still happen.
	rep, err := r.facts.Collect(context.WithoutCancel(r.ctx), r.cfg.FactCache.Store)
	res.Facts, res.FactsErr = rep, err
}

// GetFactCache returns the facts ansible cached for host during the run, as
// ansible-runner's Runner.get_fact_cache does.
func (r *Result) GetFactCache(host string) (factcache.Facts, error) {
	return factcache.Get(filepath.Join(r.ArtifactDir, "fact_cache"), host)
}

// SetFactCache writes facts for host into the run's fact cache, as
// ansible-runner's Runner.set_fact_cache does.
func (r *Result) SetFactCache(host string, facts factcache.Facts) error {
	return factcache.Set(filepath.Join(r.ArtifactDir, "fact_cache"), host, facts)
}
