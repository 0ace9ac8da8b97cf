//go:build !unix

package main

import "errors"

// diskSpace is not implemented off Unix: doctor says it could not check.
func diskSpace(string) (free, total int64, err error) {
	return 0, 0, errors.New("free space is only read on Unix systems")
}
