// Package inventory is a typed model of an Ansible inventory: it parses the JSON
// that `ansible-inventory --list [--export]` prints, treating the implicit `all`
// and `ungrouped` groups and `host:port` names the way AWX's inventory importer
// does, answers group and host membership questions, and writes the inventory
// back as the JSON an inventory script prints or as a YAML inventory file that
// ansible's yaml plugin reads.
//
//	out, _ := exec.Command("ansible-inventory", "-i", "hosts.ini", "--list", "--export").Output()
//	inv, err := inventory.Parse(out)
//	if err != nil {
//		return err
//	}
//	fmt.Println(inv.GroupHosts("web"), inv.AllGroups("web1"))
package inventory
