package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/source"
)

func TestConfigValidate(t *testing.T) {
	key := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(key, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROLEGATE_TEST_EMPTY_TOKEN", "")
	tests := []struct {
		name    string
		cfg     source.Config
		wantErr []string // empty: valid
	}{
		{name: "directory", cfg: source.Config{Directory: "policies"}},
		{
			name: "file with a key",
			cfg:  source.Config{File: "b.tar.gz", Verification: bundle.Verification{KeyFile: key}},
		},
		{name: "url with everything", cfg: source.Config{
			URL: "https://bundles.example.com/rolegate.tar.gz", PollInterval: time.Minute,
			MaxPolicyAge: time.Hour, PersistDir: "/var/lib/rolegate", Verification: bundle.Verification{
				KeyFile: key, Algorithm: "ES256", Scope: "prod",
			},
		}},
		{name: "nothing", cfg: source.Config{}, wantErr: []string{"set exactly one of directory, file and url"}},
		{
			name:    "two sources",
			cfg:     source.Config{Directory: "policies", URL: "http://x"},
			wantErr: []string{"set exactly one"},
		},
		{
			name: "every problem at once",
			cfg: source.Config{
				URL: "ftp://bundles", PollInterval: -time.Second, Timeout: -time.Second, MaxBundleBytes: -1,
				MaxPolicyAge: time.Second, TokenFile: "no/such/token", TokenEnv: "ROLEGATE_TEST_EMPTY_TOKEN",
				Verification: bundle.Verification{KeyFile: "no/such/key.pem", Algorithm: "none"},
			},
			wantErr: []string{
				`url: scheme "ftp" is not http or https`,
				"poll_interval must be positive", "timeout must be positive", "max_bundle_bytes must be positive",
				"set token_file or token_env, not both", "token_file: open no/such/token",
				"environment variable ROLEGATE_TEST_EMPTY_TOKEN is empty",
				`verification: algorithm "none" is not supported`, "verification: key_file: stat no/such/key.pem",
			},
		},
		{
			name: "url settings on a directory",
			cfg: source.Config{
				Directory: "policies", PersistDir: "/tmp/x", MaxPolicyAge: time.Hour, TokenFile: key,
				Verification: bundle.Verification{KeyFile: key},
			},
			wantErr: []string{
				"persist_dir applies to a url source only, not to a directory",
				"max_policy_age applies to a url source only", "token_file applies to a url source only",
				"verification applies to bundles, not to a directory",
			},
		},
		{
			name:    "max age within a poll",
			cfg:     source.Config{URL: "http://x/b.tar.gz", MaxPolicyAge: source.DefaultPollInterval},
			wantErr: []string{"max_policy_age (30s) must be longer than poll_interval (30s)"},
		},
		{
			name:    "verification settings without a key",
			cfg:     source.Config{File: "b.tar.gz", Verification: bundle.Verification{Scope: "prod"}},
			wantErr: []string{"verification: algorithm, key_id and scope need key_file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("valid, want errors %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestNewRejectsAnInvalidConfig(t *testing.T) {
	_, err := source.New(source.Config{}, nil, testLogger(t))
	if err == nil || !strings.HasPrefix(err.Error(), "policy source: ") {
		t.Fatalf("error = %v, want a policy source error", err)
	}
}

func TestStatusBeforeAnyPolicy(t *testing.T) {
	r := newRig(t, source.Config{URL: "http://user:pw@127.0.0.1:1/b.tar.gz?token=x"})
	st := r.m.Status()
	if st.Ready || st.Policy != nil || !strings.Contains(st.Reason, "no policy is active") {
		t.Fatalf("status = %+v, want not ready without a policy", st)
	}
	if st.Source != (source.Origin{Kind: source.KindURL, Location: "http://127.0.0.1:1/b.tar.gz"}) {
		t.Fatalf("source = %+v, want the url without credentials or query", st.Source)
	}
}
