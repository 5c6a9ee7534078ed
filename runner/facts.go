package runner

import (
	"context"

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

// factsEnv sets the cache variables a FactCache needs, refusing the
// caller's own (they would defeat the Store).
func (r *run) factsEnv(env map[string]string) error {
	fc := r.cfg.FactCache
	if fc == nil || fc.Store == nil {
		return nil
	}
	for k, v := range factcache.Env(r.factCachePath(), fc.Options) {
		if _, ok := r.cfg.EnvVars[k]; ok {
			return &ManagedEnvError{Name: k, Source: "Config.EnvVars"}
		}
		if _, ok := r.dir.EnvVars[k]; ok {
			return &ManagedEnvError{Name: k, Source: r.paths().Env("envvars")}
		}
		env[k] = v
	}
	return nil
}

// restoreFacts restores the FactCache's facts into the artifacts' fact
// cache dir before the run.
func (r *run) restoreFacts() error {
	fc := r.cfg.FactCache
	if fc == nil || fc.Store == nil {
		return nil
	}
	snap, err := factcache.Restore(r.ctx, fc.Store, r.art.FactCacheDir(), fc.Options)
	if err != nil {
		return &ConfigError{Field: "FactCache", Err: err}
	}
	r.facts = snap
	return nil
}

// factCachePath is the path ansible is given for the artifacts' fact
// cache dir, or a link to it in the scratch dir when ansible would not
// take it as it is (the dir is then made first, for the link to point to).
func (r *run) factCachePath() string {
	dir := r.art.FactCacheDir()
	if ansibleSafe(dir) {
		return dir
	}
	for _, f := range r.planned {
		if f.link == dir {
			return f.Path
		}
	}
	r.planned = append(r.planned, planFile{PlanFile: PlanFile{Path: dir, What: "fact cache dir"}, dir: true})
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
	return factcache.Get(r.artifacts().FactCacheDir(), host)
}

// SetFactCache writes facts for host into the run's fact cache, as
// ansible-runner's Runner.set_fact_cache does.
func (r *Result) SetFactCache(host string, facts factcache.Facts) error {
	return factcache.Set(r.artifacts().FactCacheDir(), host, facts)
}
