package broadcast_test

import (
	"testing"

	"github.com/volleyhq/volley/internal/broadcast"
)

func TestSignalWakesEveryWaiterOnce(t *testing.T) {
	t.Parallel()
	var s broadcast.Signal
	s.Notify() // nobody waits: nothing to do, nothing kept
	a, b := s.Wait(), s.Wait()
	select {
	case <-a:
		t.Fatal("woken before Notify")
	default:
	}
	s.Notify()
	<-a
	<-b
	c := s.Wait()
	select {
	case <-c:
		t.Fatal("a wait after Notify is woken by it")
	default:
	}
}
