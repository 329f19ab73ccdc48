// Package restdouble is a TEST DOUBLE of an Apache Iceberg REST catalog server (Polaris,
// Gravitino, Tabular, Nessie and others serve this protocol), not a catalog to run: it serves
// the part of the REST catalog API that srctl uses (config, namespaces, create, load, commit
// and drop table) over an SQL catalog in SQLite, so that srctl's REST client path is tested
// against real HTTP and real JSON without a catalog server on the machine.
//
// What it does not do: authentication (any or no token is accepted), multi-level namespaces,
// views, scan planning, credential vending, pagination.
package restdouble

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	_ "modernc.org/sqlite"
)

// Server serves the REST catalog API over an SQL catalog.
type Server struct {
	cat *sqlcat.Catalog
	db  *sql.DB
	// Commits counts table commits accepted, for tests.
	Commits atomic.Int64
}

// New keeps the catalog in the SQLite file dbPath and table files under warehouse.
func New(dbPath, warehouse string) (*Server, error) {
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	cat, err := sqlcat.NewCatalog("rest-double", db, sqlcat.SQLite, iceberg.Properties{"warehouse": warehouse})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Server{cat: cat, db: db}, nil
}

// Close closes the catalog database.
func (s *Server) Close() error { return s.db.Close() }

type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, typ string, err error) {
	var b errorBody
	b.Error.Message, b.Error.Type, b.Error.Code = err.Error(), typ, code
	writeJSON(w, code, b)
}

type loadTableResult struct {
	MetadataLocation string         `json:"metadata-location"`
	Metadata         table.Metadata `json:"metadata"`
	Config           map[string]any `json:"config"`
}

// ServeHTTP routes /v1/... requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1"), "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "config":
		writeJSON(w, http.StatusOK, map[string]any{"defaults": map[string]string{}, "overrides": map[string]string{}})
	case r.Method == http.MethodPost && len(parts) == 1 && parts[0] == "namespaces":
		var req struct {
			Namespace  []string          `json:"namespace"`
			Properties map[string]string `json:"properties"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			fail(w, http.StatusBadRequest, "BadRequestException", err)
			return
		}
		if err := s.cat.CreateNamespace(ctx, req.Namespace, req.Properties); err != nil {
			s.catalogError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"namespace": req.Namespace, "properties": req.Properties})
	case len(parts) == 2 && parts[0] == "namespaces" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		props, err := s.cat.LoadNamespaceProperties(ctx, table.Identifier{parts[1]})
		if err != nil {
			s.catalogError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"namespace": []string{parts[1]}, "properties": props})
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "tables":
		s.createTable(ctx, w, r, parts[1])
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "tables":
		ident := table.Identifier{parts[1], parts[3]}
		switch r.Method {
		case http.MethodGet:
			tbl, err := s.cat.LoadTable(ctx, ident)
			if err != nil {
				s.catalogError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, loadTableResult{MetadataLocation: tbl.MetadataLocation(), Metadata: tbl.Metadata(), Config: map[string]any{}})
		case http.MethodPost:
			s.commit(ctx, w, r, ident)
		case http.MethodDelete:
			if err := s.cat.DropTable(ctx, ident); err != nil {
				s.catalogError(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			fail(w, http.StatusMethodNotAllowed, "BadRequestException", fmt.Errorf("%s %s", r.Method, r.URL.Path))
		}
	default:
		fail(w, http.StatusNotFound, "NotFoundException", fmt.Errorf("%s %s is not served by the REST catalog test double", r.Method, r.URL.Path))
	}
}

func (s *Server) createTable(ctx context.Context, w http.ResponseWriter, r *http.Request, ns string) {
	var req struct {
		Name          string                 `json:"name"`
		Schema        *iceberg.Schema        `json:"schema"`
		Location      string                 `json:"location"`
		PartitionSpec *iceberg.PartitionSpec `json:"partition-spec"`
		Props         iceberg.Properties     `json:"properties"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "BadRequestException", err)
		return
	}
	opts := []catalog.CreateTableOpt{catalog.WithProperties(req.Props)}
	if req.PartitionSpec != nil {
		opts = append(opts, catalog.WithPartitionSpec(req.PartitionSpec))
	}
	if req.Location != "" {
		opts = append(opts, catalog.WithLocation(req.Location))
	}
	tbl, err := s.cat.CreateTable(ctx, table.Identifier{ns, req.Name}, req.Schema, opts...)
	if err != nil {
		s.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, loadTableResult{MetadataLocation: tbl.MetadataLocation(), Metadata: tbl.Metadata(), Config: map[string]any{}})
}

func (s *Server) commit(ctx context.Context, w http.ResponseWriter, r *http.Request, ident table.Identifier) {
	var req struct {
		Requirements table.Requirements `json:"requirements"`
		Updates      table.Updates      `json:"updates"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "BadRequestException", err)
		return
	}
	meta, loc, err := s.cat.CommitTable(ctx, ident, req.Requirements, req.Updates)
	if err != nil {
		if errors.Is(err, catalog.ErrNoSuchTable) {
			s.catalogError(w, err)
			return
		}
		// A requirement the table no longer meets (another writer committed first): the
		// protocol's 409, which clients retry after reloading.
		fail(w, http.StatusConflict, "CommitFailedException", err)
		return
	}
	s.Commits.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{"metadata-location": loc, "metadata": meta})
}

func (s *Server) catalogError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		fail(w, http.StatusNotFound, "NoSuchTableException", err)
	case errors.Is(err, catalog.ErrNoSuchNamespace):
		fail(w, http.StatusNotFound, "NoSuchNamespaceException", err)
	case errors.Is(err, catalog.ErrTableAlreadyExists):
		fail(w, http.StatusConflict, "AlreadyExistsException", err)
	case errors.Is(err, catalog.ErrNamespaceAlreadyExists):
		fail(w, http.StatusConflict, "AlreadyExistsException", err)
	default:
		fail(w, http.StatusInternalServerError, "ServiceFailureException", err)
	}
}
