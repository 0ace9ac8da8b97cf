// Package transform runs connection transformations: JavaScript functions
// `(request) => request` that reshape an event's outgoing request, in a
// sandbox built on goja (a JavaScript engine in pure Go).
//
// What the sandbox enforces, per run:
//   - nothing but the language: the runtime has no network, file system,
//     timers (setTimeout), modules (require) or process access; only
//     console.log / info / warn / error, whose output is kept up to
//     Config.MaxLogBytes;
//   - time: the run is interrupted after Config.Timeout (1 s by default);
//   - stack depth: calls nest at most maxCallStack deep;
//   - memory, approximately: goja has no allocation cap, so the input is
//     bounded (the event's body, within the ingest limit), the result is
//     rejected beyond Config.MaxOutputBytes (ErrOutput), and a watchdog
//     samples the live heap the garbage collector measured every few
//     milliseconds and interrupts the run when it has grown by more than
//     Config.MemoryLimit since the run started (ErrMemory). Runaway
//     allocation makes the collector run, so it shows there; but the heap
//     is the process's, so this is a guard, not an exact per-run account,
//     and callers should treat ErrMemory as possibly caused by other work.
//
// Code is compiled once per version (Compile) and run in a fresh runtime
// each time, so runs share no state.
package transform

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// Config bounds runs. Zero values take the defaults.
type Config struct {
	// Timeout bounds one run; 0 means 1s.
	Timeout time.Duration
	// MemoryLimit is how much the heap may grow during a run before it is
	// interrupted; 0 means 128 MiB.
	MemoryLimit uint64
	// MaxOutputBytes bounds the transformed body plus headers, query and
	// path; 0 means 16 MiB.
	MaxOutputBytes int
	// MaxLogBytes bounds the console output kept per run; 0 means 4 KiB.
	MaxLogBytes int
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = time.Second
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = 128 << 20
	}
	if c.MaxOutputBytes == 0 {
		c.MaxOutputBytes = 16 << 20
	}
	if c.MaxLogBytes == 0 {
		c.MaxLogBytes = 4 << 10
	}
	return c
}

// maxCallStack bounds recursion in transformation code.
const maxCallStack = 1024

// MaxCodeBytes bounds the source of a transformation.
const MaxCodeBytes = 64 << 10

// Program is compiled transformation code, safe for concurrent use.
type Program struct {
	prog *goja.Program
}

// CompileError is code that does not compile or does not evaluate to a
// function.
type CompileError struct{ Msg string }

// Error implements error.
func (e *CompileError) Error() string { return e.Msg }

// Compile compiles code, which must be a JavaScript function expression
// such as `(request) => { request.body.seen = true; return request }`.
func Compile(code string) (*Program, error) {
	if len(code) > MaxCodeBytes {
		return nil, &CompileError{Msg: fmt.Sprintf("is longer than %d bytes", MaxCodeBytes)}
	}
	if strings.TrimSpace(code) == "" {
		return nil, &CompileError{Msg: "is empty: write a function such as (request) => request"}
	}
	// The parentheses make the code an expression; the newline keeps a
	// trailing line comment from swallowing the closing one.
	p, err := goja.Compile("transformation", "("+code+"\n)", true)
	if err != nil {
		return nil, &CompileError{Msg: "does not compile: " + err.Error()}
	}
	vm := goja.New()
	v, err := vm.RunProgram(p)
	if err != nil {
		return nil, &CompileError{Msg: "fails when loaded: " + err.Error()}
	}
	if _, ok := goja.AssertFunction(v); !ok {
		return nil, &CompileError{Msg: "must be a function such as (request) => request, not " + v.ExportType().String()}
	}
	return &Program{prog: p}, nil
}

// Runner runs programs within limits.
type Runner struct {
	cfg Config
}

// NewRunner returns a Runner.
func NewRunner(cfg Config) *Runner { return &Runner{cfg: cfg.withDefaults()} }

// Timeout is the time limit of one run.
func (r *Runner) Timeout() time.Duration { return r.cfg.Timeout }

// Limit reasons, as they appear in an Error.
var (
	ErrTimeout = errors.New("time limit exceeded")
	ErrMemory  = errors.New("memory limit exceeded")
	ErrOutput  = errors.New("output limit exceeded")
)

// Error is a run that failed: the code threw, returned something that is
// not a request, or hit a limit. Msg is for a person.
type Error struct {
	Msg string
	Err error // ErrTimeout, ErrMemory, or nil
}

// Error implements error.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the limit hit, if any.
func (e *Error) Unwrap() error { return e.Err }

// Run runs p on req. It returns the transformed request, or nil when the
// code returned null or undefined (the request is to be dropped), and the
// console output either way. A failure is an *Error.
func (r *Runner) Run(ctx context.Context, p *Program, req *Request) (*Request, string, error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	logs := &logBuffer{max: r.cfg.MaxLogBytes}
	if err := installConsole(vm, logs); err != nil {
		return nil, "", &Error{Msg: "set up sandbox: " + err.Error()}
	}
	stop := r.watch(ctx, vm)
	defer stop()
	out, err := r.run(vm, p, req)
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			if reason, ok := ie.Value().(error); ok {
				switch {
				case errors.Is(reason, ErrTimeout):
					err = &Error{Msg: fmt.Sprintf("transformation stopped: time limit of %s exceeded", r.cfg.Timeout), Err: ErrTimeout}
				case errors.Is(reason, ErrMemory):
					err = &Error{Msg: fmt.Sprintf("transformation stopped: memory limit of %d MiB exceeded", r.cfg.MemoryLimit>>20), Err: ErrMemory}
				default:
					err = &Error{Msg: "transformation stopped: " + reason.Error(), Err: reason}
				}
			}
		}
		var so *goja.StackOverflowError
		if errors.As(err, &so) {
			err = &Error{Msg: fmt.Sprintf("transformation failed: calls nested more than %d deep", maxCallStack)}
		}
		var te *Error
		if !errors.As(err, &te) {
			err = &Error{Msg: "transformation failed: " + err.Error()}
		}
		return nil, logs.String(), err
	}
	return out, logs.String(), nil
}

func (r *Runner) run(vm *goja.Runtime, p *Program, req *Request) (*Request, error) {
	fv, err := vm.RunProgram(p.prog)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(fv)
	if !ok {
		return nil, &Error{Msg: "transformation failed: the code is not a function"}
	}
	in, err := req.toJS(vm)
	if err != nil {
		return nil, err
	}
	res, err := fn(goja.Undefined(), in)
	if err != nil {
		return nil, err
	}
	if goja.IsNull(res) || goja.IsUndefined(res) {
		return nil, nil
	}
	return fromJS(vm, res, req, r.cfg.MaxOutputBytes)
}

// watch interrupts vm when the run outlives its time limit, grows the heap
// past the memory limit, or ctx ends. The returned func stops watching.
func (r *Runner) watch(ctx context.Context, vm *goja.Runtime) func() {
	done := make(chan struct{})
	exited := make(chan struct{})
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	base := heapBytes(sample)
	go func() {
		defer close(exited)
		deadline := time.NewTimer(r.cfg.Timeout)
		defer deadline.Stop()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				vm.Interrupt(ctx.Err())
				return
			case <-deadline.C:
				vm.Interrupt(ErrTimeout)
				return
			case <-tick.C:
				metrics.Read(sample)
				if h := heapBytes(sample); h > base && h-base > r.cfg.MemoryLimit {
					vm.Interrupt(ErrMemory)
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

func heapBytes(s []metrics.Sample) uint64 {
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
