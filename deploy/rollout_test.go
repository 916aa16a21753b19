package deploy

import (
	"sync"
	"testing"
)

// TestRollout checks what a production rollout on Code Engine relies on: the image (image_test.go) and replicas
// behind a load balancer (replicas_test.go). Both mostly wait, on podman and on token lifetimes and restarts, so
// they run side by side, from goroutines rather than as parallel subtests: together they hold one of the test
// run's parallel slots, and the script tests have the others.
func TestRollout(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	wg.Go(func() { t.Run("image", testImage) })
	wg.Go(func() { t.Run("replicas", testReplicas) })
	wg.Wait()
}
