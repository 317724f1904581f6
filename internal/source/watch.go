package source

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// newWatcher watches what the source reads: every folder of a policy directory, or
// the folder of a bundle file (a file replaced by a rename is a new file, which a
// watch on the old one would miss).
func (m *Manager) newWatcher() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := m.addWatches(w); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// addWatches adds a watch for each folder; adding one that exists changes nothing.
func (m *Manager) addWatches(w *fsnotify.Watcher) error {
	if m.kind == KindFile {
		return w.Add(filepath.Dir(m.cfg.File))
	}
	return filepath.WalkDir(m.cfg.Directory, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return w.Add(path)
	})
}

// watch refreshes once the watched files have been quiet for Debounce after a
// change, until ctx is done.
func (m *Manager) watch(ctx context.Context, w *fsnotify.Watcher) {
	defer w.Close()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if m.relevant(ev) {
				quiet.Reset(m.cfg.Debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			m.log.Warn("policy watch error", "error", err, "location", m.origin.Location)
		case <-quiet.C:
			if err := m.addWatches(w); err != nil {
				m.log.Warn("policy watch error", "error", err, "location", m.origin.Location)
			}
			_ = m.Refresh(ctx)
		}
	}
}

// relevant reports whether ev may have changed the policy. In a bundle file's
// folder, that is the file itself or a Kubernetes volume's "..data" swap; a
// permission change alone never is.
func (m *Manager) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	if m.kind != KindFile {
		return true
	}
	name := filepath.Base(ev.Name)
	return name == filepath.Base(m.cfg.File) || strings.HasPrefix(name, "..")
}
