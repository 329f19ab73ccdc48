package icelake

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
)

// column maps one record field (found by its JSON name) to a typed Iceberg column.
type column struct {
	name     string
	typ      iceberg.Type
	required bool
	index    []int // field path in the record (through a flattened *struct)
	json     bool  // maps and slices are stored as JSON text
}

var timeType = reflect.TypeFor[time.Time]()

// columnsOf derives typed columns from a record type's JSON fields: time.Time -> timestamptz,
// string -> string, float64 -> double, integers -> long, bool -> boolean, pointers -> the
// same, nullable; a pointer to a struct is flattened with prefix_ names; maps and slices
// become JSON text. required lists the columns that are never null.
func columnsOf(t reflect.Type, prefix string, index []int, required map[string]bool) []column {
	var out []column
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		name = prefix + name
		idx := append(append([]int(nil), index...), i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && ft.Elem() != timeType {
			out = append(out, columnsOf(ft.Elem(), strings.TrimSuffix(name, "s")+"_", idx, nil)...)
			continue
		}
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		c := column{name: name, index: idx, required: required[name]}
		switch {
		case ft == timeType:
			c.typ = iceberg.PrimitiveTypes.TimestampTz
		case ft.Kind() == reflect.String:
			c.typ = iceberg.PrimitiveTypes.String
		case ft.Kind() == reflect.Float64 || ft.Kind() == reflect.Float32:
			c.typ = iceberg.PrimitiveTypes.Float64
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Int64:
			c.typ = iceberg.PrimitiveTypes.Int64
		case ft.Kind() == reflect.Bool:
			c.typ = iceberg.PrimitiveTypes.Bool
		case ft.Kind() == reflect.Map || ft.Kind() == reflect.Slice:
			c.typ, c.json = iceberg.PrimitiveTypes.String, true
		default:
			panic(fmt.Sprintf("icelake: no column type for %s %s", name, ft))
		}
		out = append(out, c)
	}
	return out
}

// schemaOf builds an Iceberg schema from columns (ids in order, from 1), with docs.
func schemaOf(cols []column, docs map[string]string) *iceberg.Schema {
	fields := make([]iceberg.NestedField, len(cols))
	for i, c := range cols {
		fields[i] = iceberg.NestedField{ID: i + 1, Name: c.name, Type: c.typ, Required: c.required, Doc: docs[c.name]}
	}
	return iceberg.NewSchema(0, fields...)
}

// value reads a column's value from a record (nil for null: nil pointers, zero times, empty
// strings of optional columns, empty maps and slices).
func (c column) value(rec reflect.Value) any {
	v := rec
	for _, i := range c.index {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch {
	case c.json:
		if v.Len() == 0 {
			return nil
		}
		b, _ := json.Marshal(v.Interface())
		return string(b)
	case v.Type() == timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return nil
		}
		return t
	case v.Kind() == reflect.String:
		if v.Len() == 0 && !c.required {
			return nil
		}
		return v.String()
	case v.Kind() == reflect.Float64 || v.Kind() == reflect.Float32:
		return v.Float()
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		return v.Int()
	case v.Kind() == reflect.Bool:
		return v.Bool()
	}
	return nil
}

// set writes row i of a column's array into a record, allocating pointers on the way.
func (c column) set(rec reflect.Value, a arrow.Array, i int) {
	if a.IsNull(i) {
		return
	}
	v := rec
	for _, idx := range c.index {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(idx)
	}
	if v.Kind() == reflect.Pointer {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	switch {
	case c.json:
		p := reflect.New(v.Type())
		if json.Unmarshal([]byte(stringAt(a, i)), p.Interface()) == nil {
			v.Set(p.Elem())
		}
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(timeAt(a, i)))
	case v.Kind() == reflect.String:
		v.SetString(stringAt(a, i))
	case v.Kind() == reflect.Float64:
		v.SetFloat(float64At(a, i))
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		v.SetInt(int64At(a, i))
	case v.Kind() == reflect.Bool:
		v.SetBool(boolAt(a, i))
	}
}

// recordBatch builds one Arrow record of recs (a slice of records) for schema, matching
// columns by name; a table column the record type does not have is written as null.
func recordBatch(schema *arrow.Schema, cols []column, recs reflect.Value) (arrow.RecordBatch, error) {
	byName := make(map[string]column, len(cols))
	for _, c := range cols {
		byName[c.name] = c
	}
	b := array.NewRecordBuilder(memAlloc, schema)
	defer b.Release()
	for fi, f := range schema.Fields() {
		fb := b.Field(fi)
		c, ok := byName[f.Name]
		for j := range recs.Len() {
			if !ok {
				fb.AppendNull()
				continue
			}
			appendValue(fb, c.value(recs.Index(j)))
		}
	}
	return b.NewRecordBatch(), nil
}
