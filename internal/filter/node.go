package filter

import (
	"reflect"
	"sort"
	"strconv"
	"strings"
)

type kind uint8

const (
	kindLiteral kind = iota // a string, number, boolean or null
	kindObject              // field names, operators, or both
	kindArray               // an array of patterns
)

// node is one parsed pattern. Its path (without the "filter." prefix) names
// it in explanations.
type node struct {
	path   string
	kind   kind
	lit    any
	fields []field
	elems  []*node
	ops    []op
	and    []*node
	or     []*node
	not    *node
}

type field struct {
	name string
	node *node
}

type opCode uint8

const (
	opEq opCode = iota
	opNeq
	opGt
	opGte
	opLt
	opLte
	opIn
	opNin
	opStartsWith
	opEndsWith
	opExist
)

var opCodes = map[string]opCode{
	"$eq": opEq, "$neq": opNeq, "$gt": opGt, "$gte": opGte, "$lt": opLt, "$lte": opLte, "$in": opIn,
	"$nin": opNin, "$startsWith": opStartsWith, "$endsWith": opEndsWith, "$exist": opExist,
}

const operatorList = "$eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exist $or $and $not"

// op is one comparison operator with its operand.
type op struct {
	code    opCode
	name    string
	path    string
	operand any     // as decoded
	str     string  // string operand
	num     float64 // number operand
	isNum   bool
	set     []any // $in / $nin array operand
	whole   bool  // $eq / $neq with an array or object operand: compare whole values
}

// parse parses the pattern v found at path p ("filter.body.…").
func parse(p string, v any) (*node, error) {
	n := &node{path: strings.TrimPrefix(p, "filter.")}
	switch v := v.(type) {
	case nil, string, float64, bool:
		n.kind, n.lit = kindLiteral, v
		return n, nil
	case []any:
		n.kind = kindArray
		for i, e := range v {
			c, err := parse(p+"["+strconv.Itoa(i)+"]", e)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, c)
		}
		return n, nil
	case map[string]any:
		n.kind = kindObject
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic errors and explanations
		var names []string
		for _, k := range keys {
			sub := p + "." + k
			switch {
			case k == "$or" || k == "$and":
				arr, ok := v[k].([]any)
				if !ok || len(arr) == 0 {
					return nil, &Error{Path: sub, Msg: "expects a non-empty array of patterns"}
				}
				for i, e := range arr {
					c, err := parse(sub+"["+strconv.Itoa(i)+"]", e)
					if err != nil {
						return nil, err
					}
					if k == "$or" {
						n.or = append(n.or, c)
					} else {
						n.and = append(n.and, c)
					}
				}
			case k == "$not":
				c, err := parse(sub, v[k])
				if err != nil {
					return nil, err
				}
				n.not = c
			case strings.HasPrefix(k, "$"):
				o, err := parseOp(sub, k, v[k])
				if err != nil {
					return nil, err
				}
				n.ops = append(n.ops, o)
			default:
				c, err := parse(sub, v[k])
				if err != nil {
					return nil, err
				}
				n.fields = append(n.fields, field{name: k, node: c})
				names = append(names, k)
			}
		}
		if len(n.ops) > 0 && len(names) > 0 {
			return nil, &Error{Path: p, Msg: "mixes operators (" + n.ops[0].name + ") with field names (" + names[0] +
				"): put the field's operators inside the field"}
		}
		return n, nil
	}
	return nil, &Error{Path: p, Msg: "is not a JSON value"}
}

func parseOp(p, name string, v any) (op, error) {
	code, ok := opCodes[name]
	if !ok {
		return op{}, &Error{Path: p, Msg: "unknown operator; use one of " + operatorList}
	}
	o := op{code: code, name: name, path: strings.TrimPrefix(p, "filter."), operand: v}
	switch code {
	case opEq, opNeq:
		switch v := v.(type) {
		case []any, map[string]any:
			o.whole = true
		case float64:
			o.num, o.isNum = v, true
		case string:
			o.str = v
		}
	case opGt, opGte, opLt, opLte:
		switch v := v.(type) {
		case float64:
			o.num, o.isNum = v, true
		case string:
			o.str = v
		default:
			return op{}, &Error{Path: p, Msg: "expects a number or a string"}
		}
	case opStartsWith, opEndsWith:
		s, ok := v.(string)
		if !ok {
			return op{}, &Error{Path: p, Msg: "expects a string"}
		}
		o.str = s
	case opIn, opNin:
		switch v := v.(type) {
		case string:
			o.str = v
		case []any:
			for i, e := range v {
				switch e.(type) {
				case nil, string, float64, bool:
				default:
					return op{}, &Error{Path: p + "[" + strconv.Itoa(i) + "]", Msg: "expects a string, number, boolean or null"}
				}
			}
			o.set = v
		default:
			return op{}, &Error{Path: p, Msg: "expects an array of values, or a string to look for in the value"}
		}
	case opExist:
		if _, ok := v.(bool); !ok {
			return op{}, &Error{Path: p, Msg: "expects true or false"}
		}
	}
	return o, nil
}

// fail records the first failure in why (when asked) and returns false.
func fail(why *Explanation, path, expected string, v any, present bool) bool {
	if why != nil && why.Path == "" {
		why.Path, why.Expected, why.Actual = path, expected, describe(v, present)
	}
	return false
}

// match reports whether v (present false for a missing field) matches n.
func (n *node) match(v any, present bool, why *Explanation) bool {
	for i := range n.ops {
		if o := &n.ops[i]; !o.test(v, present) {
			return why != nil && fail(why, o.path, o.expected(), v, present)
		}
	}
	switch n.kind {
	case kindLiteral:
		if !present || !anyElem(v, func(e any) bool { return equalScalar(e, n.lit) }) {
			return why != nil && fail(why, n.path, "equal to "+describe(n.lit, true), v, present)
		}
	case kindArray:
		arr, ok := v.([]any)
		if !present || !ok {
			return why != nil && fail(why, n.path, "an array", v, present)
		}
		for _, c := range n.elems {
			found := false
			for _, e := range arr {
				if c.match(e, true, nil) {
					found = true
					break
				}
			}
			if !found {
				return why != nil && fail(why, c.path, "an element matching "+describe(c.source(), true), v, present)
			}
		}
	case kindObject:
		if len(n.fields) > 0 && !n.matchFields(v, present, why) {
			return false
		}
	}
	for _, c := range n.and {
		if !c.match(v, present, why) {
			return why != nil && fail(why, c.path, "to match", v, present)
		}
	}
	if len(n.or) > 0 {
		ok := false
		for _, c := range n.or {
			if c.match(v, present, nil) {
				ok = true
				break
			}
		}
		if !ok {
			return why != nil && fail(why, n.path+".$or", "any of "+strconv.Itoa(len(n.or))+" patterns to match", v, present)
		}
	}
	if n.not != nil && n.not.match(v, present, nil) {
		return why != nil && fail(why, n.not.path, "not to match "+describe(n.not.source(), true), v, present)
	}
	return true
}

// matchFields matches the field names of an object pattern: against an
// object, each field must match; against an array, some element must.
func (n *node) matchFields(v any, present bool, why *Explanation) bool {
	switch v := v.(type) {
	case map[string]any:
		if !present {
			break
		}
		for _, f := range n.fields {
			fv, ok := v[f.name]
			if !f.node.match(fv, ok, why) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok && n.matchFields(m, true, nil) {
				return true
			}
		}
		return why != nil && fail(why, n.path, "an element with "+n.fieldNames(), v, present)
	}
	return why != nil && fail(why, n.path, "an object with "+n.fieldNames(), v, present)
}

func (n *node) fieldNames() string {
	names := make([]string, len(n.fields))
	for i, f := range n.fields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// source rebuilds a pattern as JSON-able data, for explanations.
func (n *node) source() any {
	switch n.kind {
	case kindLiteral:
		return n.lit
	case kindArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			out[i] = e.source()
		}
		return out
	}
	m := map[string]any{}
	for _, f := range n.fields {
		m[f.name] = f.node.source()
	}
	for _, o := range n.ops {
		m[o.name] = o.operand
	}
	for name, cs := range map[string][]*node{"$and": n.and, "$or": n.or} {
		if len(cs) > 0 {
			arr := make([]any, len(cs))
			for i, c := range cs {
				arr[i] = c.source()
			}
			m[name] = arr
		}
	}
	if n.not != nil {
		m["$not"] = n.not.source()
	}
	return m
}

// anyElem applies f to v, or to each element of an array v, and reports
// whether it held for one.
func anyElem(v any, f func(any) bool) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if f(e) {
				return true
			}
		}
		return false
	}
	return f(v)
}

// number returns v as a number: a JSON number, or a string holding one
// (header and query values are strings).
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && v != ""
	}
	return 0, false
}

// equalScalar compares a value with a scalar pattern; a number pattern also
// matches a string holding that number.
func equalScalar(v, lit any) bool {
	switch l := lit.(type) {
	case float64:
		f, ok := number(v)
		return ok && f == l
	case string:
		s, ok := v.(string)
		return ok && s == l
	case bool:
		b, ok := v.(bool)
		return ok && b == l
	case nil:
		return v == nil
	}
	return false
}

func (o *op) test(v any, present bool) bool {
	switch o.code {
	case opExist:
		return present == o.operand.(bool)
	case opEq:
		return present && o.eq(v)
	case opNeq:
		return !present || !o.eq(v)
	case opIn:
		return present && o.in(v)
	case opNin:
		return !present || !o.in(v)
	}
	if !present {
		return false
	}
	return anyElem(v, o.compare)
}

func (o *op) eq(v any) bool {
	if o.whole {
		return reflect.DeepEqual(v, o.operand)
	}
	return anyElem(v, func(e any) bool { return equalScalar(e, o.operand) })
}

func (o *op) in(v any) bool {
	if o.set == nil {
		return anyElem(v, func(e any) bool {
			s, ok := e.(string)
			return ok && strings.Contains(s, o.str)
		})
	}
	return anyElem(v, func(e any) bool {
		for _, c := range o.set {
			if equalScalar(e, c) {
				return true
			}
		}
		return false
	})
}

// compare applies an ordering or string operator to one value.
func (o *op) compare(e any) bool {
	switch o.code {
	case opStartsWith:
		s, ok := e.(string)
		return ok && strings.HasPrefix(s, o.str)
	case opEndsWith:
		s, ok := e.(string)
		return ok && strings.HasSuffix(s, o.str)
	}
	var c int
	if o.isNum {
		f, ok := number(e)
		if !ok {
			return false
		}
		switch {
		case f < o.num:
			c = -1
		case f > o.num:
			c = 1
		}
	} else {
		s, ok := e.(string)
		if !ok {
			return false
		}
		c = strings.Compare(s, o.str)
	}
	switch o.code {
	case opGt:
		return c > 0
	case opGte:
		return c >= 0
	case opLt:
		return c < 0
	case opLte:
		return c <= 0
	}
	return false
}

func (o *op) expected() string {
	switch o.code {
	case opExist:
		if o.operand.(bool) {
			return "to exist"
		}
		return "not to exist"
	case opEq:
		return "equal to " + describe(o.operand, true)
	case opNeq:
		return "not equal to " + describe(o.operand, true)
	case opGt:
		return "> " + describe(o.operand, true)
	case opGte:
		return ">= " + describe(o.operand, true)
	case opLt:
		return "< " + describe(o.operand, true)
	case opLte:
		return "<= " + describe(o.operand, true)
	case opIn:
		if o.set == nil {
			return "a string containing " + describe(o.str, true)
		}
		return "one of " + describe(o.operand, true)
	case opNin:
		if o.set == nil {
			return "no string containing " + describe(o.str, true)
		}
		return "none of " + describe(o.operand, true)
	case opStartsWith:
		return "a string starting with " + describe(o.str, true)
	case opEndsWith:
		return "a string ending with " + describe(o.str, true)
	}
	return o.name
}
