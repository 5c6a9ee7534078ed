package factcache_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/arunner/arunner/factcache"
)

// A whole run: restore, let ansible work (simulated here with Set and
// os.Remove), collect.
func ExampleRestore() {
	ctx := context.Background()
	store := factcache.NewMemoryStore()
	_ = store.Save(ctx, map[string]factcache.Facts{
		"web1": {"role": "web"}, "web2": {"role": "web"}, "db1": {"role": "db"},
	})

	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "artifacts", "job1", "fact_cache")
	snap, err := factcache.Restore(ctx, store, dir, factcache.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}

	// ansible-playbook runs here with factcache.Env(dir, ...) in its environment.
	_ = factcache.Set(dir, "web1", factcache.Facts{"role": "web", "port": "8080"}) // set_fact cacheable
	_ = os.Remove(filepath.Join(dir, "web2"))                                      // meta: clear_facts
	_ = factcache.Set(dir, "cache1", factcache.Facts{"role": "cache"})             // a new host

	report, err := snap.Collect(ctx, store)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range []string{"cache1", "db1", "web1", "web2"} {
		fmt.Println(h, report.Hosts[h])
	}
	// Output:
	// cache1 added
	// db1 untouched
	// web1 updated
	// web2 cleared
}

func ExampleEnv() {
	env := factcache.Env("/pdd/artifacts/job1/fact_cache", factcache.Options{Timeout: 3600})
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("%s=%q\n", k, env[k])
	}
	// Output:
	// ANSIBLE_CACHE_PLUGIN="jsonfile"
	// ANSIBLE_CACHE_PLUGIN_CONNECTION="/pdd/artifacts/job1/fact_cache"
	// ANSIBLE_CACHE_PLUGIN_PREFIX=""
	// ANSIBLE_CACHE_PLUGIN_TIMEOUT="3600"
}

func ExampleSnapshot_Collect() {
	ctx := context.Background()
	store := factcache.NewMemoryStore()
	_ = store.Save(ctx, map[string]factcache.Facts{"h1": {"a": "1"}})
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	snap, _ := factcache.Restore(ctx, store, dir, factcache.Options{})

	// A run truncated the file (ansible killed mid-write): h1 keeps its stored facts.
	_ = os.WriteFile(filepath.Join(dir, "h1"), []byte(`{"a": `), 0o600)
	report, _ := snap.Collect(ctx, store)
	fmt.Println(report.Hosts["h1"])
	recs, _ := store.Load(ctx, []string{"h1"})
	fmt.Println(recs["h1"].Facts["a"])
	// Output:
	// corrupt
	// 1
}

func ExampleSet() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = factcache.Set(dir, "h1", factcache.Facts{"b": 2, "a": "x"})
	data, _ := os.ReadFile(filepath.Join(dir, "h1"))
	fmt.Println(string(data))
	// Output:
	// {
	//     "a": "x",
	//     "b": 2
	// }
}

func ExampleGet() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = factcache.Set(dir, "h1", factcache.Facts{"a": "x"})
	facts, _ := factcache.Get(dir, "h1")
	fmt.Println(facts["a"])
	none, _ := factcache.Get(dir, "h2")
	fmt.Println(len(none))
	_, err := factcache.Get(dir, "../h1")
	fmt.Println(err)
	// Output:
	// x
	// 0
	// factcache: host "../h1": contains "/" (path traversal)
}

func ExampleValidateHost() {
	for _, h := range []string{"web:22", "..", ".hidden"} {
		fmt.Println(factcache.ValidateHost(h))
	}
	// Output:
	// <nil>
	// factcache: host "..": is a directory reference (path traversal)
	// factcache: host ".hidden": starts with "." (ansible's jsonfile cache ignores hidden files)
}

func ExampleNewDirStore() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store, err := factcache.NewDirStore(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = store.Save(ctx, map[string]factcache.Facts{"h1": {"a": "x"}})
	_ = store.Clear(ctx, []string{"nobody"})
	recs, _ := store.Load(ctx, nil)
	fmt.Println(len(recs), recs["h1"].Facts["a"])
	// Output: 1 x
}

func ExampleNewMemoryStore() {
	ctx := context.Background()
	store := factcache.NewMemoryStore()
	_ = store.Save(ctx, map[string]factcache.Facts{"h1": {"a": "x"}, "h2": {}})
	_ = store.Clear(ctx, []string{"h2"})
	recs, _ := store.Load(ctx, nil)
	fmt.Println(len(recs), recs["h1"].Facts["a"])
	// Output: 1 x
}
