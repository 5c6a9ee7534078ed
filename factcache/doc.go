// Package factcache persists ansible facts across runs the way AWX does, without
// trusting file modification times. Before a run, Restore writes each host's facts
// from a Store into the directory ansible's jsonfile cache plugin reads
// (artifacts/<ident>/fact_cache), remembering a content hash per host; Env gives the
// ANSIBLE_CACHE_PLUGIN* variables that point ansible at it. After the run,
// Snapshot.Collect compares the directory with those hashes and saves updated or
// added facts, clears facts that ansible removed (meta: clear_facts) and leaves
// every other host alone. Get and Set read and write one host's cache file, like
// ansible-runner's Runner.get_fact_cache and set_fact_cache.
//
//	store, _ := factcache.NewDirStore("/var/lib/myapp/facts")
//	dir := filepath.Join(pdd, "artifacts", ident, "fact_cache")
//	snap, err := factcache.Restore(ctx, store, dir, factcache.Options{MaxAge: 24 * time.Hour})
//	env := factcache.Env(dir, factcache.Options{}) // add to ansible's environment, then run it
//	report, err := snap.Collect(ctx, store)
package factcache
