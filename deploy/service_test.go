package deploy

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// knativeService is the part of a serving.knative.dev/v1 Service this test checks.
type knativeService struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		Template struct {
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				ContainerConcurrency int `yaml:"containerConcurrency"`
				TimeoutSeconds       int `yaml:"timeoutSeconds"`
				Containers           []struct {
					Image string   `yaml:"image"`
					Args  []string `yaml:"args"`
					Ports []struct {
						ContainerPort int `yaml:"containerPort"`
					} `yaml:"ports"`
					EnvFrom []struct {
						SecretRef struct {
							Name string `yaml:"name"`
						} `yaml:"secretRef"`
					} `yaml:"envFrom"`
					Env []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					Resources struct {
						Limits map[string]string `yaml:"limits"`
					} `yaml:"resources"`
					LivenessProbe   probe `yaml:"livenessProbe"`
					ReadinessProbe  probe `yaml:"readinessProbe"`
					SecurityContext struct {
						RunAsNonRoot             bool  `yaml:"runAsNonRoot"`
						RunAsUser                int   `yaml:"runAsUser"`
						AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
					} `yaml:"securityContext"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

func TestServiceManifest(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var svc knativeService
	if err := yaml.Unmarshal(b, &svc); err != nil {
		t.Fatalf("service.yaml: %v", err)
	}
	if svc.APIVersion != "serving.knative.dev/v1" || svc.Kind != "Service" {
		t.Fatalf("apiVersion/kind = %s/%s, want serving.knative.dev/v1 Service", svc.APIVersion, svc.Kind)
	}
	spec := svc.Spec.Template.Spec
	if spec.ContainerConcurrency <= 0 {
		t.Errorf("containerConcurrency = %d, want > 0", spec.ContainerConcurrency)
	}
	if _, ok := svc.Spec.Template.Metadata.Annotations["autoscaling.knative.dev/min-scale"]; !ok {
		t.Error("no autoscaling.knative.dev/min-scale annotation")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	checks := []struct {
		name string
		ok   bool
	}{
		{"port 8080 (Dockerfile EXPOSE, PORT)", len(c.Ports) == 1 && c.Ports[0].ContainerPort == 8080},
		{"args demo", slices.Equal(c.Args, []string{"demo"})},
		{"liveness /healthz", c.LivenessProbe.HTTPGet.Path == "/healthz"},
		{"readiness /readyz", c.ReadinessProbe.HTTPGet.Path == "/readyz"},
		{"secret appidgate-app-secret (codeengine.sh default)", len(c.EnvFrom) == 1 && c.EnvFrom[0].SecretRef.Name == "appidgate-app-secret"},
		{"non-root uid 65532 (Dockerfile USER)", c.SecurityContext.RunAsNonRoot && c.SecurityContext.RunAsUser == 65532},
		{"no privilege escalation", c.SecurityContext.AllowPrivilegeEscalation != nil && !*c.SecurityContext.AllowPrivilegeEscalation},
		{"cpu and memory limits", c.Resources.Limits["cpu"] != "" && c.Resources.Limits["memory"] != ""},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("service.yaml: want %s", ch.name)
		}
	}
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name)
	}
	for _, want := range []string{"APPID_OAUTH_SERVER_URL", "APPID_REDIRECT_URI", "APPIDGATE_REQUIRE_APPID"} {
		if !slices.Contains(env, want) {
			t.Errorf("service.yaml env lacks %s (has %v)", want, env)
		}
	}
	// The four secret values come from the secret only, never inline.
	for _, secret := range []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "SESSION_SECRET_KEY", "IBM_CLOUD_APIKEY"} {
		if slices.Contains(env, secret) {
			t.Errorf("service.yaml sets %s inline; it belongs in the secret", secret)
		}
	}
}
