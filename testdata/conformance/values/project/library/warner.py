#!/usr/bin/python3
# A module that only warns and deprecates, for the conformance suite.
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={})
    module.warn("this is a module warning")
    module.deprecate("this option is going away", version="9.9.9")
    module.exit_json(changed=False)


if __name__ == "__main__":
    main()
