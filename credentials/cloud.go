package credentials

import (
	"bytes"
	"encoding/json"

	"gopkg.in/yaml.v3"
)

// setAll sets env pairs in order, so a conflict names the first variable.
func (b *builder) setAll(kind string, env [][2]string) error {
	for _, e := range env {
		if err := b.setEnv(kind, e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

// AWS is an Amazon Web Services access key.
type AWS struct {
	Username      string // access key id
	Password      string `secret:"true"` // secret access key
	SecurityToken string `secret:"true"` // STS session token, optional
}

// Kind returns "aws".
func (AWS) Kind() string { return "aws" }

func (c AWS) inject(b *builder) error {
	b.secret(c.Password, c.SecurityToken)
	env := [][2]string{{"AWS_ACCESS_KEY_ID", c.Username}, {"AWS_SECRET_ACCESS_KEY", c.Password}}
	if c.SecurityToken != "" {
		env = append(env, [2]string{"AWS_SECURITY_TOKEN", c.SecurityToken}, [2]string{"AWS_SESSION_TOKEN", c.SecurityToken})
	}
	return b.setAll(c.Kind(), env)
}

// GCE is a Google Compute Engine service account.
type GCE struct {
	Username   string // service account email
	Project    string
	SSHKeyData string `secret:"true"` // the service account's PEM private key
}

// Kind returns "gce".
func (GCE) Kind() string { return "gce" }

func (c GCE) inject(b *builder) error {
	b.secret(c.SSHKeyData)
	// Field order and indentation follow AWX's json.dump(..., indent=2).
	doc := struct {
		Type        string `json:"type"`
		PrivateKey  string `json:"private_key"`
		ClientEmail string `json:"client_email"`
		ProjectID   string `json:"project_id"`
		TokenURI    string `json:"token_uri"`
	}{"service_account", c.SSHKeyData, c.Username, c.Project, "https://oauth2.googleapis.com/token"}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fieldErr(c.Kind(), "", ErrInvalid, err.Error())
	}
	p := b.addFile(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), 0o600)
	// GCE_EMAIL and GCE_PROJECT are what AWX sets for jobs (not inventory updates).
	return b.setAll(c.Kind(), [][2]string{
		{"GCE_EMAIL", c.Username},
		{"GCE_PROJECT", c.Project},
		{"GCE_CREDENTIALS_FILE_PATH", p},
		{"GCP_SERVICE_ACCOUNT_FILE", p},
		{"GOOGLE_APPLICATION_CREDENTIALS", p},
		{"GCP_AUTH_KIND", "serviceaccount"},
		{"GCP_PROJECT", c.Project},
		{"GCP_ENV_TYPE", "tower"},
	})
}

// AzureRM is a Microsoft Azure Resource Manager credential: a service
// principal (Client, Secret, Tenant) or a user (Username, Password).
type AzureRM struct {
	Subscription     string // required
	Username         string
	Password         string `secret:"true"`
	Client           string
	Secret           string `secret:"true"`
	Tenant           string
	CloudEnvironment string
}

// Kind returns "azure_rm".
func (AzureRM) Kind() string { return "azure_rm" }

func (c AzureRM) inject(b *builder) error {
	if c.Subscription == "" {
		return fieldErr(c.Kind(), "subscription", ErrRequired, "")
	}
	b.secret(c.Password, c.Secret)
	env := [][2]string{{"AZURE_SUBSCRIPTION_ID", c.Subscription}}
	if c.Client != "" && c.Tenant != "" {
		env = append(env, [2]string{"AZURE_CLIENT_ID", c.Client}, [2]string{"AZURE_TENANT", c.Tenant}, [2]string{"AZURE_SECRET", c.Secret})
	} else {
		env = append(env, [2]string{"AZURE_AD_USER", c.Username}, [2]string{"AZURE_PASSWORD", c.Password})
	}
	if c.CloudEnvironment != "" {
		env = append(env, [2]string{"AZURE_CLOUD_ENVIRONMENT", c.CloudEnvironment})
	}
	return b.setAll(c.Kind(), env)
}

// OpenStack is an OpenStack Keystone credential, written as a clouds.yml
// file (cloud name "devstack", as AWX names it) named by OS_CLIENT_CONFIG_FILE.
type OpenStack struct {
	Username          string
	Password          string `secret:"true"`
	Host              string // auth URL
	Project           string
	ProjectDomainName string
	Domain            string
	Region            string
	// SkipVerifySSL is AWX's verify_ssl inverted, so that the zero value
	// keeps AWX's default of verifying.
	SkipVerifySSL bool
}

// Kind returns "openstack".
func (OpenStack) Kind() string { return "openstack" }

func (c OpenStack) inject(b *builder) error {
	b.secret(c.Password)
	auth := map[string]any{"auth_url": c.Host, "username": c.Username, "password": c.Password, "project_name": c.Project}
	if c.ProjectDomainName != "" {
		auth["project_domain_name"] = c.ProjectDomainName
	}
	if c.Domain != "" {
		auth["domain_name"] = c.Domain
	}
	cloud := map[string]any{"auth": auth, "verify": !c.SkipVerifySSL}
	if c.Region != "" {
		cloud["region_name"] = c.Region
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{"clouds": map[string]any{"devstack": cloud}}); err != nil {
		return fieldErr(c.Kind(), "", ErrInvalid, err.Error())
	}
	if err := enc.Close(); err != nil {
		return fieldErr(c.Kind(), "", ErrInvalid, err.Error())
	}
	return b.setEnv(c.Kind(), "OS_CLIENT_CONFIG_FILE", b.addFile(buf.Bytes(), 0o600))
}

// VMware is a vCenter credential.
type VMware struct {
	Host     string
	Username string
	Password string `secret:"true"`
	// ValidateCerts is AWX's global VMWARE_VALIDATE_CERTS setting (default false).
	ValidateCerts bool
}

// Kind returns "vmware".
func (VMware) Kind() string { return "vmware" }

func (c VMware) inject(b *builder) error {
	b.secret(c.Password)
	return b.setAll(c.Kind(), [][2]string{
		{"VMWARE_USER", c.Username},
		{"VMWARE_PASSWORD", c.Password},
		{"VMWARE_HOST", c.Host},
		{"VMWARE_VALIDATE_CERTS", stringify(c.ValidateCerts)},
	})
}

// Satellite is a Red Hat Satellite 6 credential. AWX injects nothing for it
// into jobs (it only feeds the foreman inventory plugin); its password is
// still registered as a secret so that it is redacted wherever it shows up.
type Satellite struct {
	Host     string
	Username string
	Password string `secret:"true"`
}

// Kind returns "satellite6".
func (Satellite) Kind() string { return "satellite6" }

func (c Satellite) inject(b *builder) error {
	b.secret(c.Password)
	return nil
}

// Kubernetes is an OpenShift or Kubernetes API bearer token.
type Kubernetes struct {
	Host        string
	BearerToken string `secret:"true"`
	// SkipVerifySSL is AWX's verify_ssl inverted (AWX defaults to verifying).
	SkipVerifySSL bool
	SSLCACert     string `secret:"true"` // PEM CA bundle; used only when verifying
}

// Kind returns "kubernetes_bearer_token".
func (Kubernetes) Kind() string { return "kubernetes_bearer_token" }

func (c Kubernetes) inject(b *builder) error {
	if c.BearerToken == "" {
		return fieldErr(c.Kind(), "bearer_token", ErrRequired, "")
	}
	b.secret(c.BearerToken, c.SSLCACert)
	env := [][2]string{{"K8S_AUTH_HOST", c.Host}, {"K8S_AUTH_API_KEY", c.BearerToken}}
	if !c.SkipVerifySSL && c.SSLCACert != "" {
		env = append(env, [2]string{"K8S_AUTH_VERIFY_SSL", "True"},
			[2]string{"K8S_AUTH_SSL_CA_CERT", b.addFile([]byte(c.SSLCACert), 0o600)})
	} else {
		env = append(env, [2]string{"K8S_AUTH_VERIFY_SSL", "False"})
	}
	return b.setAll(c.Kind(), env)
}

// Terraform is a Terraform backend configuration, optionally with Google
// credentials for a GCS backend.
type Terraform struct {
	Configuration  string `secret:"true"` // HCL backend configuration, required
	GCECredentials string `secret:"true"` // service account JSON
}

// Kind returns "terraform".
func (Terraform) Kind() string { return "terraform" }

func (c Terraform) inject(b *builder) error {
	if c.Configuration == "" {
		return fieldErr(c.Kind(), "configuration", ErrRequired, "")
	}
	b.secret(c.Configuration, c.GCECredentials)
	env := [][2]string{{"TF_BACKEND_CONFIG_FILE", b.addFile([]byte(c.Configuration), 0o600)}}
	if c.GCECredentials != "" {
		env = append(env, [2]string{"GOOGLE_BACKEND_CREDENTIALS", b.addFile([]byte(c.GCECredentials), 0o600)})
	}
	return b.setAll(c.Kind(), env)
}
