package xorc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTransport(t *testing.T) {
	tests := []struct {
		in   string
		want TransportKind
		ok   bool
	}{
		{"inproc", InProcess, true},
		{"INPROC", InProcess, true},
		{"shm", SharedMemory, true},
		{"pipe", NamedPipe, true},
		{"redis", Redis, true},
		{"hybrid", Hybrid, true},
		{"", 0, false},
		{"tcp", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTransport(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, ErrInvalidConfig)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got.String(), transportNames[got])
		})
	}
	assert.Equal(t, "transport(9)", TransportKind(9).String())
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{name: "defaults", env: map[string]string{}, want: Config{}},
		{name: "all set", env: map[string]string{EnvTransport: "shm", EnvName: "fab1", EnvRequestTimeout: "250ms"},
			want: Config{Transport: SharedMemory, Name: "fab1", RequestTimeout: Duration(250 * time.Millisecond)}},
		{name: "redis", env: map[string]string{EnvTransport: "redis"}, want: Config{Transport: Redis}},
		{name: "bad transport", env: map[string]string{EnvTransport: "carrier-pigeon"}, wantErr: EnvTransport},
		{name: "bad timeout", env: map[string]string{EnvRequestTimeout: "soon"}, wantErr: EnvRequestTimeout},
		{name: "negative timeout", env: map[string]string{EnvRequestTimeout: "-1s"}, wantErr: "negative"},
		{name: "bad name", env: map[string]string{EnvName: "a/b"}, wantErr: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{EnvTransport, EnvName, EnvRequestTimeout} {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := ConfigFromEnv()
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalidConfig)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	tests := []struct {
		name    string
		body    string
		want    Config
		wantErr string
	}{
		{name: "full", body: `{"transport": "pipe", "name": "fab2", "request_timeout": "2s"}`,
			want: Config{Transport: NamedPipe, Name: "fab2", RequestTimeout: Duration(2 * time.Second)}},
		{name: "empty object", body: `{}`, want: Config{}},
		{name: "unknown field", body: `{"transprot": "shm"}`, wantErr: "transprot"},
		{name: "bad transport", body: `{"transport": "udp"}`, wantErr: "udp"},
		{name: "bad duration", body: `{"request_timeout": "forever"}`, wantErr: "forever"},
		{name: "not json", body: `transport=shm`, wantErr: "invalid character"},
		{name: "trailing data", body: `{} {}`, wantErr: "after the JSON object"},
		{name: "bad name", body: `{"name": "a/b"}`, wantErr: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(tt.name+".json", tt.body)
			got, err := LoadConfig(p)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalidConfig)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), p, "names the file")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := LoadConfig(filepath.Join(dir, "missing.json"))
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestConfigJSONRoundTrip(t *testing.T) {
	c := Config{Transport: Hybrid, Name: "x", RequestTimeout: Duration(1500 * time.Millisecond)}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"transport":"hybrid","name":"x","request_timeout":"1.5s"}`, string(b))
	var back Config
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
	_, err = json.Marshal(Config{Transport: 42})
	require.ErrorIs(t, err, ErrInvalidConfig)
}
