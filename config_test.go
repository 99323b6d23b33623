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
		{name: "shm knobs", env: map[string]string{EnvTransport: "shm", EnvSendTimeout: "1s", EnvShmInboxBytes: "65536", EnvShmSpin: "-1ns"},
			want: Config{Transport: SharedMemory, SendTimeout: Duration(time.Second), Shm: ShmConfig{InboxBytes: 65536, Spin: Duration(-1)}}},
		{name: "bad send timeout", env: map[string]string{EnvSendTimeout: "later"}, wantErr: EnvSendTimeout},
		{name: "bad inbox bytes", env: map[string]string{EnvShmInboxBytes: "1M"}, wantErr: EnvShmInboxBytes},
		{name: "inbox not a power of two", env: map[string]string{EnvShmInboxBytes: "5000"}, wantErr: "power of two"},
		{name: "bad spin", env: map[string]string{EnvShmSpin: "fast"}, wantErr: EnvShmSpin},
		{name: "pipe knobs", env: map[string]string{EnvTransport: "pipe", EnvPipeDir: "/run/fab", EnvPipeMaxFrame: "65536", EnvPipeAllowUIDs: "1000, 1001"},
			want: Config{Transport: NamedPipe, Pipe: PipeConfig{Dir: "/run/fab", MaxFrame: 65536, AllowUIDs: []int{1000, 1001}}}},
		{name: "bad max frame", env: map[string]string{EnvPipeMaxFrame: "16M"}, wantErr: EnvPipeMaxFrame},
		{name: "max frame too large", env: map[string]string{EnvPipeMaxFrame: "1000000000"}, wantErr: "pipe.max_frame"},
		{name: "bad uid list", env: map[string]string{EnvPipeAllowUIDs: "1000;1001"}, wantErr: EnvPipeAllowUIDs},
		{name: "negative uid", env: map[string]string{EnvPipeAllowUIDs: "-1"}, wantErr: "pipe.allow_uids[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{EnvTransport, EnvName, EnvRequestTimeout, EnvSendTimeout, EnvShmInboxBytes, EnvShmSpin,
				EnvPipeDir, EnvPipeMaxFrame, EnvPipeAllowUIDs} {
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
		{name: "shm", body: `{"transport": "shm", "name": "fab3", "send_timeout": "250ms", "shm": {"inbox_bytes": 262144,
		  "max_processes": 8, "max_machines": 100, "spin": "20us", "mode": "0660", "dir": "/dev/shm",
		  "heartbeat_interval": "500ms", "heartbeat_timeout": "5s"}}`,
			want: Config{Transport: SharedMemory, Name: "fab3", SendTimeout: Duration(250 * time.Millisecond), Shm: ShmConfig{
				InboxBytes: 262144, MaxProcesses: 8, MaxMachines: 100, Spin: Duration(20 * time.Microsecond), Mode: 0o660, Dir: "/dev/shm",
				HeartbeatInterval: Duration(500 * time.Millisecond), HeartbeatTimeout: Duration(5 * time.Second)}}},
		{name: "bad mode", body: `{"shm": {"mode": "rw"}}`, wantErr: "mode"},
		{name: "mode beyond permissions", body: `{"shm": {"mode": "4755"}}`, wantErr: "mode"},
		{name: "negative capacity", body: `{"shm": {"max_machines": -1}}`, wantErr: "negative"},
		{name: "negative send timeout", body: `{"send_timeout": "-1s"}`, wantErr: "negative"},
		{name: "unknown shm field", body: `{"shm": {"inbox": 4096}}`, wantErr: "inbox"},
		{name: "pipe", body: `{"transport": "pipe", "name": "fab4", "send_timeout": "1s", "shm": {"max_processes": 4},
		  "pipe": {"dir": "/run/xorc/fab4", "dir_mode": "0750", "socket_mode": "0660", "max_frame": 1048576, "allow_uids": [1000]}}`,
			want: Config{Transport: NamedPipe, Name: "fab4", SendTimeout: Duration(time.Second), Shm: ShmConfig{MaxProcesses: 4},
				Pipe: PipeConfig{Dir: "/run/xorc/fab4", DirMode: 0o750, SocketMode: 0o660, MaxFrame: 1 << 20, AllowUIDs: []int{1000}}}},
		{name: "pipe dir mode without owner bits", body: `{"pipe": {"dir_mode": "0070"}}`, wantErr: "pipe.dir_mode"},
		{name: "pipe socket mode without owner bits", body: `{"pipe": {"socket_mode": "0066"}}`, wantErr: "pipe.socket_mode"},
		{name: "pipe negative max frame", body: `{"pipe": {"max_frame": -1}}`, wantErr: "pipe.max_frame"},
		{name: "unknown pipe field", body: `{"pipe": {"path": "/x"}}`, wantErr: "path"},
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
	assert.JSONEq(t, `{"transport":"hybrid","name":"x","request_timeout":"1.5s"}`, string(b), "zero fields are left out")
	var back Config
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
	_, err = json.Marshal(Config{Transport: 42})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestPipeConfigJSONRoundTrip(t *testing.T) {
	c := Config{Transport: NamedPipe, Name: "x", Pipe: PipeConfig{Dir: "/run/x", MaxFrame: 4096, AllowUIDs: []int{7}, SocketMode: 0o660}}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"transport":"pipe","name":"x","pipe":{"dir":"/run/x","socket_mode":"0660","max_frame":4096,"allow_uids":[7]}}`, string(b))
	var back Config
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
}

func TestShmConfigJSONRoundTrip(t *testing.T) {
	c := Config{Transport: SharedMemory, Name: "x", SendTimeout: Duration(time.Second),
		Shm: ShmConfig{InboxBytes: 1 << 16, Mode: 0o640, Spin: Duration(-1)}}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"transport":"shm","name":"x","send_timeout":"1s","shm":{"inbox_bytes":65536,"mode":"0640","spin":"-1ns"}}`, string(b))
	var back Config
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
}
