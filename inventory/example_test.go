package inventory_test

import (
	"errors"
	"fmt"

	"github.com/arunner/arunner/inventory"
)

// The output of `ansible-inventory -i hosts.ini --list --export` for
//
//	[web]
//	web1:2222
//	web2
//	[db]
//	web2
//	[site:children]
//	web
//	db
//	[all:vars]
//	env=prod
const listed = `{
    "_meta": {"hostvars": {"web1": {"ansible_port": 2222}}},
    "all": {"children": ["ungrouped", "site"], "vars": {"env": "prod"}},
    "db": {"hosts": ["web2"]},
    "site": {"children": ["web", "db"]},
    "web": {"hosts": ["web1", "web2"]}
}`

func ExampleParse() {
	inv, err := inventory.Parse([]byte(listed))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("vars on all:", inv.Vars["env"])
	fmt.Println("web1 port:", inv.Hosts["web1"].Vars["ansible_port"])
	fmt.Println("web2 direct groups:", inv.Hosts["web2"].Groups)
	fmt.Println("web2 all groups:", inv.AllGroups("web2"))
	fmt.Println("site hosts:", inv.GroupHosts("site"))
	// Output:
	// vars on all: prod
	// web1 port: 2222
	// web2 direct groups: [db web]
	// web2 all groups: [db site web]
	// site hosts: [web1 web2]
}

func ExampleParse_error() {
	_, err := inventory.Parse([]byte(`{"web": {"children": "db"}}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, inventory.ErrShape))

	_, err = inventory.Parse([]byte("{\n  \"web\": [\"a\",]\n}"))
	var e *inventory.Error
	if errors.As(err, &e) {
		fmt.Println("line", e.Line)
	}
	// Output:
	// inventory: group "web": children: expected a list, got string
	// true
	// line 2
}

func ExampleInventory_JSON() {
	inv := inventory.New()
	inv.Vars["env"] = "prod"
	inv.AddGroup("web", "site")
	inv.AddHost("web1", "web").Vars["ansible_port"] = 2222
	inv.AddHost("spare")
	out, err := inv.JSON()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// {
	//     "_meta": {
	//         "hostvars": {
	//             "web1": {
	//                 "ansible_port": 2222
	//             }
	//         }
	//     },
	//     "all": {
	//         "children": [
	//             "ungrouped",
	//             "site"
	//         ],
	//         "vars": {
	//             "env": "prod"
	//         }
	//     },
	//     "site": {
	//         "children": [
	//             "web"
	//         ]
	//     },
	//     "ungrouped": {
	//         "hosts": [
	//             "spare"
	//         ]
	//     },
	//     "web": {
	//         "hosts": [
	//             "web1"
	//         ]
	//     }
	// }
}

func ExampleInventory_YAML() {
	inv, err := inventory.Parse([]byte(listed))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := inv.YAML()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// all:
	//   vars:
	//     env: prod
	//   children:
	//     site:
	//       children:
	//         web:
	//           hosts:
	//             web1:
	//               ansible_port: 2222
	//             web2: null
	//         db:
	//           hosts:
	//             web2: null
}

func ExampleNew() {
	inv := inventory.New()
	inv.AddGroup("db", "backend")
	inv.AddHost("db1", "db").Vars["ansible_host"] = "127.0.0.1"
	inv.AddHost("db2", "db", "replicas")
	fmt.Println(inv.GroupHosts("backend"))
	fmt.Println(inv.AllGroups("db2"))
	fmt.Println(inv.Hosts["db2"].Groups)
	// Output:
	// [db1 db2]
	// [backend db replicas]
	// [db replicas]
}

func ExampleInventory_AddHost() {
	inv := inventory.New()
	h := inv.AddHost("web1", "web", "eu")
	h.Vars["ansible_user"] = "deploy"
	fmt.Println(h.Name, h.Groups, inv.Groups["eu"].Hosts)
	// Output: web1 [eu web] [web1]
}

func ExampleInventory_AddGroup() {
	inv := inventory.New()
	g := inv.AddGroup("web", "site")
	g.Vars["http_port"] = 8080
	fmt.Println(inv.Groups["site"].Children, inv.Groups["web"].Vars)
	// Output: [web] map[http_port:8080]
}

func ExampleInventory_AllGroups() {
	inv, _ := inventory.Parse([]byte(listed))
	fmt.Println(inv.AllGroups("web1"))
	// Output: [site web]
}

func ExampleInventory_GroupHosts() {
	inv, _ := inventory.Parse([]byte(listed))
	fmt.Println(inv.GroupHosts("db"), inv.GroupHosts("all"))
	// Output: [web2] [web1 web2]
}
