package inventory

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// diamond builds site -> {front, back}, both -> shared, with hosts at each level.
func diamond() *Inventory {
	inv := New()
	inv.AddGroup("front", "site")
	inv.AddGroup("back", "site")
	inv.AddGroup("shared", "front")
	inv.AddGroup("shared", "back")
	inv.AddGroup("lonely", "")
	inv.AddHost("w1", "front")
	inv.AddHost("s1", "shared", "back")
	inv.AddHost("b1", "back")
	inv.AddHost("free")
	inv.AddHost("free2", All, Ungrouped)
	return inv
}

func TestBuilder(t *testing.T) {
	inv := diamond()
	assert.Equal(t, []string{"front", "back"}, inv.Groups["site"].Children)
	assert.Equal(t, []string{"shared"}, inv.Groups["front"].Children)
	assert.Equal(t, []string{"back", "shared"}, inv.Hosts["s1"].Groups, "Host.Groups is sorted")
	assert.Equal(t, []string{"s1", "b1"}, inv.Groups["back"].Hosts, "Group.Hosts keeps insertion order")
	assert.Nil(t, inv.Hosts["free2"].Groups, "all and ungrouped add no membership")
	assert.NotContains(t, inv.Groups, All)
	assert.NotContains(t, inv.Groups, Ungrouped)

	again := inv.AddHost("s1", "back")
	assert.Same(t, inv.Hosts["s1"], again, "AddHost returns the existing host")
	assert.Equal(t, []string{"s1", "b1"}, inv.Groups["back"].Hosts, "no duplicate membership")
	inv.AddGroup("shared", "back")
	assert.Equal(t, []string{"shared"}, inv.Groups["back"].Children, "no duplicate child")

	var zero Inventory
	zero.AddHost("h", "g").Vars["k"] = "v" // the zero value is usable and Vars is never nil
	assert.Equal(t, "v", zero.Hosts["h"].Vars["k"])
}

func TestAllGroups(t *testing.T) {
	inv := diamond()
	tests := []struct {
		host string
		want []string
	}{
		{"w1", []string{"front", "site"}},
		{"s1", []string{"back", "front", "shared", "site"}},
		{"b1", []string{"back", "site"}},
		{"free", []string{}},
		{"nope", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, inv.AllGroups(tt.host), tt.host)
	}
}

func TestGroupHosts(t *testing.T) {
	inv := diamond()
	tests := []struct {
		group string
		want  []string
	}{
		{"site", []string{"b1", "s1", "w1"}},
		{"front", []string{"s1", "w1"}},
		{"shared", []string{"s1"}},
		{"lonely", []string{}},
		{All, []string{"b1", "free", "free2", "s1", "w1"}},
		{Ungrouped, []string{"free", "free2"}},
		{"nope", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, inv.GroupHosts(tt.group), tt.group)
	}

	inv.AddGroup("site", "shared") // a hand-built cycle must not hang the walk
	assert.Equal(t, []string{"b1", "s1", "w1"}, inv.GroupHosts("shared"))
}

func TestWriteRefusesBadModels(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(inv *Inventory)
		kind   error
		msg    string
	}{
		{"cycle", func(inv *Inventory) { inv.AddGroup("site", "shared") }, ErrCycle,
			`inventory: group "shared": children form a cycle: shared -> site -> front -> shared`},
		{"reserved all", func(inv *Inventory) { inv.AddGroup(All, "") }, ErrShape,
			`inventory: group "all": reserved group name: use Inventory.Vars and hosts without groups`},
		{"reserved ungrouped", func(inv *Inventory) { inv.AddGroup(Ungrouped, "site") }, ErrShape,
			`inventory: group "ungrouped": reserved group name: use Inventory.Vars and hosts without groups`},
		{"unknown host", func(inv *Inventory) { inv.Groups["front"].Hosts = append(inv.Groups["front"].Hosts, "ghost") }, ErrReference,
			`inventory: group "front": hosts: host "ghost" is not in Inventory.Hosts`},
		{"unknown child", func(inv *Inventory) { inv.Groups["front"].Children = append(inv.Groups["front"].Children, "ghost") }, ErrReference,
			`inventory: group "front": children: group "ghost" is not in Inventory.Groups`},
		{"host name mismatch", func(inv *Inventory) { inv.Hosts["w1"].Name = "w2" }, ErrShape,
			`inventory: host "w1": Host.Name does not match its key`},
		{"nil group", func(inv *Inventory) { inv.Groups["x"] = nil }, ErrShape, `inventory: group "x": Group.Name does not match its key`},
		{"empty host name", func(inv *Inventory) { inv.AddHost("") }, ErrShape, `inventory: hosts: empty host name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := diamond()
			tt.mutate(inv)
			for _, write := range []func() ([]byte, error){inv.JSON, inv.YAML} {
				out, err := write()
				assert.Nil(t, out)
				assert.EqualError(t, err, tt.msg)
				assert.ErrorIs(t, err, tt.kind)
			}
		})
	}
}

func TestWriteGoValues(t *testing.T) {
	inv := New()
	h := inv.AddHost("h", "g")
	h.Vars["int"] = 7
	h.Vars["uint8"] = uint8(8)
	h.Vars["float"] = 1e21
	h.Vars["half"] = float32(0.5)
	h.Vars["inf"] = math.Inf(1)
	h.Vars["strs"] = []string{"a", "yes"}
	h.Vars["typed_map"] = map[string]int{"b": 2, "a": 1}
	h.Vars["ptr"] = (*int)(nil)
	y, err := inv.YAML()
	require.NoError(t, err)
	assert.Equal(t, `all:
  children:
    g:
      hosts:
        h:
          float: 1.0e+21
          half: 0.5
          inf: .inf
          int: 7
          ptr: null
          strs:
            - a
            - "yes"
          typed_map:
            a: 1
            b: 2
          uint8: 8
`, string(y))

	_, err = inv.JSON()
	require.ErrorIs(t, err, ErrShape, "JSON has no infinity")

	h.Vars = map[string]any{"bad": map[int]string{1: "x"}}
	_, err = inv.YAML()
	assert.EqualError(t, err, `inventory: host "h": vars: map keys must be strings, got int`)
	h.Vars = map[string]any{"bad": make(chan int)}
	_, err = inv.YAML()
	assert.EqualError(t, err, `inventory: host "h": vars: cannot write a chan int as YAML`)
}

func TestNumberNode(t *testing.T) {
	tests := []struct{ in, tag, out string }{
		{"0", "!!int", "0"},
		{"-12", "!!int", "-12"},
		{"123456789012345678901234567890", "!!int", "123456789012345678901234567890"},
		{"0.25", "!!float", "0.25"},
		{"1e+100", "!!float", "1.0e+100"},
		{"1E5", "!!float", "1.0e+5"},
		{"2.5e-3", "!!float", "2.5e-3"},
	}
	for _, tt := range tests {
		n, err := numberNode("v", tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.tag, n.Tag, tt.in)
		assert.Equal(t, tt.out, n.Value, tt.in)
	}
	_, err := numberNode("v", "0x1F")
	assert.ErrorIs(t, err, ErrShape)
}
