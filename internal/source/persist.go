package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-json-experiment/json"
)

// Files in Config.PersistDir.
const (
	persistedBundle = "bundle.tar.gz"
	persistedRecord = "bundle.json"
)

// record describes the persisted bundle: where it came from and when the service
// last vouched for it, so that a restart keeps counting the policy's age.
type record struct {
	URL         string    `json:"url"`
	ETag        string    `json:"etag,omitempty"`
	Digest      string    `json:"sha256"`
	RefreshedAt time.Time `json:"refreshed_at"`
}

// persist writes the bundle, then its record, each replacing the old file only once
// complete.
func (m *Manager) persist(raw []byte, r record) error {
	path := filepath.Join(m.cfg.PersistDir, persistedBundle)
	if err := writeAtomic(path, raw); err != nil {
		return failAt(StagePersist, err)
	}
	return m.persistRecord(r)
}

func (m *Manager) persistRecord(r record) error {
	r.URL = m.origin.Location
	data, err := json.Marshal(r)
	if err != nil {
		return failAt(StagePersist, err)
	}
	if err := writeAtomic(filepath.Join(m.cfg.PersistDir, persistedRecord), data); err != nil {
		return failAt(StagePersist, err)
	}
	return nil
}

// restore activates the persisted bundle, verified and compiled as a download
// would be. A bundle persisted from another URL is ignored.
func (m *Manager) restore(ctx context.Context) {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	path := filepath.Join(m.cfg.PersistDir, persistedBundle)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		m.failed(ctx, failAt(StageRead, err))
		return
	}
	r := m.readRecord(raw, path)
	if r.URL != "" && r.URL != m.origin.Location {
		m.log.Warn("persisted bundle ignored: it came from another url", "url", r.URL)
		return
	}
	origin := Origin{Kind: KindPersisted, Location: path}
	if err := m.apply(ctx, candidate{raw: raw, origin: origin, etag: r.ETag, at: r.RefreshedAt}); err != nil {
		m.failed(ctx, err)
	}
}

// readRecord returns the record of the persisted bundle raw. Without a readable
// record that matches raw, the bundle counts as refreshed when it was written and
// has no ETag.
func (m *Manager) readRecord(raw []byte, path string) record {
	var r record
	data, err := os.ReadFile(filepath.Join(m.cfg.PersistDir, persistedRecord))
	if err == nil {
		err = json.Unmarshal(data, &r)
	}
	sum := sha256.Sum256(raw)
	if err == nil && r.Digest == hex.EncodeToString(sum[:]) {
		return r
	}
	r = record{URL: r.URL}
	if info, err := os.Stat(path); err == nil {
		r.RefreshedAt = info.ModTime()
	}
	return r
}

// writeAtomic writes data to path through a temporary file in the same folder,
// synced and renamed into place, so that path holds either the old or the new
// content, never a part.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// readFile reads at most limit bytes of path, and fails on a longer file.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: over the limit of %d bytes", path, limit)
	}
	return data, nil
}

// envToken returns the value of the environment variable name, or "" for no name.
func envToken(name string) string {
	if name == "" {
		return ""
	}
	return os.Getenv(name)
}
