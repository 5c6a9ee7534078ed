package credentials

import "sync"

// AWX defines RHV, Controller and Insights with template injectors rather
// than Go-like functions; they are built here with the same template engine
// so that they render exactly like a custom type would.

const rhvInputs = `
fields:
  - {id: host, label: Host (Authentication URL), type: string}
  - {id: username, label: Username, type: string}
  - {id: password, label: Password, type: string, secret: true}
  - {id: ca_file, label: CA File, type: string}
required: [host, username, password]
`

const rhvInjectors = `
file:
  template: "[ovirt]\novirt_url={{host}}\novirt_username={{username}}\novirt_password={{password}}\n{% if ca_file %}ovirt_ca_file={{ca_file}}{% endif %}"
env:
  OVIRT_INI_PATH: "{{tower.filename}}"
  OVIRT_URL: "{{host}}"
  OVIRT_USERNAME: "{{username}}"
  OVIRT_PASSWORD: "{{password}}"
`

const controllerInputs = `
fields:
  - {id: host, label: Controller Hostname, type: string}
  - {id: username, label: Username, type: string}
  - {id: password, label: Password, type: string, secret: true}
  - {id: oauth_token, label: OAuth Token, type: string, secret: true}
  - {id: verify_ssl, label: Verify SSL, type: boolean}
required: [host]
`

const controllerInjectors = `
env:
  TOWER_HOST: "{{host}}"
  TOWER_USERNAME: "{{username}}"
  TOWER_PASSWORD: "{{password}}"
  TOWER_VERIFY_SSL: "{{verify_ssl}}"
  TOWER_OAUTH_TOKEN: "{{oauth_token}}"
  CONTROLLER_HOST: "{{host}}"
  CONTROLLER_USERNAME: "{{username}}"
  CONTROLLER_PASSWORD: "{{password}}"
  CONTROLLER_VERIFY_SSL: "{{verify_ssl}}"
  CONTROLLER_OAUTH_TOKEN: "{{oauth_token}}"
`

const insightsInputs = `
fields:
  - {id: username, label: Username, type: string}
  - {id: password, label: Password, type: string, secret: true}
required: [username, password]
`

const insightsInjectors = `
extra_vars:
  scm_username: "{{username}}"
  scm_password: "{{password}}"
env:
  INSIGHTS_USER: "{{username}}"
  INSIGHTS_PASSWORD: "{{password}}"
`

type managedType struct {
	once sync.Once
	typ  *CredentialType
	err  error
	name string
	in   string
	inj  string
}

func (m *managedType) get() (*CredentialType, error) {
	m.once.Do(func() {
		m.typ, m.err = ParseCredentialType([]byte(m.in), []byte(m.inj))
		if m.typ != nil {
			m.typ.Name, m.typ.managed = m.name, true
		}
	})
	return m.typ, m.err
}

var (
	rhvType        = &managedType{name: "rhv", in: rhvInputs, inj: rhvInjectors}
	controllerType = &managedType{name: "controller", in: controllerInputs, inj: controllerInjectors}
	insightsType   = &managedType{name: "insights", in: insightsInputs, inj: insightsInjectors}
)

func injectManaged(b *builder, m *managedType, inputs map[string]any) error {
	t, err := m.get()
	if err != nil {
		return err
	}
	return t.inject(b, m.name, inputs)
}

// RHV is a Red Hat Virtualization (oVirt) credential: an ovirt.ini file
// named by OVIRT_INI_PATH plus the same values as OVIRT_* variables.
type RHV struct {
	Host     string // required
	Username string // required
	Password string `secret:"true"` // required
	CAFile   string // path of a CA file on the execution node
}

// Kind returns "rhv".
func (RHV) Kind() string { return "rhv" }

func (c RHV) inject(b *builder) error {
	return injectManaged(b, rhvType, map[string]any{"host": c.Host, "username": c.Username, "password": c.Password, "ca_file": c.CAFile})
}

// Controller is a credential for an AWX / Automation Controller API, set as
// both TOWER_* and CONTROLLER_* variables.
type Controller struct {
	Host       string // required
	Username   string
	Password   string `secret:"true"`
	OAuthToken string `secret:"true"`
	VerifySSL  bool
}

// Kind returns "controller".
func (Controller) Kind() string { return "controller" }

func (c Controller) inject(b *builder) error {
	return injectManaged(b, controllerType, map[string]any{
		"host": c.Host, "username": c.Username, "password": c.Password, "oauth_token": c.OAuthToken, "verify_ssl": c.VerifySSL,
	})
}

// Insights is a Red Hat Insights credential, injected as INSIGHTS_* variables
// and as the scm_username/scm_password extra vars.
type Insights struct {
	Username string // required
	Password string `secret:"true"` // required
}

// Kind returns "insights".
func (Insights) Kind() string { return "insights" }

func (c Insights) inject(b *builder) error {
	return injectManaged(b, insightsType, map[string]any{"username": c.Username, "password": c.Password})
}
